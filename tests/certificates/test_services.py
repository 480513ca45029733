"""Issuing (idempotent, superseded when the completion changes), revoking, and the facts a certificate prints."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from certificates import selectors, services
from certificates.enums import Revocation
from certificates.models import Certificate
from mls.enums import Role
from mls.models import AuditEvent
from scheduling.enums import Modality
from scheduling.models import Completion, Session
from tests.certificates.conftest import COMPLETED_AT, ISSUED_AT
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory

pytestmark = pytest.mark.unit

LATER = ISSUED_AT + timedelta(days=1)


def test_issue_certificate_freezes_the_facts_in_the_learners_zone_and_language(certified_de):
    with certified_de.tenant.scope():
        certificate = services.issue_certificate(certified_de.completion, ISSUED_AT)

        assert (
            certificate.completion,
            certificate.learner_name,
            certificate.course_code,
            certificate.course_title,
            certificate.duration_hours,
            certificate.provider_name,
            certificate.organization_name,
            certificate.completed_at,
            certificate.completed_on,  # 23:30 UTC on 2 March is 00:30 on 3 March at the Berlin venue
            certificate.timezone,
            certificate.language,
            certificate.issued_at,
        ) == (
            certified_de.completion,
            "Jürgen Weiß",
            "GDPR-2",
            "Data protection essentials",
            Decimal("3.50"),
            "Northwind Learning",
            "Acme Corp",
            COMPLETED_AT,
            datetime(2026, 3, 3).date(),
            "Europe/Berlin",
            "de",
            ISSUED_AT,
        )
        assert re.fullmatch(rf"{certified_de.tenant.organization.pk}-[A-Z2-7]{{24}}", certificate.public_code)
        assert list(AuditEvent.objects.values_list("action", "object_id")) == [
            ("certificate.issued", str(certificate.pk))
        ]


def test_the_verification_code_is_kept_out_of_the_audit_log(certified):
    with certified.tenant.scope():
        certificate = services.issue_certificate(certified.completion, ISSUED_AT)

        event = AuditEvent.objects.get()

    assert certificate.code not in str(event.after)
    assert "code" not in event.after


def test_issue_certificate_again_is_the_same_certificate(certified):
    with certified.tenant.scope():
        first = services.issue_certificate(certified.completion, ISSUED_AT)

        again = services.issue_certificate(certified.completion, LATER)

        assert (again.pk, again.code, again.issued_at, Certificate.objects.count()) == (
            first.pk,
            first.code,
            ISSUED_AT,
            1,
        )
        assert AuditEvent.objects.count() == 1


def test_two_completions_get_two_codes(certified):
    with certified.tenant.scope():
        other = Completion.objects.create(
            organization=certified.tenant.organization,
            learner=LearnerFactory(organization=certified.tenant.organization),
            course=certified.course,
            completed_at=COMPLETED_AT,
        )

        codes = {services.issue_certificate(c, ISSUED_AT).code for c in (certified.completion, other)}

    assert len(codes) == 2


@pytest.mark.parametrize(
    "change",
    [
        lambda c: setattr(c.completion, "completed_at", COMPLETED_AT + timedelta(days=1)),
        lambda c: setattr(c.completion, "learner", LearnerFactory(organization=c.tenant.organization)),
        lambda c: setattr(c.completion, "course", CourseFactory(organization=c.tenant.organization)),
    ],
    ids=["completed_at", "learner", "course"],
)
def test_a_changed_completion_supersedes_its_certificate(certified, change):
    with certified.tenant.scope():
        old = services.issue_certificate(certified.completion, ISSUED_AT)
        change(certified)
        certified.completion.save()

        revoked_before_reissue = selectors.revocation_of(Certificate.objects.get(pk=old.pk))
        new = services.issue_certificate(Completion.objects.get(pk=certified.completion.pk), LATER)
        old.refresh_from_db()

        assert revoked_before_reissue == Revocation.SUPERSEDED
        assert (old.completion, old.revoked_at, old.revocation) == (None, LATER, Revocation.SUPERSEDED)
        assert (new.completion_id, new.revoked_at, selectors.revocation_of(new)) == (
            certified.completion.pk,
            None,
            "",
        )
        assert list(AuditEvent.objects.order_by("pk").values_list("action", "object_id")) == [
            ("certificate.issued", str(old.pk)),
            ("certificate.superseded", str(old.pk)),
            ("certificate.issued", str(new.pk)),
        ]


def test_a_corrected_learner_name_supersedes_the_certificate(certified):
    with certified.tenant.scope():
        old = services.issue_certificate(certified.completion, ISSUED_AT)
        certified.learner.name = "Grace B. Hopper"
        certified.learner.save()

        new = services.issue_certificate(Completion.objects.get(pk=certified.completion.pk), LATER)

        assert (new.pk != old.pk, new.learner_name) == (True, "Grace B. Hopper")


def test_a_deleted_completion_leaves_its_certificate_withdrawn(certified):
    with certified.tenant.scope():
        certificate = services.issue_certificate(certified.completion, ISSUED_AT)
        certified.completion.delete()
        certificate.refresh_from_db()

        assert (certificate.completion, selectors.revocation_of(certificate)) == (None, Revocation.WITHDRAWN)


@pytest.mark.parametrize("role", [Role.OWNER, Role.PROVIDER_MANAGER])
def test_revoke_certificate_records_why_and_who(certified, role):
    member = certified.tenant.members[role]
    with certified.tenant.scope():
        certificate = services.issue_certificate(certified.completion, ISSUED_AT)

        services.revoke_certificate(certificate=certificate, membership=member, note=" Issued in error ", now=LATER)

        certificate.refresh_from_db()
        event = AuditEvent.objects.get(action="certificate.revoked")
        assert (certificate.revoked_at, certificate.revocation, certificate.revocation_note) == (
            LATER,
            Revocation.REVOKED,
            "Issued in error",
        )
        assert (event.actor, event.before["revoked_at"], event.after["revocation_note"]) == (
            member.user,
            None,
            "Issued in error",
        )


def test_a_revoked_certificate_is_not_issued_again(certified):
    with certified.tenant.scope():
        certificate = services.issue_certificate(certified.completion, ISSUED_AT)
        services.revoke_certificate(
            certificate=certificate, membership=certified.tenant.members[Role.OWNER], note="Fraud", now=LATER
        )

        with pytest.raises(services.CertificateRevoked):
            services.issue_certificate(certified.completion, LATER)

        assert Certificate.objects.count() == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LD_DIRECTOR, Role.PROCUREMENT])
def test_roles_that_do_not_log_delivery_cannot_revoke(certified, role):
    with certified.tenant.scope():
        certificate = services.issue_certificate(certified.completion, ISSUED_AT)

        with pytest.raises(PermissionDenied):
            services.revoke_certificate(
                certificate=certificate, membership=certified.tenant.members[role], note="No", now=LATER
            )

        assert Certificate.objects.get().revoked_at is None


def test_another_providers_manager_cannot_revoke(certified):
    tenant = certified.tenant.with_second_provider()
    with tenant.scope():
        certificate = services.issue_certificate(certified.completion, ISSUED_AT)

        with pytest.raises(PermissionDenied):
            services.revoke_certificate(certificate=certificate, membership=tenant.other.manager, note="No", now=LATER)

        assert Certificate.objects.get().revoked_at is None


@pytest.mark.parametrize("note", ["", "   "])
def test_revoking_needs_a_reason(certified, note):
    with certified.tenant.scope():
        certificate = services.issue_certificate(certified.completion, ISSUED_AT)

        with pytest.raises(ValidationError) as refused:
            services.revoke_certificate(
                certificate=certificate, membership=certified.tenant.members[Role.OWNER], note=note, now=LATER
            )

        assert refused.value.message_dict == {"note": ["Say why the certificate is revoked."]}
        assert Certificate.objects.get().revoked_at is None


def test_revoking_twice_is_refused(certified):
    owner = certified.tenant.members[Role.OWNER]
    with certified.tenant.scope():
        certificate = services.issue_certificate(certified.completion, ISSUED_AT)
        services.revoke_certificate(certificate=certificate, membership=owner, note="Fraud", now=LATER)

        with pytest.raises(ValidationError) as refused:
            services.revoke_certificate(certificate=certificate, membership=owner, note="Again", now=LATER)

        assert refused.value.messages == ["This certificate is already revoked."]


# --- Whose zone and which provider ---------------------------------------------------------------------------


def _self_paced(certified, *, providers: int) -> Completion:
    """A self-paced completion (no session) of a course that `providers` providers' engagements deliver."""
    tenant = certified.tenant
    course = certified.course
    for number in range(1, providers):
        engagement = EngagementFactory(organization=tenant.organization, provider__name=f"Provider {number}")
        Session.objects.create(
            organization=tenant.organization,
            engagement=engagement,
            course=course,
            modality=Modality.SELF_PACED,
            capacity=5,
            starts_at=datetime(2026, 4, 1, 9, tzinfo=UTC),
            ends_at=datetime(2026, 4, 1, 10, tzinfo=UTC),
        )
    return Completion.objects.create(
        organization=tenant.organization, learner=certified.learner, course=course, completed_at=COMPLETED_AT
    )


