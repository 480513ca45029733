"""API writes ask the web's Permission for the caller: a client-side member signed in to the web app (session +
X-MLS-Organization) cannot write the provider's SLA inputs through the API either — 403, before anything is read or
written — while the provider's account manager and the owner can; the upsert entry points refuse the same roles."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied

from mls.enums import Role
from mls.models import AuditEvent
from scheduling.imports import SHEETS, import_csv, import_records
from scheduling.models import Attendance, Completion, Enrollment, Learner, Session, SupportTicket, XapiStatement
from tests.factories import api_token
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory
from tests.factories.slas import enrollment, session

pytestmark = pytest.mark.integration

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLIENT_SIDE = [Role.VIEWER, Role.PROCUREMENT, Role.LD_DIRECTOR]
DELIVERY_KINDS = ("sessions", "enrollments", "completions", "tickets")
XAPI_COMPLETED = {
    "actor": {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"objectType": "Activity", "id": "https://lms.example.com/courses/C001"},
    "result": {"completion": True},
    "timestamp": "2026-03-02T12:00:00Z",
}


def example(kind: str) -> dict[str, str]:
    return dict(zip(SHEETS[kind].all_columns, SHEETS[kind].example, strict=True))


@pytest.fixture
def delivery(client, tenant_a):
    """What the examples of every delivery sheet refer to: the engagement, course C001, learner L-1001 (Ada) and
    session S-2001; and a past enrollment to take attendance for."""
    engagement = EngagementFactory(
        organization=tenant_a.organization, provider=tenant_a.provider, name="Managed learning 2026"
    )
    CourseFactory(organization=tenant_a.organization, code="C001")
    owner = {"HTTP_AUTHORIZATION": f"Token {api_token(tenant_a)}"}
    for kind in ("learners", "sessions"):
        assert (
            client.post(f"/api/v1/{kind}/", example(kind), content_type="application/json", **owner).status_code == 201
        )
    with tenant_a.scope():
        learner = Learner.objects.get()
        learner.email = "ada@example.com"
        learner.save()
        return enrollment(session(engagement, starts_at=MARCH), MARCH, learner_=learner)


def signed_in(client, tenant, role: str) -> dict[str, str]:
    client.force_login(tenant.user(role))
    return {"HTTP_X_MLS_ORGANIZATION": tenant.organization.slug}


def counts(tenant) -> dict[str, int]:
    with tenant.scope():
        return {
            model.__name__: model.objects.count()
            for model in (Session, Enrollment, Completion, SupportTicket, Attendance, XapiStatement, AuditEvent)
        }


def writes(client, headers: dict[str, str], attendance_for: Enrollment) -> dict[str, int]:
    """Status of one valid write of each delivery resource: upsert, bulk, attendance and xAPI."""
    statuses = {
        kind: client.post(f"/api/v1/{kind}/", example(kind), content_type="application/json", **headers).status_code
        for kind in DELIVERY_KINDS
    }
    statuses |= {
        f"{kind}/bulk": client.post(
            f"/api/v1/{kind}/bulk/", [example(kind)], content_type="application/json", **headers
        ).status_code
        for kind in DELIVERY_KINDS
    }
    statuses["attendance"] = client.post(
        "/api/v1/attendance/", {"enrollment": attendance_for.pk, "present": True}, content_type="application/json",
        **headers,
    ).status_code  # fmt: skip
    statuses["xapi"] = client.post(
        "/api/v1/xapi/statements", XAPI_COMPLETED, content_type="application/json",
        HTTP_X_EXPERIENCE_API_VERSION="1.0.3", **headers,
    ).status_code  # fmt: skip
    return statuses


@pytest.mark.parametrize("role", CLIENT_SIDE)
def test_client_side_member_cannot_write_delivery_through_the_api_and_nothing_is_written(
    client, tenant_a, delivery, role
):
    headers = signed_in(client, tenant_a, role)
    before = counts(tenant_a)

    statuses = writes(client, headers, delivery)

    assert statuses == dict.fromkeys(statuses, 403)
    assert counts(tenant_a) == before


def test_the_providers_manager_writes_the_same_delivery_through_the_api(client, tenant_a, delivery):
    headers = signed_in(client, tenant_a, Role.PROVIDER_MANAGER)

    statuses = writes(client, headers, delivery)

    # Session S-2001 is the fixture's, and the bulk calls upsert what the single calls created: 200, unchanged.
    assert statuses == {
        **dict.fromkeys(DELIVERY_KINDS, 201),
        "sessions": 200,
        **{f"{kind}/bulk": 200 for kind in DELIVERY_KINDS},
        "attendance": 201,
        "xapi": 200,
    }


@pytest.mark.parametrize("role", CLIENT_SIDE)
def test_client_side_member_cannot_write_learners_which_only_importers_create(client, tenant_a, role):
    headers = signed_in(client, tenant_a, role)

    response = client.post("/api/v1/learners/", example("learners"), content_type="application/json", **headers)

    assert response.status_code == 403
    with tenant_a.scope():
        assert Learner.objects.count() == 0


@pytest.mark.parametrize("role", CLIENT_SIDE)
@pytest.mark.parametrize("kind", DELIVERY_KINDS)
def test_upsert_entry_points_refuse_a_role_without_the_sheets_permission_before_reading_a_row(tenant_a, role, kind):
    with tenant_a.scope():
        with pytest.raises(PermissionDenied):
            import_records(
                kind=kind, organization=tenant_a.organization, records=[{}], membership=tenant_a.members[role]
            )
        with pytest.raises(PermissionDenied):
            import_csv(kind=kind, organization=tenant_a.organization, text="not,a,sheet\n", actor=tenant_a.user(role))
        assert AuditEvent.objects.count() == 0


def test_csv_import_without_a_member_is_refused(tenant_a):
    with tenant_a.scope(), pytest.raises(PermissionDenied):
        import_csv(kind="learners", organization=tenant_a.organization, text="external_id\n", actor=None)
