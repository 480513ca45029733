"""Compliance: completions close assignments and open the next cycle; recertification reminders sent once."""

from datetime import UTC, date, datetime

import pytest
from django.core import mail

from mls.enums import Role
from scheduling import services
from scheduling.models import ComplianceAssignment, ComplianceRequirement, RequirementCourse
from scheduling.tasks import dispatch_recertification_reminders
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory

pytestmark = pytest.mark.unit


@pytest.fixture
def compliance(tenant_a):
    org = tenant_a.organization
    course = CourseFactory(organization=org, code="DATA-201")
    requirement = ComplianceRequirement.objects.create(
        organization=org, name="Data protection", recertification_interval_days=365
    )
    RequirementCourse.objects.create(organization=org, requirement=requirement, course=course)
    learner = LearnerFactory(organization=org)
    assignment = ComplianceAssignment.objects.create(
        organization=org, requirement=requirement, learner=learner, due_on=date(2026, 9, 30)
    )
    engagement = EngagementFactory(organization=org, provider=tenant_a.provider)
    return tenant_a, course, learner, assignment, engagement


def test_completion_closes_the_assignment_and_opens_the_next_cycle(compliance):
    tenant, course, learner, _assignment, engagement = compliance
    # 2026-09-20 23:30 UTC is 21 September in London (BST): next cycle due 365 days later, 21 Sep 2027.
    completed_at = datetime(2026, 9, 20, 23, 30, tzinfo=UTC)

    with tenant.scope():
        completion = services.record_completion(
            learner=learner,
            course=course,
            completed_at=completed_at,
            membership=tenant.members[Role.PROVIDER_MANAGER],
            engagement=engagement,
        )
        cycles = list(ComplianceAssignment.objects.order_by("due_on").values_list("due_on", "completion"))

    assert cycles == [(date(2026, 9, 30), completion.pk), (date(2027, 9, 21), None)]


def test_completion_of_another_course_leaves_assignments_open(compliance):
    tenant, _course, learner, assignment, engagement = compliance

    with tenant.scope():
        services.record_completion(
            learner=learner,
            course=CourseFactory(organization=tenant.organization),
            completed_at=datetime(2026, 9, 1, 12, tzinfo=UTC),
            membership=tenant.members[Role.PROVIDER_MANAGER],
            engagement=engagement,
        )
        assignment.refresh_from_db()

    assert assignment.completed_at is None


def test_reminders_go_out_once_per_threshold(compliance, django_capture_on_commit_callbacks):
    tenant, _course, learner, _assignment, _engagement = compliance

    def run(today):
        with tenant.scope(), django_capture_on_commit_callbacks(execute=True):
            return services.send_recertification_reminders(today=today)

    # Due 30 Sep 2026: 90 days before is 2 Jul; 7 days before is 23 Sep.
    sent = [run(date(2026, 7, 2)), run(date(2026, 7, 2)), run(date(2026, 7, 3)), run(date(2026, 9, 23))]

    assert sent == [1, 0, 0, 1]
    assert [m.subject for m in mail.outbox] == [
        "Mandatory training due in 90 days: Data protection",
        "Mandatory training due in 7 days: Data protection",
    ]
    assert {tuple(m.to) for m in mail.outbox} == {(learner.email,)}


def test_completed_assignments_get_no_reminder(compliance):
    tenant, _course, _learner, assignment, _engagement = compliance
    assignment.completed_at = datetime(2026, 6, 1, tzinfo=UTC)
    assignment.save()

    with tenant.scope():
        assert services.send_recertification_reminders(today=date(2026, 7, 2)) == 0


def test_daily_task_fans_out_per_organization(compliance, tenant_b):
    assert dispatch_recertification_reminders.delay().get() == 2


def test_assign_requirement_targets_its_audience_once(tenant_a):
    org = tenant_a.organization
    requirement = ComplianceRequirement.objects.create(
        organization=org, name="Anti-money laundering", audience_business_units="Finance, Retail", audience_regions="UK"
    )
    in_audience = [
        LearnerFactory(organization=org, business_unit="Finance", region="UK"),
        LearnerFactory(organization=org, business_unit="Retail", region="UK"),
    ]
    LearnerFactory(organization=org, business_unit="Finance", region="DACH")  # wrong region
    LearnerFactory(organization=org, business_unit="Technology", region="UK")  # wrong unit
    director = tenant_a.members[Role.LD_DIRECTOR]

    with tenant_a.scope():
        first = services.assign_requirement(requirement=requirement, membership=director, due_on=date(2026, 12, 31))
        again = services.assign_requirement(requirement=requirement, membership=director, due_on=date(2026, 12, 31))
        assigned = set(requirement.assignments.values_list("learner", flat=True))

    assert (first, again) == (2, 0)
    assert assigned == {learner.pk for learner in in_audience}
