"""Delivery over the API: bulk enrollments all-or-nothing, attendance upserted by enrollment through the register's
rules, a provider's token sees its provider's delivery only, throttling, and constant queries per page."""

from datetime import UTC, datetime

import pytest

from mls.models import AuditEvent
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.imports import SHEETS
from scheduling.models import Attendance, Enrollment, Learner
from tests.factories import ProviderFactory, api_token
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory
from tests.factories.slas import completion, enrollment, session

pytestmark = pytest.mark.integration

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


@pytest.fixture
def engagement(tenant_a):
    return EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)


@pytest.fixture
def token(tenant_a):
    return api_token(tenant_a)


def test_bulk_of_1000_enrollments_with_one_bad_item_writes_nothing_and_names_the_item(
    client, tenant_a, engagement, token
):
    with tenant_a.scope():
        session(engagement, starts_at=MARCH, external_id="S-1", capacity=1000)
        Learner.objects.bulk_create(
            Learner(organization=tenant_a.organization, external_id=f"L-{n}", name=f"L {n}", email=f"l{n}@acme.example")
            for n in range(1000)
        )
        audit_before = AuditEvent.objects.count()
    items = [
        {"external_id": f"E-{n}", "session_external_id": "S-1", "learner_external_id": f"L-{n}"} for n in range(1000)
    ]
    items[617]["learner_external_id"] = "L-unknown"

    refused = client.post("/api/v1/enrollments/bulk/", items, content_type="application/json", **auth(token))

    assert refused.status_code == 400
    assert refused.json() == {
        "written": False,
        "errors": [{"index": 617, "errors": {"learner_external_id": ["No learner 'L-unknown' in this organization."]}}],
    }
    with tenant_a.scope():
        assert (Enrollment.objects.count(), AuditEvent.objects.count()) == (0, audit_before)

    items[617]["learner_external_id"] = "L-617"
    accepted = client.post("/api/v1/enrollments/bulk/", items, content_type="application/json", **auth(token))

    assert accepted.json() == {"written": True, "created": 1000, "updated": 0, "unchanged": 0}
    with tenant_a.scope():
        assert Enrollment.objects.filter(status=EnrollmentStatus.ENROLLED).count() == 1000


def test_post_answers_each_importable_row_as_reading_it_back_does(client, tenant_a, token):
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Managed learning 2026")
    CourseFactory(organization=tenant_a.organization, code="C001")
    kinds = ("learners", "sessions", "enrollments", "completions", "tickets")  # each refers to the ones before
    examples = {kind: dict(zip(SHEETS[kind].all_columns, SHEETS[kind].example, strict=True)) for kind in kinds}

    def post(kind: str) -> object:
        return client.post(f"/api/v1/{kind}/", examples[kind], content_type="application/json", **auth(token))

    created = {kind: post(kind) for kind in kinds}
    unchanged = {kind: post(kind) for kind in kinds}

    assert {kind: (created[kind].status_code, unchanged[kind].status_code) for kind in kinds} == dict.fromkeys(
        kinds, (201, 200)
    )
    for kind in kinds:
        read = client.get(f"/api/v1/{kind}/{created[kind].json()['id']}/", **auth(token)).json()
        assert created[kind].json() == unchanged[kind].json() == read


def test_bulk_refuses_more_than_1000_items(client, token):
    items = [{"external_id": f"L-{n}", "name": "x", "email": f"l{n}@acme.example"} for n in range(1001)]

    response = client.post("/api/v1/learners/bulk/", items, content_type="application/json", **auth(token))

    assert response.status_code == 400
    assert response.json() == {
        "written": False,
        "non_field_errors": ["Send at most 1,000 items at a time; split the rest."],
        "errors": [],
    }


