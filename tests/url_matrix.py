"""The route registry for access tests: every URL pattern must be listed here, or the tests fail.

Organization routes (`/o/<organization_slug>/...`) list which roles may use them and how to build their other
URL arguments from a `Tenant`; everything else is listed as a non-tenant route with the reason it is outside.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.urls import URLPattern, URLResolver, get_resolver

from certificates.models import Certificate
from mls.enums import Role
from scheduling.models import Completion, ComplianceAssignment

ALL_ROLES = frozenset(Role.values)
CLIENT_ROLES = ALL_ROLES - {Role.PROVIDER_MANAGER}
OWNER_ONLY = frozenset({Role.OWNER})
CONTRACT_MANAGERS = frozenset({Role.OWNER, Role.LD_DIRECTOR, Role.PROCUREMENT})
CHANGE_PROPOSERS = CONTRACT_MANAGERS | {Role.PROVIDER_MANAGER}
DELIVERY_WRITERS = frozenset({Role.OWNER, Role.PROVIDER_MANAGER})  # Permission.LOG_DELIVERY
IMPORTERS = frozenset({Role.OWNER, Role.PROVIDER_MANAGER})  # Permission.IMPORT_DATA
PROVIDER_ONLY = frozenset({Role.PROVIDER_MANAGER})
VENDOR_KEEPERS = frozenset({Role.OWNER, Role.PROCUREMENT, Role.PROVIDER_MANAGER})  # a provider: its own only
COURSE_KEEPERS = frozenset({Role.OWNER, Role.LD_DIRECTOR, Role.PROVIDER_MANAGER})  # Permission.MANAGE_COURSES
# Outcome values: the provider (LOG_DELIVERY) or the client (MANAGE_SLAS) submits; the other side reviews, so the
# provider-submitted fixture value is reviewed client-side only.
OUTCOME_REPORTERS = frozenset({Role.OWNER, Role.LD_DIRECTOR, Role.PROCUREMENT, Role.PROVIDER_MANAGER})
OUTCOME_REVIEWERS = OUTCOME_REPORTERS - {Role.PROVIDER_MANAGER}
PROVIDER_KEEPERS = frozenset({Role.OWNER, Role.PROCUREMENT})  # Permission.MANAGE_PROVIDERS
COMPLIANCE_DEFINERS = frozenset({Role.OWNER, Role.LD_DIRECTOR})
COMPLIANCE_ASSIGNERS = frozenset({Role.OWNER, Role.LD_DIRECTOR, Role.PROVIDER_MANAGER})  # Permission.ASSIGN_COMPLIANCE
SLA_MANAGERS = frozenset({Role.OWNER, Role.LD_DIRECTOR, Role.PROCUREMENT})  # Permission.MANAGE_SLAS
CLIENT_APPROVERS = frozenset({Role.OWNER, Role.LD_DIRECTOR})  # decide relief; review what the provider submitted
TICKET_ANSWERERS = ALL_ROLES - {Role.VIEWER}  # Permission.ANSWER_TICKETS
COMMERCIAL_READERS = CLIENT_ROLES  # Permission.VIEW_COMMERCIALS: fee statements and QBRs are client-side
GET, POST = ("GET",), ("POST",)


@dataclass(frozen=True)
class OrganizationRoute:
    """Who may use a route of their own organization, and how to build its URL from a tests.conftest.Tenant."""

    allowed_roles: frozenset[str]
    kwargs: Callable[[object], dict[str, object]] = field(default=lambda tenant: {})
    methods: tuple[str, ...] = ("GET", "POST")
    ok: int = 200  # status of a GET by an allowed role
    names_tenant_object: bool = True  # False where the URL's arguments are not tenant rows (e.g. a template kind)
    hidden_from: frozenset[str] = frozenset()  # roles that may use the route but not see this object: 404

    def first_allowed_role(self) -> str:
        return sorted(self.allowed_roles)[0]


def _version(tenant: object) -> dict[str, object]:
    return {"pk": tenant.contract.signed_version.pk}


def _session(tenant: object) -> dict[str, object]:
    return {"pk": tenant.contract.session.pk}


def _statement(tenant: object) -> dict[str, object]:
    return {"pk": tenant.contract.sow.pk, "month": "2026-03"}


def _assignment(tenant: object) -> dict[str, object]:
    """A compliance assignment of the contract's learner (the signed contract has none), made on first use."""
    with tenant.scope():
        assignment, _ = ComplianceAssignment.objects.get_or_create(
            organization=tenant.organization,
            requirement=tenant.contract.requirement,
            learner_id=tenant.contract.enrollment.learner_id,
            due_on=date(2026, 6, 30),
        )
    return {"pk": assignment.pk}


def _completion(tenant: object) -> dict[str, object]:
    """A completion of the contract's learner at its session (the signed contract has none), made on first use."""
    with tenant.scope():
        completion, _ = Completion.objects.get_or_create(
            organization=tenant.organization,
            learner_id=tenant.contract.enrollment.learner_id,
            course=tenant.contract.session.course,
            session=tenant.contract.session,
            completed_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        )
    return {"pk": completion.pk}