@pytest.mark.parametrize(("providers", "named"), [(1, "Northwind Learning"), (2, "")])
def test_a_self_paced_completion_names_the_provider_only_when_one_delivers_the_course(certified, providers, named):
    with certified.tenant.scope():
        completion = _self_paced(certified, providers=providers)

        assert selectors.provider_name(completion) == named


@pytest.mark.parametrize(
    ("learner_zone", "room", "expected"),
    [
        ("America/New_York", True, "America/New_York"),  # the learner's own
        ("", True, "Europe/Berlin"),  # the session's venue
        ("", False, "Europe/London"),  # the session's engagement (a virtual session has no room)
    ],
)
def test_learner_zone_is_the_learners_then_the_venues_then_the_engagements(certified, learner_zone, room, expected):
    with certified.tenant.scope():
        certified.learner.timezone = learner_zone
        if not room:
            certified.session.room = None

        assert selectors.learner_zone(certified.completion) == expected


def test_a_self_paced_completion_is_dated_in_the_organizations_zone(certified):
    with certified.tenant.scope():
        certified.tenant.organization.timezone = "Asia/Tokyo"
        certified.tenant.organization.save()
        completion = Completion.objects.select_related("organization", "learner", "session").get(
            pk=_self_paced(certified, providers=1).pk
        )

        assert selectors.learner_zone(completion) == "Asia/Tokyo"
