"""The web forms of feedback (session page), assessment attempts and compliance assignments (learner page): form
errors with nothing written, permission refusals, another tenant's rows 404, and constant queries."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.models import AssessmentAttempt, ComplianceAssignment, Feedback
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory
from tests.factories.slas import assignment, attempt, enrollment, feedback, requirement, session

pytestmark = pytest.mark.integration

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SOON = NOW + timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    """The clock stands at NOW, after the March delivery: "in the future" is a minute later."""
    time_machine.move_to(NOW, tick=False)


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


@pytest.fixture
def delivered(tenant_a):
    """A delivered session of 2 Mar 09:00–12:00 UTC that Ann attended; a requirement met by its course."""
    with tenant_a.scope():
        engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
        tenant_a.session = session(engagement, starts_at=MARCH, status=SessionStatus.DELIVERED)
        tenant_a.ann = LearnerFactory(organization=tenant_a.organization, name="Ann")
        tenant_a.seat = enrollment(tenant_a.session, MARCH, learner_=tenant_a.ann, status=EnrollmentStatus.ATTENDED)
        tenant_a.requirement = requirement(tenant_a.session.course)
    return tenant_a


def feedback_post(tenant, **fields):
    data = {"instructor_score": "5", "overall_score": "4", "comment": "", "submitted_at": "2026-03-02T14:00"}
    return org_url(tenant, "scheduling:session_feedback", pk=tenant.session.pk), {**data, **fields}


def test_provider_manager_records_feedback_on_the_session_page(client, delivered):
    client.force_login(delivered.user(Role.PROVIDER_MANAGER))
    url, data = feedback_post(delivered, enrollment=delivered.seat.pk, comment="Great pace")

    response = client.post(url, data, follow=True)

    assert "Feedback of Ann recorded." in response.content.decode()
    with delivered.scope():
        # 14:00 in London in March (GMT) is 14:00 UTC.
        assert list(
            Feedback.objects.values_list("learner", "instructor_score", "overall_score", "comment", "submitted_at")
        ) == [(delivered.ann.pk, 5, 4, "Great pace", datetime(2026, 3, 2, 14, 0, tzinfo=UTC))]
    assert [row.learner for row in response.context["feedback"]] == [delivered.ann]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"instructor_score": "6"}, "instructor_score"),
        ({"submitted_at": "2026-03-02T08:00"}, "submitted_at"),
        ({"submitted_at": "not a time"}, "submitted_at"),
    ],
)
def test_bad_feedback_shows_the_error_on_its_field_and_writes_nothing(client, delivered, fields, field):
    client.force_login(delivered.user(Role.OWNER))
    url, data = feedback_post(delivered, enrollment=delivered.seat.pk, **fields)
    with delivered.scope():
        events = AuditEvent.objects.count()

    response = client.post(url, data)

    assert response.status_code == 400
    assert list(response.context["feedback_form"].errors) == [field]
    assert response.context["feedback_form"].data["comment"] == ""
    with delivered.scope():
        assert (Feedback.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_feedback_for_a_waitlisted_learner_is_not_offered(client, delivered):
    with delivered.scope():
        waiting = enrollment(delivered.session, MARCH, status=EnrollmentStatus.WAITLISTED)
    client.force_login(delivered.user(Role.OWNER))
    url, data = feedback_post(delivered, enrollment=waiting.pk)

    response = client.post(url, data)

    assert response.status_code == 400
    assert list(response.context["feedback_form"].errors) == ["enrollment"]
    assert list(response.context["feedback_form"].fields["enrollment"].queryset) == [delivered.seat]


def test_feedback_of_a_learner_not_yet_attended_is_an_error_on_the_learner(client, delivered):
    with delivered.scope():
        delivered.session.status = SessionStatus.CONFIRMED
        delivered.session.save()
        booked = enrollment(delivered.session, MARCH)
    client.force_login(delivered.user(Role.OWNER))
    url, data = feedback_post(delivered, enrollment=booked.pk)

    response = client.post(url, data)

    assert response.status_code == 400
    assert response.context["feedback_form"].errors == {
        "enrollment": ["Only a learner who attended the session (or was enrolled on it once delivered) rates it."]
    }
    with delivered.scope():
        assert Feedback.objects.count() == 0


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROCUREMENT, Role.LD_DIRECTOR])
def test_client_roles_cannot_record_feedback(client, delivered, role):
    client.force_login(delivered.user(role))
    url, data = feedback_post(delivered, enrollment=delivered.seat.pk)

    page = client.get(org_url(delivered, "scheduling:session", pk=delivered.session.pk))
    response = client.post(url, data)

    assert (page.context["feedback_form"], response.status_code) == (None, 403)
    with delivered.scope():
        assert Feedback.objects.count() == 0


def test_feedback_on_another_tenants_session_is_404(client, delivered, tenant_b):
    client.force_login(tenant_b.user(Role.OWNER))
    url, data = feedback_post(delivered, enrollment=delivered.seat.pk)

    response = client.post(url.replace(delivered.organization.slug, tenant_b.organization.slug), data)

    assert response.status_code == 404
    with delivered.scope():
        assert Feedback.objects.count() == 0


@pytest.mark.parametrize("count", [1, 3])
def test_session_page_lists_feedback_in_constant_queries(client, delivered, django_assert_num_queries, count):
    with delivered.scope():
        for _ in range(count):
            feedback(delivered.session, 4, 4, learner=LearnerFactory(organization=delivered.organization))
    client.force_login(delivered.user(Role.OWNER))

    with django_assert_num_queries(15):
        response = client.get(org_url(delivered, "scheduling:session", pk=delivered.session.pk))

    assert len(response.context["feedback"]) == count


# --- Learner page: attempts and assignments --------------------------------------------------------------------


def test_provider_manager_records_an_attempt_on_the_learner_page(client, delivered):
    client.force_login(delivered.user(Role.PROVIDER_MANAGER))
    data = {
        "course": delivered.session.course_id,
        "attempted_at": "2026-03-02T12:30",
        "score": "68.5",
        "pass_mark": "70",
    }

    response = client.post(org_url(delivered, "scheduling:learner_attempt", pk=delivered.ann.pk), data, follow=True)

    assert f"Attempt 1 at {delivered.session.course.code} recorded: not passed." in response.content.decode()
    with delivered.scope():
        assert list(AssessmentAttempt.objects.values_list("learner", "attempt_number", "score", "passed")) == [
            (delivered.ann.pk, 1, Decimal("68.50"), False)
        ]


def test_bad_attempt_keeps_the_input_and_writes_nothing(client, delivered):
    client.force_login(delivered.user(Role.OWNER))
    data = {"course": delivered.session.course_id, "attempted_at": "2026-06-01T10:01", "score": "-1", "pass_mark": "70"}

    response = client.post(org_url(delivered, "scheduling:learner_attempt", pk=delivered.ann.pk), data)

    assert response.status_code == 400
    assert list(response.context["attempt_form"].errors) == ["score"]
    assert response.context["attempt_form"].data["attempted_at"] == "2026-06-01T10:01"
    data["score"] = "80"
    future = client.post(org_url(delivered, "scheduling:learner_attempt", pk=delivered.ann.pk), data)
    assert list(future.context["attempt_form"].errors) == ["attempted_at"]
    with delivered.scope():
        assert AssessmentAttempt.objects.count() == 0


def test_provider_manager_is_offered_only_courses_its_provider_delivers(client, delivered):
    with delivered.scope():
        elsewhere = CourseFactory(organization=delivered.organization)
    client.force_login(delivered.user(Role.PROVIDER_MANAGER))
    data = {"course": elsewhere.pk, "attempted_at": "2026-03-02T12:30", "score": "80", "pass_mark": "70"}

    response = client.post(org_url(delivered, "scheduling:learner_attempt", pk=delivered.ann.pk), data)

    assert response.status_code == 400
    assert list(response.context["attempt_form"].fields["course"].queryset) == [delivered.session.course]
    with delivered.scope():
        assert AssessmentAttempt.objects.count() == 0


def test_director_assigns_a_learner_and_provider_manager_records_the_completion(client, delivered):
    client.force_login(delivered.user(Role.LD_DIRECTOR))
    client.post(
        org_url(delivered, "scheduling:learner_assign", pk=delivered.ann.pk),
        {"requirement": delivered.requirement.pk, "due_on": "2026-06-30"},
    )
    with delivered.scope():
        assigned = ComplianceAssignment.objects.get()
    client.force_login(delivered.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(delivered, "scheduling:assignment_complete", pk=assigned.pk),
        {"completed_at": "2026-05-12T10:00"},
        follow=True,
    )

    assert "Completion recorded." in response.content.decode()
    assigned.refresh_from_db()
    # 10:00 in London in May (BST) is 09:00 UTC.
    assert (assigned.learner, assigned.due_on, assigned.completed_at) == (
        delivered.ann,
        date(2026, 6, 30),
        datetime(2026, 5, 12, 9, 0, tzinfo=UTC),
    )


def test_bad_assignment_and_completion_show_form_errors_and_write_nothing(client, delivered):
    with delivered.scope():
        assigned = assignment(delivered.requirement, date(2026, 6, 30), engagement=delivered.session.engagement)
    client.force_login(delivered.user(Role.OWNER))

    no_date = client.post(
        org_url(delivered, "scheduling:learner_assign", pk=delivered.ann.pk), {"requirement": delivered.requirement.pk}
    )
    future = client.post(
        org_url(delivered, "scheduling:assignment_complete", pk=assigned.pk), {"completed_at": "2026-06-01T10:01"}
    )

    assert (no_date.status_code, future.status_code) == (400, 400)
    assert list(no_date.context["assign_form"].errors) == ["due_on"]
    assert (list(future.context["complete_form"].errors), future.context["completing"]) == (
        ["completed_at"],
        assigned.pk,
    )
    with delivered.scope():
        assert list(ComplianceAssignment.objects.values_list("completed_at", flat=True)) == [None]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROCUREMENT])
def test_roles_without_the_permission_cannot_assign_complete_or_record_attempts(client, delivered, role):
    with delivered.scope():
        assigned = assignment(delivered.requirement, date(2026, 6, 30), engagement=delivered.session.engagement)
    client.force_login(delivered.user(role))

    page = client.get(org_url(delivered, "scheduling:learner", pk=delivered.ann.pk))
    statuses = [
        client.post(org_url(delivered, "scheduling:learner_assign", pk=delivered.ann.pk), {}).status_code,
        client.post(org_url(delivered, "scheduling:assignment_complete", pk=assigned.pk), {}).status_code,
        client.post(org_url(delivered, "scheduling:learner_attempt", pk=delivered.ann.pk), {}).status_code,
    ]

    assert (page.context["assign_form"], page.context["attempt_form"], statuses) == (None, None, [403, 403, 403])
    with delivered.scope():
        assert (
            ComplianceAssignment.objects.filter(completed_at__isnull=False).count(),
            AssessmentAttempt.objects.count(),
        ) == (0, 0)


def test_another_tenants_learner_and_assignment_are_404(client, delivered, tenant_b):
    with delivered.scope():
        assigned = assignment(delivered.requirement, date(2026, 6, 30), engagement=delivered.session.engagement)
    client.force_login(tenant_b.user(Role.OWNER))

    def foreign(name, pk):
        return reverse(name, kwargs={"organization_slug": tenant_b.organization.slug, "pk": pk})

    statuses = [
        client.post(foreign("scheduling:learner_assign", delivered.ann.pk), {"due_on": "2026-06-30"}).status_code,
        client.post(
            foreign("scheduling:assignment_complete", assigned.pk), {"completed_at": "2026-03-02T10:00"}
        ).status_code,
        client.post(foreign("scheduling:learner_attempt", delivered.ann.pk), {}).status_code,
    ]

    assert statuses == [404, 404, 404]


@pytest.mark.parametrize("count", [1, 3])
def test_learner_page_lists_attempts_and_assignments_in_constant_queries(
    client, delivered, django_assert_num_queries, count
):
    with delivered.scope():
        for number in range(1, count + 1):
            attempt(delivered.session.course, MARCH, passed=True, attempt_number=number, learner_=delivered.ann)
            ComplianceAssignment.objects.create(
                organization=delivered.organization,
                requirement=delivered.requirement,
                learner=delivered.ann,
                due_on=date(2026, 6, number),
            )
    client.force_login(delivered.user(Role.OWNER))

    with django_assert_num_queries(13):  # 12, and the completions with their certificates (certificates app)
        response = client.get(org_url(delivered, "scheduling:learner", pk=delivered.ann.pk))

    assert (len(response.context["attempts"]), len(response.context["assignments"])) == (count, count)