def _certificate(tenant: object) -> dict[str, object]:
    """A certificate of that completion, made on first use (as a row: the URL builder writes no audit event)."""
    completion_id = _completion(tenant)["pk"]
    with tenant.scope():
        completion = Completion.objects.select_related("learner", "course").get(pk=completion_id)
        certificate, _ = Certificate.objects.get_or_create(
            organization=tenant.organization,
            completion=completion,
            defaults={
                "code": "MATRIX" * 4,
                "learner": completion.learner,
                "course": completion.course,
                "completed_at": completion.completed_at,
                "learner_name": completion.learner.name,
                "course_code": completion.course.code,
                "course_title": completion.course.title,
                "duration_hours": completion.course.duration_hours,
                "organization_name": tenant.organization.name,
                "completed_on": date(2026, 3, 2),
                "timezone": "Europe/London",
            },
        )
    return {"pk": certificate.pk}


def _proposal(tenant: object) -> dict[str, object]:
    return {"pk": tenant.contract.change_request.proposed_version_id}


ORGANIZATION_ROUTES: dict[str, OrganizationRoute] = {
    "reporting:dashboard": OrganizationRoute(ALL_ROLES, methods=GET),
    "reporting:engagement": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.engagement.pk}, methods=GET),
    "reporting:qbrs": OrganizationRoute(COMMERCIAL_READERS, methods=GET),
    "reporting:qbr_row": OrganizationRoute(COMMERCIAL_READERS, lambda t: {"pk": t.qbr.pk}, methods=GET),
    "reporting:qbr_download": OrganizationRoute(COMMERCIAL_READERS, lambda t: {"pk": t.qbr.pk}, methods=GET),
    "reporting:qbr_regenerate": OrganizationRoute(CONTRACT_MANAGERS, lambda t: {"pk": t.qbr.pk}),
    "reporting:qbr_draft": OrganizationRoute(
        COMMERCIAL_READERS, lambda t: {"pk": t.contract.engagement.pk}, methods=GET
    ),
    "reporting:statements": OrganizationRoute(COMMERCIAL_READERS, methods=GET),
    "reporting:statement": OrganizationRoute(COMMERCIAL_READERS, _statement, methods=GET),
    "reporting:statement_pdf": OrganizationRoute(COMMERCIAL_READERS, _statement, methods=GET),
    "reporting:statement_csv": OrganizationRoute(COMMERCIAL_READERS, _statement, methods=GET),
    "org:settings": OrganizationRoute(OWNER_ONLY),
    "org:members": OrganizationRoute(OWNER_ONLY),
    "org:member_edit": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.members[Role.VIEWER].pk}),
    "org:member_remove": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.members[Role.VIEWER].pk}),
    "org:invitation_revoke": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.invitation.pk}),
    "org:webhooks": OrganizationRoute(OWNER_ONLY, methods=GET),
    "org:webhook_create": OrganizationRoute(OWNER_ONLY),
    "org:webhook": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.webhook_delivery.endpoint_id}, methods=GET),
    "org:webhook_edit": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.webhook_delivery.endpoint_id}),
    "org:webhook_delete": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.webhook_delivery.endpoint_id}),
    "org:webhook_roll_secret": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.webhook_delivery.endpoint_id}),
    "org:webhook_ping": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.webhook_delivery.endpoint_id}, methods=POST),
    "org:webhook_redeliver": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.webhook_delivery.pk}, methods=POST),
    "org:api_tokens": OrganizationRoute(OWNER_ONLY),
    "org:api_token_revoke": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.api_token.pk}),
    "org:audit_log": OrganizationRoute(CLIENT_ROLES, methods=GET),
    # CSV exports: every role, a provider manager gets its provider's rows (tests/reporting/test_exports.py).
    "reporting:exports": OrganizationRoute(ALL_ROLES, methods=GET),
    "reporting:export_csv": OrganizationRoute(
        ALL_ROLES, lambda t: {"kind": "sessions"}, methods=GET, names_tenant_object=False
    ),
    "reporting:data_export_request": OrganizationRoute(OWNER_ONLY),
    "reporting:data_export": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.contract.data_export.pk}, methods=GET),
    "reporting:data_export_download": OrganizationRoute(
        OWNER_ONLY, lambda t: {"pk": t.contract.data_export.pk}, methods=GET
    ),
    "org:notifications": OrganizationRoute(ALL_ROLES),
    "engagements:list": OrganizationRoute(ALL_ROLES, methods=GET),
    "engagements:create": OrganizationRoute(CONTRACT_MANAGERS),
    "engagements:detail": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.engagement.pk}, methods=GET),
    "engagements:edit": OrganizationRoute(CONTRACT_MANAGERS, lambda t: {"pk": t.contract.engagement.pk}),
    "engagements:save_as_template": OrganizationRoute(CONTRACT_MANAGERS, lambda t: {"pk": t.contract.engagement.pk}),
    "engagements:sow_create": OrganizationRoute(CONTRACT_MANAGERS, lambda t: {"pk": t.contract.engagement.pk}),
    "engagements:version": OrganizationRoute(ALL_ROLES, _version, methods=GET),
    "engagements:version_diff": OrganizationRoute(
        ALL_ROLES, lambda t: {**_version(t), "other_pk": t.contract.change_request.proposed_version_id}, methods=GET
    ),
    # The proposal is the provider's draft: only its side edits it.
    "engagements:version_terms": OrganizationRoute(PROVIDER_ONLY, _proposal, methods=POST),
    "engagements:scope_item_save": OrganizationRoute(PROVIDER_ONLY, _proposal, methods=POST),
    "engagements:service_line_add": OrganizationRoute(PROVIDER_ONLY, _proposal, methods=POST),
    "engagements:version_sign": OrganizationRoute(CONTRACT_MANAGERS, _version, methods=POST),
    "engagements:row_remove": OrganizationRoute(
        PROVIDER_ONLY,
        lambda t: {"kind": "scope", "pk": t.contract.proposal_scope_item.pk},
    ),
    "engagements:change_request_create": OrganizationRoute(CHANGE_PROPOSERS, lambda t: {"pk": t.contract.sow.pk}),
    "engagements:change_request": OrganizationRoute(
        ALL_ROLES, lambda t: {"pk": t.contract.change_request.pk}, methods=GET, ok=302
    ),
    "engagements:meeting_create": OrganizationRoute(CHANGE_PROPOSERS, lambda t: {"pk": t.contract.engagement.pk}),
    "engagements:meeting": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.meeting.pk}, methods=GET),
    "engagements:meeting_minutes": OrganizationRoute(
        CHANGE_PROPOSERS, lambda t: {"pk": t.contract.meeting.pk}, methods=POST
    ),
    "engagements:meeting_action_add": OrganizationRoute(
        CHANGE_PROPOSERS, lambda t: {"pk": t.contract.meeting.pk}, methods=POST
    ),
    "engagements:meeting_action_done": OrganizationRoute(
        CHANGE_PROPOSERS, lambda t: {"pk": t.contract.action.pk}, methods=POST
    ),
    "engagements:disputes": OrganizationRoute(ALL_ROLES, methods=GET),
    "engagements:dispute_create": OrganizationRoute(CHANGE_PROPOSERS, lambda t: {"pk": t.contract.engagement.pk}),
    "engagements:dispute": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.dispute.pk}, methods=GET),
    "engagements:dispute_escalate": OrganizationRoute(
        CHANGE_PROPOSERS, lambda t: {"pk": t.contract.dispute.pk}, methods=POST
    ),
    "engagements:dispute_close": OrganizationRoute(
        CHANGE_PROPOSERS, lambda t: {"pk": t.contract.dispute.pk}, methods=POST
    ),
    # Outcome values: the provider's manager or the client's SLA managers submit; the other side reviews. The
    # route objects' value was submitted by the provider, so the client's SLA managers review it.
    "engagements:outcomes": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.outcome.engagement_id}, methods=GET),
    "engagements:outcome_create": OrganizationRoute(
        SLA_MANAGERS | {Role.PROVIDER_MANAGER}, lambda t: {"pk": t.outcome.engagement_id}
    ),
    "engagements:outcome_verify": OrganizationRoute(SLA_MANAGERS, lambda t: {"pk": t.outcome.pk}),
    "engagements:outcome_reject": OrganizationRoute(SLA_MANAGERS, lambda t: {"pk": t.outcome.pk}),
    "engagements:contract_review": OrganizationRoute(CLIENT_ROLES),
    # Everyone reads price indices; writing them is checked in tests/engagements/test_governance_views.py.
    "engagements:index_series": OrganizationRoute(ALL_ROLES),
    "engagements:index_series_detail": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.index_series.pk}),
    "scheduling:sessions": OrganizationRoute(ALL_ROLES, methods=GET),
    "scheduling:session_calendar": OrganizationRoute(ALL_ROLES, methods=GET),
    "scheduling:session_create": OrganizationRoute(DELIVERY_WRITERS),
    "scheduling:session": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.session.pk}, methods=GET),
    "scheduling:session_cancel": OrganizationRoute(DELIVERY_WRITERS, _session, methods=POST),
    "scheduling:session_reschedule": OrganizationRoute(DELIVERY_WRITERS, _session, methods=POST),
    "scheduling:session_enroll": OrganizationRoute(DELIVERY_WRITERS, _session, methods=POST),
    "scheduling:session_learners": OrganizationRoute(DELIVERY_WRITERS, _session, methods=GET),
    "scheduling:session_attendance": OrganizationRoute(DELIVERY_WRITERS, _session, methods=POST),
    "scheduling:session_completions": OrganizationRoute(DELIVERY_WRITERS, _session, methods=POST),
    "scheduling:session_feedback": OrganizationRoute(DELIVERY_WRITERS, _session, methods=POST),
    "scheduling:session_action": OrganizationRoute(
        DELIVERY_WRITERS, lambda t: {**_session(t), "action": "confirm"}, methods=POST
    ),
    "scheduling:session_ics": OrganizationRoute(ALL_ROLES, _session, methods=GET),
    "scheduling:learner_ics": OrganizationRoute(
        ALL_ROLES, lambda t: {"pk": t.contract.enrollment.learner_id}, methods=GET
    ),
    "scheduling:learners": OrganizationRoute(ALL_ROLES, methods=GET),
    "scheduling:learner": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.enrollment.learner_id}, methods=GET),
    "scheduling:learner_attempt": OrganizationRoute(
        DELIVERY_WRITERS, lambda t: {"pk": t.contract.enrollment.learner_id}, methods=POST
    ),
    "scheduling:learner_assign": OrganizationRoute(
        COMPLIANCE_ASSIGNERS, lambda t: {"pk": t.contract.enrollment.learner_id}, methods=POST
    ),
    "scheduling:assignment_complete": OrganizationRoute(COMPLIANCE_ASSIGNERS, _assignment, methods=POST),
    "scheduling:tickets": OrganizationRoute(ALL_ROLES),
    "scheduling:ticket": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.ticket.pk}),
    # The conversation: both sides reply, assign, resolve/close/reopen (Permission.ANSWER_TICKETS); viewers read.
    "scheduling:ticket_reply": OrganizationRoute(
        TICKET_ANSWERERS, lambda t: {"pk": t.contract.ticket.pk}, methods=POST
    ),
    "scheduling:ticket_status": OrganizationRoute(
        TICKET_ANSWERERS, lambda t: {"pk": t.contract.ticket.pk}, methods=POST
    ),
    "scheduling:ticket_assign": OrganizationRoute(
        TICKET_ANSWERERS, lambda t: {"pk": t.contract.ticket.pk}, methods=POST
    ),
    "scheduling:outages": OrganizationRoute(ALL_ROLES),
    "scheduling:outage_edit": OrganizationRoute(DELIVERY_WRITERS, lambda t: {"pk": t.contract.outage.pk}),
    "scheduling:courses": OrganizationRoute(ALL_ROLES),
    "scheduling:course": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.session.course_id}),
    "scheduling:course_edit": OrganizationRoute(COURSE_KEEPERS, lambda t: {"pk": t.contract.session.course_id}),
    "scheduling:compliance": OrganizationRoute(ALL_ROLES, methods=GET),
    "scheduling:compliance_report": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.requirement.pk}),
    "vendors:providers": OrganizationRoute(ALL_ROLES, methods=GET),
    "vendors:provider_create": OrganizationRoute(PROVIDER_KEEPERS),
    "vendors:provider_edit": OrganizationRoute(PROVIDER_KEEPERS, lambda t: {"pk": t.provider.pk}),
    "vendors:provider_invite": OrganizationRoute(PROVIDER_KEEPERS, lambda t: {"pk": t.provider.pk}),
    "vendors:suppliers": OrganizationRoute(ALL_ROLES, methods=GET),
    "vendors:supplier_create": OrganizationRoute(VENDOR_KEEPERS),
    "vendors:supplier_edit": OrganizationRoute(VENDOR_KEEPERS, lambda t: {"pk": t.contract.supplier.pk}),
    "vendors:instructor_create": OrganizationRoute(VENDOR_KEEPERS),
    "vendors:instructor": OrganizationRoute(VENDOR_KEEPERS, lambda t: {"pk": t.contract.instructor.pk}),
    "vendors:qualification_add": OrganizationRoute(
        VENDOR_KEEPERS, lambda t: {"pk": t.contract.instructor.pk}, methods=POST
    ),
    "vendors:qualification_remove": OrganizationRoute(VENDOR_KEEPERS, lambda t: {"pk": t.contract.qualification.pk}),
    "scheduling:venues": OrganizationRoute(ALL_ROLES, methods=GET),
    "scheduling:venue_create": OrganizationRoute(DELIVERY_WRITERS),
    "scheduling:venue_edit": OrganizationRoute(DELIVERY_WRITERS, lambda t: {"pk": t.contract.venue.pk}),
    "scheduling:room_create": OrganizationRoute(DELIVERY_WRITERS, lambda t: {"pk": t.contract.venue.pk}),
    "scheduling:room_edit": OrganizationRoute(DELIVERY_WRITERS, lambda t: {"pk": t.contract.room.pk}),
    "scheduling:requirement_create": OrganizationRoute(COMPLIANCE_DEFINERS),
    "scheduling:requirement_edit": OrganizationRoute(COMPLIANCE_DEFINERS, lambda t: {"pk": t.contract.requirement.pk}),
    "scheduling:imports": OrganizationRoute(IMPORTERS),
    "scheduling:import_template": OrganizationRoute(
        ALL_ROLES, lambda t: {"kind": "learners"}, methods=GET, names_tenant_object=False
    ),
    # The contract's job was uploaded by the provider's manager: the client's importers do not see it.
    "scheduling:import_job": OrganizationRoute(
        PROVIDER_ONLY, lambda t: {"pk": t.contract.import_job.pk}, methods=GET, hidden_from=OWNER_ONLY
    ),
    "scheduling:import_start": OrganizationRoute(
        PROVIDER_ONLY, lambda t: {"pk": t.contract.import_job.pk}, methods=POST, hidden_from=OWNER_ONLY
    ),
    "scheduling:import_batch": OrganizationRoute(
        PROVIDER_ONLY, lambda t: {"batch": t.contract.import_batch}, methods=GET, hidden_from=OWNER_ONLY
    ),
    "scheduling:import_batch_start": OrganizationRoute(
        PROVIDER_ONLY, lambda t: {"batch": t.contract.import_batch}, methods=POST, hidden_from=OWNER_ONLY
    ),
    "scheduling:enrollment_cancel": OrganizationRoute(
        DELIVERY_WRITERS, lambda t: {"pk": t.contract.enrollment.pk}, methods=POST
    ),
    "engagements:change_request_action": OrganizationRoute(
        CHANGE_PROPOSERS, lambda t: {"pk": t.contract.change_request.pk, "action": "withdraw"}
    ),
    "slas:engagement": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.engagement.pk}, methods=GET),
    "slas:list": OrganizationRoute(ALL_ROLES, methods=GET),
    "slas:measurement": OrganizationRoute(ALL_ROLES, lambda t: {"pk": t.contract.measurement.pk}, methods=GET),
    "slas:schedule": OrganizationRoute(SLA_MANAGERS, lambda t: {"pk": t.contract.engagement.pk}),
    "slas:target_create": OrganizationRoute(SLA_MANAGERS, lambda t: {"pk": t.contract.engagement.pk}),
    "slas:target_edit": OrganizationRoute(SLA_MANAGERS, lambda t: {"pk": t.contract.sla_target.pk}),
    "slas:compute": OrganizationRoute(SLA_MANAGERS, lambda t: {"pk": t.contract.engagement.pk}, methods=POST),
    "slas:relief_create": OrganizationRoute(CHANGE_PROPOSERS, lambda t: {"pk": t.contract.engagement.pk}),
    "slas:escalations": OrganizationRoute(ALL_ROLES, methods=GET),
    # The provider answers the contract's open notice; the client's approvers close it.
    "slas:escalation_respond": OrganizationRoute(PROVIDER_ONLY, lambda t: {"pk": t.contract.escalation.pk}),
    "slas:escalation_plan": OrganizationRoute(PROVIDER_ONLY, lambda t: {"pk": t.contract.escalation.pk}),
    "slas:escalation_close": OrganizationRoute(CLIENT_APPROVERS, lambda t: {"pk": t.contract.escalation.pk}),
    "slas:relief_decide": OrganizationRoute(
        CLIENT_APPROVERS, lambda t: {"pk": t.contract.relief.pk, "decision": "approve"}
    ),
    "slas:manual_create": OrganizationRoute(CHANGE_PROPOSERS, lambda t: {"pk": t.contract.engagement.pk}),
    # The contract's manual value was submitted by the provider: the client's approvers review it.
    "slas:manual_verify": OrganizationRoute(CLIENT_APPROVERS, lambda t: {"pk": t.contract.manual_measurement.pk}),
    "slas:manual_dispute": OrganizationRoute(CLIENT_APPROVERS, lambda t: {"pk": t.contract.manual_measurement.pk}),
    "slas:manual_evidence": OrganizationRoute(
        ALL_ROLES, lambda t: {"pk": t.contract.manual_measurement.pk}, methods=GET
    ),
    # Whoever reads the completion downloads its certificate (a provider manager: its engagements' only).
    "certificates:download": OrganizationRoute(ALL_ROLES, _completion, methods=GET),
    "certificates:revoke": OrganizationRoute(DELIVERY_WRITERS, _certificate),
    # Learner communications: the logs read like the learner and session pages; the wording is the owner's.
    "communications:learner_messages": OrganizationRoute(
        ALL_ROLES, lambda t: {"pk": t.contract.enrollment.learner_id}, methods=GET
    ),
    "communications:learner_preferences": OrganizationRoute(
        IMPORTERS, lambda t: {"pk": t.contract.enrollment.learner_id}, methods=POST
    ),
    "communications:session_messages": OrganizationRoute(ALL_ROLES, _session, methods=GET),
    "communications:settings": OrganizationRoute(OWNER_ONLY),
    "communications:template": OrganizationRoute(
        OWNER_ONLY, lambda t: {"kind": "reminder", "language": "de"}, names_tenant_object=False
    ),
}

