"""Enrolling several learners at once, and the learner picker's read: the one enrolment rule applies to each."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from mls.enums import Role
from scheduling import selectors, services
from scheduling.enums import EnrollmentStatus, Modality
from scheduling.models import Enrollment
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory, at

pytestmark = pytest.mark.unit


@pytest.fixture
def session(tenant_a):
    with tenant_a.scope():
        pm = tenant_a.members[Role.PROVIDER_MANAGER]
        engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
        session = services.request_session(
            engagement=engagement,
            membership=pm,
            course=CourseFactory(organization=tenant_a.organization),
            modality=Modality.VILT,
            starts_at=at(2, 9),
            ends_at=at(2, 9) + timedelta(hours=3),
            capacity=2,
            join_url="https://meet.example/x",
        )
        yield session


def _learner(tenant, name, **extra):
    return LearnerFactory(organization=tenant.organization, name=name, email=f"{name.lower()}@example.com", **extra)


def test_enroll_many_seats_then_waitlists_in_order_and_reports_already_and_unknown(tenant_a, session):
    pm = tenant_a.members[Role.PROVIDER_MANAGER]
    ada, bea, cy, dee = (_learner(tenant_a, name) for name in ("Ada", "Bea", "Cy", "Dee"))
    services.enroll(session=session, learner=ada, membership=pm)

    summary = services.enroll_many(
        session=session,
        membership=pm,
        learners=[dee],
        emails=["bea@example.com", "nobody@example.com", "cy@example.com", "ADA@example.com"],
    )

    # capacity 2: Ada held one seat, Dee takes the last; Bea and Cy wait in the order given
    assert (summary.enrolled, summary.waitlisted, summary.already, summary.unknown) == (
        [dee],
        [bea, cy],
        [ada],
        ["nobody@example.com"],
    )
    statuses = dict(Enrollment.objects.values_list("learner__name", "status"))
    assert statuses == {
        "Ada": EnrollmentStatus.ENROLLED,
        "Dee": EnrollmentStatus.ENROLLED,
        "Bea": EnrollmentStatus.WAITLISTED,
        "Cy": EnrollmentStatus.WAITLISTED,
    }
    waitlist = Enrollment.objects.filter(status=EnrollmentStatus.WAITLISTED).order_by("requested_at", "pk")
    assert list(waitlist.values_list("learner__name", flat=True)) == ["Bea", "Cy"]


@pytest.mark.parametrize("role", [Role.LD_DIRECTOR, Role.VIEWER])
def test_enroll_many_by_a_client_member_is_refused_and_writes_nothing(tenant_a, session, role):
    learner = _learner(tenant_a, "Ada")

    with pytest.raises(ValidationError):
        services.enroll_many(session=session, membership=tenant_a.members[role], emails=[learner.email])

    assert Enrollment.objects.count() == 0


def test_enroll_many_on_a_cancelled_session_writes_nothing(tenant_a, session):
    pm = tenant_a.members[Role.PROVIDER_MANAGER]
    learners = [_learner(tenant_a, name) for name in ("Ada", "Bea")]
    services.cancel_session(session=session, membership=pm, cancelled_by="client", reason="Re-org")

    with pytest.raises(ValidationError, match="The session is cancelled"):
        services.enroll_many(session=session, membership=pm, learners=learners)

    assert Enrollment.objects.count() == 0


def test_parse_emails_splits_lines_commas_and_semicolons_once_each():
    assert services.parse_emails("a@x.com, B@x.com\n c@x.com;a@x.com\n\n") == ["a@x.com", "b@x.com", "c@x.com"]


def test_enrollable_learners_leaves_out_those_on_the_session_and_searches_email_and_external_id(tenant_a, session):
    pm = tenant_a.members[Role.PROVIDER_MANAGER]
    on, came_back = _learner(tenant_a, "Ann"), _learner(tenant_a, "Abe")
    by_id = _learner(tenant_a, "Zed", external_id="HR-77")
    services.enroll(session=session, learner=on, membership=pm)
    services.cancel_enrollment(
        enrollment=services.enroll(session=session, learner=came_back, membership=pm), membership=pm
    )

    assert selectors.enrollable_learners(session) == ([], [came_back, by_id], False)
    assert selectors.enrollable_learners(session, "hr-7") == ([], [by_id], False)
    assert selectors.enrollable_learners(session, "abe@example") == ([], [came_back], False)
    assert selectors.enrollable_learners(session, "", limit=1) == ([], [came_back], True)
    assert selectors.enrollable_learners(session, "zed", chosen=[came_back.pk, on.pk]) == ([came_back], [by_id], False)
