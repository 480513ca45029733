"""Feedback, assessment attempts and compliance assignments over the API: upsert by external_id through the CSV
sheets' checks, 400 field errors with nothing written, 403 for roles the web refuses, another tenant's rows as
field errors, and the SLA metrics that read API-written feedback."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mls.enums import Role
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.imports import SHEETS
from scheduling.models import AssessmentAttempt, ComplianceAssignment, Feedback
from tests.factories import ProviderFactory, api_token
from tests.factories.scheduling import CourseFactory, LearnerFactory
from tests.factories.slas import enrollment, measured, requirement, session, sla_engagement, targets

pytestmark = pytest.mark.integration

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AFTER_GRACE = datetime(2026, 4, 20, tzinfo=UTC)
KINDS = ("feedback", "assessment-attempts", "compliance-assignments")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SOON = NOW + timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    """The clock stands at NOW, after the March delivery: "in the future" is a minute later."""
    time_machine.move_to(NOW, tick=False)


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


@pytest.fixture
def token(tenant_a):
    return api_token(tenant_a)


@pytest.fixture
def delivered(tenant_a):
    """As the sheets' examples name them: delivered session S-2001 of course C001 that learner L-1001 attended, and
    the requirement "Data protection"."""
    with tenant_a.scope():
        tenant_a.engagement, _ = sla_engagement(
            tenant_a,
            targets={
                **targets("instructor_rating", target=Decimal("4.2")),
                **targets("learner_satisfaction", target=Decimal("4.0")),
                **targets("mandatory_training_on_time", "assessment_pass_rate", target=Decimal("90")),
            },
        )
        course = CourseFactory(organization=tenant_a.organization, code="C001")
        tenant_a.session = session(
            tenant_a.engagement, starts_at=MARCH, status=SessionStatus.DELIVERED, external_id="S-2001", course_=course
        )
        tenant_a.learner = LearnerFactory(organization=tenant_a.organization, external_id="L-1001")
        enrollment(tenant_a.session, MARCH, learner_=tenant_a.learner, status=EnrollmentStatus.ATTENDED)
        tenant_a.requirement = requirement(course)
    return tenant_a


def example(kind: str) -> dict[str, str]:
    return dict(zip(SHEETS[kind].all_columns, SHEETS[kind].example, strict=True))


@pytest.mark.parametrize("kind", KINDS)
def test_post_creates_then_answers_the_row_as_reading_it_back_does(client, delivered, token, kind):
    created = client.post(f"/api/v1/{kind}/", example(kind), content_type="application/json", **auth(token))
    unchanged = client.post(f"/api/v1/{kind}/", example(kind), content_type="application/json", **auth(token))

    assert (created.status_code, unchanged.status_code) == (201, 200)
    read = client.get(f"/api/v1/{kind}/{created.json()['id']}/", **auth(token)).json()
    assert created.json() == unchanged.json() == read
    assert read["external_id"] == example(kind)["external_id"]


def test_attempt_posted_gets_passed_from_its_score(client, delivered, token):
    item = {**example("assessment-attempts"), "score": "69.5", "pass_mark": "70"}

    response = client.post("/api/v1/assessment-attempts/", item, content_type="application/json", **auth(token))

    assert (response.status_code, response.json()["passed"], response.json()["score"]) == (201, False, "69.50")


def test_assignment_posted_by_requirement_id_and_updated_by_external_id(client, delivered, token):
    item = {"external_id": "CA-1", "requirement_id": delivered.requirement.pk, "learner_external_id": "L-1001"}

    first = client.post(
        "/api/v1/compliance-assignments/",
        {**item, "due_on": "2026-06-30"},
        content_type="application/json",
        **auth(token),
    )
    completed = client.post(
        "/api/v1/compliance-assignments/",
        {**item, "due_on": "2026-06-30", "completed_at": "2026-05-12T10:00:00+00:00"},
        content_type="application/json",
        **auth(token),
    )

    assert (first.status_code, completed.status_code) == (201, 200)
    assert completed.json()["completed_at"] == "2026-05-12T11:00:00+01:00"  # in the organization's time (BST)
    with delivered.scope():
        assert ComplianceAssignment.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "bad", "errors"),
    [
        ("feedback", {"overall_score": "0"}, {"overall_score": ["Ensure this value is greater than or equal to 1."]}),
        (
            "feedback",
            {"learner_external_id": "L-404"},
            {"learner_external_id": ["No learner 'L-404' in this organization."]},
        ),
        ("assessment-attempts", {"score": "lots"}, {"score": ["'lots' is not a number; write it like 72.5."]}),
        (
            "assessment-attempts",
            {"attempt_number": "0"},
            {"attempt_number": ["Ensure this value is greater than or equal to 1."]},
        ),
        ("compliance-assignments", {"due_on": ""}, {"due_on": ["due_on is required."]}),
        (
            "compliance-assignments",
            {"completed_at": "2026-06-01T09:01:00+00:00"},
            {"completed_at": ["A completion cannot be in the future."]},
        ),
    ],
)
def test_bulk_with_one_bad_item_writes_nothing_and_names_it(client, delivered, token, kind, bad, errors):
    with delivered.scope():
        other = LearnerFactory(organization=delivered.organization, external_id="L-2")
        enrollment(delivered.session, MARCH, learner_=other, status=EnrollmentStatus.ATTENDED)
    items = [example(kind), {**example(kind), "external_id": "X-2", "learner_external_id": "L-2", **bad}]

    response = client.post(f"/api/v1/{kind}/bulk/", items, content_type="application/json", **auth(token))

    assert response.status_code == 400
    assert response.json() == {"written": False, "errors": [{"index": 1, "errors": errors}]}
    with delivered.scope():
        assert SHEETS[kind].model.objects.count() == 0


def test_feedback_on_another_tenants_session_is_a_field_error(client, delivered, tenant_b, token):
    with tenant_b.scope():
        engagement, _ = sla_engagement(tenant_b, targets={})
        session(engagement, starts_at=MARCH, status=SessionStatus.DELIVERED, external_id="S-B")
    item = {**example("feedback"), "session_external_id": "S-B"}

    response = client.post("/api/v1/feedback/", item, content_type="application/json", **auth(token))

    assert (response.status_code, response.json()) == (
        400,
        {"session_external_id": ["No session 'S-B' in this organization."]},
    )
    with tenant_b.scope():
        assert Feedback.objects.count() == 0


def test_another_providers_token_cannot_post_feedback_or_attempts_for_this_delivery(client, delivered):
    raw = api_token(delivered, provider=ProviderFactory(organization=delivered.organization))

    feedback = client.post("/api/v1/feedback/", example("feedback"), content_type="application/json", **auth(raw))
    attempt = client.post(
        "/api/v1/assessment-attempts/", example("assessment-attempts"), content_type="application/json", **auth(raw)
    )

    assert (feedback.status_code, list(feedback.json())) == (400, ["session_external_id"])
    assert (attempt.status_code, attempt.json()) == (
        400,
        {"course_code": ["Your provider delivers no session of C001."]},
    )
    with delivered.scope():
        assert (Feedback.objects.count(), AssessmentAttempt.objects.count()) == (0, 0)


WRITERS = {
    "feedback": {Role.OWNER, Role.PROVIDER_MANAGER},
    "assessment-attempts": {Role.OWNER, Role.PROVIDER_MANAGER},
    "compliance-assignments": {Role.OWNER, Role.LD_DIRECTOR, Role.PROVIDER_MANAGER},
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", sorted(Role.values))
def test_session_callers_write_as_the_web_lets_their_role(client, delivered, kind, role):
    client.force_login(delivered.user(role))

    response = client.post(
        f"/api/v1/{kind}/",
        example(kind),
        content_type="application/json",
        HTTP_X_MLS_ORGANIZATION=delivered.organization.slug,
    )

    assert response.status_code == (201 if role in WRITERS[kind] else 403)
    with delivered.scope():
        assert SHEETS[kind].model.objects.count() == (1 if role in WRITERS[kind] else 0)


def test_feedback_written_through_the_api_moves_instructor_rating_and_learner_satisfaction(client, delivered, token):
    """Three attendees of the delivered 2 Mar session rate it (instructor, overall): (5, 4), (4, 5), (3, 3).
    instructor_rating = 12 / 3 = 4.00 < 4.2 (breached); learner_satisfaction = 12 / 3 = 4.00 ≥ 4.0 (met)."""
    with delivered.scope():
        for external_id in ("L-2", "L-3"):
            learner = LearnerFactory(organization=delivered.organization, external_id=external_id)
            enrollment(delivered.session, MARCH, learner_=learner, status=EnrollmentStatus.ATTENDED)
    items = [
        {
            "external_id": f"F-{n}",
            "session_external_id": "S-2001",
            "learner_external_id": learner,
            "instructor_score": instructor,
            "overall_score": overall,
            "submitted_at": "2026-03-02T15:00:00+00:00",
        }
        for n, (learner, instructor, overall) in enumerate((("L-1001", 5, 4), ("L-2", 4, 5), ("L-3", 3, 3)))
    ]

    written = client.post("/api/v1/feedback/bulk/", items, content_type="application/json", **auth(token))
    with delivered.scope():
        results = measured(delivered.engagement, "2026-03", AFTER_GRACE)

    assert written.json() == {"written": True, "created": 3, "updated": 0, "unchanged": 0}
    rating, satisfaction = results["instructor_rating"], results["learner_satisfaction"]
    assert (rating.numerator, rating.denominator, rating.value, rating.meets_target) == (12, 3, Decimal("4.00"), False)
    assert (satisfaction.numerator, satisfaction.denominator, satisfaction.value, satisfaction.meets_target) == (
        12,
        3,
        Decimal("4.00"),
        True,
    )


def test_assignments_and_attempts_written_through_the_api_move_their_metrics(client, delivered, token):
    """Two learners have Data protection (met by C001, delivered here) due 20 Mar: L-1001 completes it 19 Mar,
    L-2 on 25 Mar → mandatory_training_on_time = 1 / 2 = 50.00 %. First attempts at C001 in March: L-1001 scores
    80 against 70 (pass), L-2 60 (fail); L-2's second attempt (a pass) is not a first attempt → 1 / 2 = 50.00 %."""
    with delivered.scope():
        LearnerFactory(organization=delivered.organization, external_id="L-2")
    assignments = [
        {"external_id": f"CA-{learner}", "requirement": "Data protection", "learner_external_id": learner,
         "due_on": "2026-03-20", "completed_at": completed_at}
        for learner, completed_at in (("L-1001", "2026-03-19T10:00:00+00:00"), ("L-2", "2026-03-25T10:00:00+00:00"))
    ]  # fmt: skip
    attempts = [
        {"external_id": f"A-{n}", "learner_external_id": learner, "course_code": "C001", "attempt_number": number,
         "attempted_at": f"2026-03-0{n}T12:00:00+00:00", "score": score, "pass_mark": "70"}
        for n, (learner, number, score) in enumerate((("L-1001", 1, "80"), ("L-2", 1, "60"), ("L-2", 2, "75")), 2)
    ]  # fmt: skip

    for kind, items in (("compliance-assignments", assignments), ("assessment-attempts", attempts)):
        response = client.post(f"/api/v1/{kind}/bulk/", items, content_type="application/json", **auth(token))
        assert response.json()["written"] is True
    with delivered.scope():
        results = measured(delivered.engagement, "2026-03", AFTER_GRACE)

    on_time, pass_rate = results["mandatory_training_on_time"], results["assessment_pass_rate"]
    assert (on_time.numerator, on_time.denominator, on_time.value) == (1, 2, Decimal("50.00"))
    assert (pass_rate.numerator, pass_rate.denominator, pass_rate.value) == (1, 2, Decimal("50.00"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("count", [1, 3])
def test_lists_run_in_constant_queries(client, delivered, token, kind, count, django_assert_num_queries):
    with delivered.scope():
        for n in range(count):
            learner = LearnerFactory(organization=delivered.organization, external_id=f"L-{n}")
            enrollment(delivered.session, MARCH, learner_=learner, status=EnrollmentStatus.ATTENDED)
    items = [{**example(kind), "external_id": f"X-{n}", "learner_external_id": f"L-{n}"} for n in range(count)]
    assert (
        client.post(f"/api/v1/{kind}/bulk/", items, content_type="application/json", **auth(token)).status_code == 200
    )

    # The caller (token, organization and owner in one), the page (the token's "last used" is already today's).
    with django_assert_num_queries(2):
        response = client.get(f"/api/v1/{kind}/", **auth(token))

    assert len(response.json()["results"]) == count