# Routes outside any organization, by name or by URL prefix, with why they are not tenant routes.
NON_TENANT_ROUTES: dict[str, str] = {
    "home": "redirects to one of the user's own organizations",
    "organization_list": "lists only the user's own organizations",
    "organization_create": "creates a new organization owned by the user",
    "invitation_accept": "signed token names the tenant; checked against the invited email",
    "verification:certificate": "public certificate check: the code names the tenant (its id and a random secret) "
    "and only that scope is entered",
    # The learner portal: learners are not members; the learner's session (or the link's or feed's secret) names
    # the tenant. Every portal route is also in LEARNER_ROUTES below (tests/portal/test_access.py).
    "portal:home": "learner portal: the signed-in learner's own rows",
    "portal:sign_in": "learner portal: asks for an email, answers the same whether it is known",
    "portal:link": "learner portal: the link's secret names the tenant and the learner",
    "portal:sign_out": "learner portal: ends the learner's session",
    "portal:session_ics": "learner portal: one of the signed-in learner's own sessions",
    "portal:certificate": "learner portal: the certificate of one of the signed-in learner's own completions",
    "portal:calendar_feed_issue": "learner portal: the signed-in learner's own feed",
    "portal:calendar_feed_revoke": "learner portal: the signed-in learner's own feed",
    "portal:calendar_feed": "learner portal: the feed's secret names the tenant and the learner",
    "surveys:answer": "a learner's post-session survey, no login: the signed link names the tenant and enrollment",
    "set_language": "Django's language switcher: the visitor's own cookie (and a member's own User.language)",
}
NON_TENANT_PREFIXES: dict[str, str] = {
    "accounts/": "allauth: the user's own account, MFA and password",
    "api/v1/": "REST API: the tenant comes from the credential, not the URL; every route is in API_ROUTES below",
    "admin/": "platform operators only (is_staff), cross-tenant by design",
}