def test_attendance_is_upserted_by_enrollment_and_sets_the_enrollment_status(client, tenant_a, engagement, token):
    with tenant_a.scope():
        seated = enrollment(session(engagement, starts_at=MARCH), MARCH)

    first = client.post(
        "/api/v1/attendance/", {"enrollment": seated.pk, "present": True}, content_type="application/json",
        **auth(token),
    )  # fmt: skip
    corrected = client.post(
        "/api/v1/attendance/", {"enrollment": seated.pk, "present": False}, content_type="application/json",
        **auth(token),
    )  # fmt: skip

    assert (first.status_code, corrected.status_code) == (201, 200)
    assert first.json()["id"] == corrected.json()["id"]
    assert corrected.json()["present"] is False
    with tenant_a.scope():
        seated.refresh_from_db()
        assert (Attendance.objects.count(), seated.status) == (1, EnrollmentStatus.NO_SHOW)


def test_attendance_bulk_with_a_future_session_writes_nothing(client, tenant_a, engagement, token):
    with tenant_a.scope():
        past = enrollment(session(engagement, starts_at=MARCH), MARCH)
        future = enrollment(session(engagement, starts_at=datetime(2099, 1, 1, tzinfo=UTC)), MARCH)
    items = [{"enrollment": past.pk, "present": True}, {"enrollment": future.pk, "present": True}]

    response = client.post("/api/v1/attendance/bulk/", items, content_type="application/json", **auth(token))

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 1, "errors": {"non_field_errors": ["The session has not started yet."]}}
    ]
    with tenant_a.scope():
        assert Attendance.objects.count() == 0


def test_provider_token_sees_and_writes_only_its_providers_delivery(client, tenant_a, engagement):
    with tenant_a.scope():
        other_provider = ProviderFactory(organization=tenant_a.organization)
        theirs = session(engagement, starts_at=MARCH, status=SessionStatus.CONFIRMED, external_id="S-1")
        LearnerFactory(organization=tenant_a.organization, external_id="L-1")
        completed = completion(theirs, MARCH, MARCH)
    raw = api_token(tenant_a, provider=other_provider)

    completions = client.get("/api/v1/completions/", **auth(raw))
    completion_detail = client.get(f"/api/v1/completions/{completed.pk}/", **auth(raw))
    owners_completions = client.get("/api/v1/completions/", **auth(api_token(tenant_a)))
    listed = client.get("/api/v1/sessions/", **auth(raw))
    detail = client.get(f"/api/v1/sessions/{theirs.pk}/", **auth(raw))
    write = client.post(
        "/api/v1/enrollments/", {"external_id": "E-1", "session_external_id": "S-1", "learner_external_id": "L-1"},
        content_type="application/json", **auth(raw),
    )  # fmt: skip

    assert (listed.json()["results"], detail.status_code) == ([], 404)
    assert (completions.json()["results"], completion_detail.status_code) == ([], 404)
    assert [row["id"] for row in owners_completions.json()["results"]] == [completed.pk]
    assert write.status_code == 400
    assert list(write.json()) == ["session_external_id"]
    with tenant_a.scope():
        assert Enrollment.objects.count() == 0


def test_throttled_token_gets_429_with_retry_after(client, settings, token, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, 15, tzinfo=UTC), tick=False)
    settings.API_THROTTLE_RATE = "2/minute"

    statuses = [client.get("/api/v1/learners/", **auth(token)) for _ in range(3)]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[-1]["Retry-After"] == "45"  # the window is the clock minute: 09:00:15 → 09:01:00


@pytest.mark.parametrize("count", [1, 3])
def test_learner_list_queries_do_not_grow_with_rows(client, tenant_a, token, count, django_assert_num_queries):
    LearnerFactory.create_batch(count, organization=tenant_a.organization)

    # The caller (token, organization and owner in one), the token's first "last used", the page.
    with django_assert_num_queries(3):
        response = client.get("/api/v1/learners/", **auth(token))

    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 3])
def test_enrollment_list_queries_do_not_grow_with_rows(
    client, tenant_a, engagement, token, count, django_assert_num_queries
):
    with tenant_a.scope():
        booked = session(engagement, starts_at=MARCH, capacity=5)
        for _ in range(count):
            enrollment(booked, MARCH)

    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/enrollments/?engagement={engagement.pk}", **auth(token))

    assert len(response.json()["results"]) == count