@dataclass(frozen=True)
class Route:
    route: str
    name: str


def all_routes() -> list[Route]:
    """Every URL pattern of the project, with its full route string and namespaced name."""
    found: list[Route] = []

    def walk(patterns: list, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                found.append(Route(prefix + str(p.pattern), f"{namespace}{p.name}" if p.name else ""))

    walk(get_resolver().url_patterns, "", "")
    return found


def organization_route_names() -> list[str]:
    return sorted({r.name for r in all_routes() if "<slug:organization_slug>" in r.route})


def object_route_names() -> list[str]:
    """Organization routes whose URL also names a tenant row (`<int:pk>` etc.): the foreign-object tests."""
    return sorted(
        {
            r.name
            for r in all_routes()
            if "<slug:organization_slug>" in r.route
            and r.route.count("<") > 1
            and ORGANIZATION_ROUTES.get(r.name, OrganizationRoute(ALL_ROLES)).names_tenant_object
        }
    )


# --- REST API (/api/v1/) ---------------------------------------------------------------------------------
# Every API route by name: how to build its URL arguments from a Tenant (None: the route names no tenant row),
# and whether it writes. tests/api/test_isolation.py requires every route under api/v1/ to be listed here.
# `t.api` is tests.factories.api.ApiObjects: rows the signed contract does not have.


@dataclass(frozen=True)
class ApiRoute:
    kwargs: Callable[[object], dict[str, object]] | None = None  # None: a collection or a document
    writes: bool = False  # answers POST (a read token gets 403)
    methods: tuple[str, ...] = ("GET",)  # what an object route answers (others are 405 before any lookup)
    document: bool = False  # answers a file (e.g. a PDF), not the object as JSON
    # Who may write here: the same role set as the web route making the same write (403 for everyone else).
    writers: frozenset[str] | None = None

    @property
    def write_methods(self) -> tuple[str, ...]:
        return ("POST",) * self.writes + tuple(m for m in self.methods if m not in ("GET", "POST"))


API_ROUTES: dict[str, ApiRoute] = {
    "api:schema": ApiRoute(),
    "api:docs": ApiRoute(),
    "api:redoc": ApiRoute(),
    "api:engagement-list": ApiRoute(writes=True, writers=CONTRACT_MANAGERS),
    "api:engagement-detail": ApiRoute(
        lambda t: {"pk": t.contract.engagement.pk}, methods=("GET", "PATCH"), writers=CONTRACT_MANAGERS
    ),
    "api:sow-list": ApiRoute(writes=True, writers=CONTRACT_MANAGERS),
    "api:sow-detail": ApiRoute(
        lambda t: {"pk": t.contract.sow.pk}, methods=("GET", "PATCH"), writers=CONTRACT_MANAGERS
    ),
    "api:sow-service-lines": ApiRoute(
        lambda t: {"pk": t.contract.sow.pk}, writes=True, methods=("POST",), writers=CONTRACT_MANAGERS
    ),
    "api:sow-scope-items": ApiRoute(
        lambda t: {"pk": t.contract.sow.pk}, writes=True, methods=("POST",), writers=CONTRACT_MANAGERS
    ),
    "api:sow-sign": ApiRoute(
        lambda t: {"pk": t.contract.sow.pk}, writes=True, methods=("POST",), writers=CONTRACT_MANAGERS
    ),
    "api:change-request-list": ApiRoute(),
    "api:change-request-detail": ApiRoute(lambda t: {"pk": t.contract.change_request.pk}),
    "api:provider-list": ApiRoute(writes=True, writers=PROVIDER_KEEPERS),
    "api:provider-detail": ApiRoute(
        lambda t: {"pk": t.provider.pk}, methods=("GET", "PATCH"), writers=PROVIDER_KEEPERS
    ),
    "api:supplier-list": ApiRoute(),
    "api:supplier-detail": ApiRoute(lambda t: {"pk": t.contract.supplier.pk}),
    "api:instructor-list": ApiRoute(),
    "api:instructor-detail": ApiRoute(lambda t: {"pk": t.contract.instructor.pk}),
    "api:course-list": ApiRoute(writes=True, writers=COURSE_KEEPERS),
    "api:course-bulk": ApiRoute(writes=True, writers=COURSE_KEEPERS),
    "api:course-detail": ApiRoute(lambda t: {"pk": t.contract.session.course.pk}),
    "api:venue-list": ApiRoute(),
    "api:venue-detail": ApiRoute(lambda t: {"pk": t.contract.venue.pk}),
    "api:session-list": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:session-bulk": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:session-detail": ApiRoute(lambda t: {"pk": t.contract.session.pk}),
    "api:learner-list": ApiRoute(writes=True, writers=IMPORTERS),
    "api:learner-bulk": ApiRoute(writes=True, writers=IMPORTERS),
    "api:learner-detail": ApiRoute(lambda t: {"pk": t.contract.enrollment.learner.pk}),
    "api:enrollment-list": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:enrollment-bulk": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:enrollment-detail": ApiRoute(lambda t: {"pk": t.contract.enrollment.pk}),
    "api:attendance-list": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:attendance-bulk": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:attendance-detail": ApiRoute(lambda t: {"pk": t.api.attendance.pk}),
    "api:completion-list": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:completion-bulk": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:completion-detail": ApiRoute(lambda t: {"pk": t.api.completion.pk}),
    "api:assessment-attempt-list": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:assessment-attempt-bulk": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:assessment-attempt-detail": ApiRoute(lambda t: {"pk": t.api.attempt.pk}),
    "api:feedback-list": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:feedback-bulk": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:feedback-detail": ApiRoute(lambda t: {"pk": t.api.feedback.pk}),
    "api:compliance-assignment-list": ApiRoute(writes=True, writers=COMPLIANCE_ASSIGNERS),
    "api:compliance-assignment-bulk": ApiRoute(writes=True, writers=COMPLIANCE_ASSIGNERS),
    "api:compliance-assignment-detail": ApiRoute(lambda t: {"pk": t.api.assignment.pk}),
    "api:ticket-list": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:ticket-bulk": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:ticket-detail": ApiRoute(lambda t: {"pk": t.contract.ticket.pk}),
    "api:ticket-status": ApiRoute(
        lambda t: {"pk": t.contract.ticket.pk}, writes=True, methods=("POST",), writers=TICKET_ANSWERERS
    ),
    "api:ticket-assign": ApiRoute(
        lambda t: {"pk": t.contract.ticket.pk}, writes=True, methods=("POST",), writers=TICKET_ANSWERERS
    ),
    "api:ticket-reply-list": ApiRoute(writes=True, writers=TICKET_ANSWERERS),
    "api:ticket-reply-detail": ApiRoute(lambda t: {"pk": t.api.reply.pk}),
    "api:outage-list": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:outage-bulk": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:outage-detail": ApiRoute(lambda t: {"pk": t.api.outage.pk}),
    "api:relief-event-list": ApiRoute(),
    "api:relief-event-detail": ApiRoute(lambda t: {"pk": t.contract.relief.pk}),
    "api:xapi-statements": ApiRoute(writes=True, writers=DELIVERY_WRITERS),
    "api:sla-schedule-list": ApiRoute(writes=True, writers=SLA_MANAGERS),
    "api:sla-schedule-detail": ApiRoute(
        lambda t: {"pk": t.contract.sla_target.schedule_id}, methods=("GET", "PATCH"), writers=SLA_MANAGERS
    ),
    "api:sla-target-list": ApiRoute(writes=True, writers=SLA_MANAGERS),
    "api:sla-target-detail": ApiRoute(
        lambda t: {"pk": t.contract.sla_target.pk}, methods=("GET", "PATCH"), writers=SLA_MANAGERS
    ),
    "api:sla-period-list": ApiRoute(),
    "api:sla-period-detail": ApiRoute(lambda t: {"pk": t.contract.measurement.period_id}),
    "api:measurement-list": ApiRoute(),
    "api:measurement-detail": ApiRoute(lambda t: {"pk": t.contract.measurement.pk}),
    "api:credit-list": ApiRoute(),
    "api:credit-detail": ApiRoute(lambda t: {"pk": t.api.credit.pk}),
    "api:escalation-list": ApiRoute(),
    "api:escalation-detail": ApiRoute(lambda t: {"pk": t.api.escalation.pk}),
    "api:outcome-measurement-list": ApiRoute(writes=True, writers=OUTCOME_REPORTERS),
    "api:outcome-measurement-detail": ApiRoute(lambda t: {"pk": t.api.outcome.pk}),
    "api:outcome-measurement-verify": ApiRoute(
        lambda t: {"pk": t.api.outcome.pk}, writes=True, methods=("POST",), writers=OUTCOME_REVIEWERS
    ),
    "api:outcome-measurement-reject": ApiRoute(
        lambda t: {"pk": t.api.outcome.pk}, writes=True, methods=("POST",), writers=OUTCOME_REVIEWERS
    ),
    "api:statement-list": ApiRoute(),  # ?sow=&month= (without them: 400)
    "api:qbr-list": ApiRoute(),
    "api:qbr-detail": ApiRoute(lambda t: {"pk": t.qbr.pk}),
    "api:qbr-pdf": ApiRoute(lambda t: {"pk": t.qbr.pk}, document=True),
    "api:webhook-list": ApiRoute(writes=True, writers=OWNER_ONLY),
    "api:webhook-detail": ApiRoute(
        lambda t: {"pk": t.webhook_delivery.endpoint_id}, methods=("GET", "PATCH", "DELETE"), writers=OWNER_ONLY
    ),
    "api:webhook-delivery-list": ApiRoute(),
    "api:webhook-delivery-detail": ApiRoute(lambda t: {"pk": t.webhook_delivery.pk}),
    "api:audit-event-list": ApiRoute(),
    "api:audit-event-detail": ApiRoute(lambda t: {"pk": t.webhook_delivery.audit_event_id}),
}


def api_route_names() -> list[str]:
    return sorted({r.name for r in all_routes() if r.route.startswith("api/v1/")})


# --- Learner portal (/learn/) ------------------------------------------------------------------------------
# Every portal route by name: how to build its URL from tests/portal/test_access.py's `PortalWorld` (learner A's
# objects), the method it is tried with, and the status each visitor gets: nobody, learner A, learner B of A's
# organization, a learner of another organization (the same email and ids nearby), and a signed-in member.
VISITORS = ("anonymous", "learner_a", "learner_b", "other_organization_learner", "member")


def _everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(VISITORS, status)


def _learners(status: int, *, learner_a: int | None = None, others: int | None = None) -> dict[str, int]:
    """Anyone but a learner is sent to the portal's sign-in (302); learners get `status` (A `learner_a`, the two
    other learners `others`, when they differ)."""
    others = status if others is None else others
    return {
        "anonymous": 302,
        "learner_a": status if learner_a is None else learner_a,
        "learner_b": others,
        "other_organization_learner": others,
        "member": 302,
    }


@dataclass(frozen=True)
class LearnerRoute:
    statuses: dict[str, int]
    kwargs: Callable[[object], dict[str, object]] = field(default=lambda world: {})
    method: str = "GET"


LEARNER_ROUTES: dict[str, LearnerRoute] = {
    "portal:home": LearnerRoute(_learners(200)),
    # A signed-in learner goes on to their portal; everyone else gets the form.
    "portal:sign_in": LearnerRoute({**_everyone(200), **dict.fromkeys(VISITORS[1:4], 302)}),
    # The secret is the credential: whoever holds A's link sees the button that signs in as A.
    "portal:link": LearnerRoute(_everyone(200), lambda w: {"token": w.link_token}),
    "portal:sign_out": LearnerRoute(_everyone(302), method="POST"),
    # A's session: B and the other organization's learner (whose own session has an id nearby) get 404.
    "portal:session_ics": LearnerRoute(_learners(404, learner_a=200), lambda w: {"pk": w.session_a.pk}),
    # A's completion: everyone else's certificate is theirs, not A's to download.
    "portal:certificate": LearnerRoute(_learners(404, learner_a=200), lambda w: {"pk": w.a.completion.pk}),
    "portal:calendar_feed_issue": LearnerRoute(_learners(200), method="POST"),
    "portal:calendar_feed_revoke": LearnerRoute(_learners(302), method="POST"),
    # A subscribable URL (no session): its secret opens A's calendar for whoever fetches it, and nothing else.
    "portal:calendar_feed": LearnerRoute(_everyone(200), lambda w: {"token": w.feed_token}),
}
