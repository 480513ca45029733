"""One write path (issue 17): the API's bulk upsert and a CSV import obey the web's rules, through the same domain
functions: capacity and the FIFO waitlist, promotion on cancellation, completions closing compliance assignments,
status transitions and double booking of sessions, history as a mode of those rules; engagements named by id or
external_id; one audit event per written row. Every case runs through both doors."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.core import mail

from mls.enums import Role
from mls.models import AuditEvent
from scheduling.enums import EnrollmentStatus, Modality, SessionStatus
from scheduling.imports import import_csv
from scheduling.models import (
    ComplianceAssignment,
    ComplianceRequirement,
    Enrollment,
    RequirementCourse,
    Session,
    SupportTicket,
)
from tests.factories import api_token
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory, RoomFactory, at
from tests.factories.slas import session

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
FUTURE = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # a session still to come; March's have taken place
DOORS = ("api", "csv")


@pytest.fixture(autouse=True)
def _now(time_machine) -> None:
    time_machine.move_to(NOW, tick=False)


def sheet(items: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(key for item in items for key in item)))
    writer.writeheader()
    writer.writerows(items)
    return out.getvalue()


@pytest.fixture
def acme(tenant_a):
    org = tenant_a.organization
    tenant_a.token = api_token(tenant_a)
    tenant_a.engagement = EngagementFactory(
        organization=org, provider=tenant_a.provider, name="Managed learning", external_id="ERP-1"
    )
    tenant_a.course = CourseFactory(organization=org, code="C001")
    tenant_a.learners = [
        LearnerFactory(organization=org, external_id=f"L-{n}", email=f"l{n}@acme.example") for n in (1, 2, 3)
    ]
    return tenant_a


def write(client, tenant, kind: str, items: list[dict], door: str) -> list[tuple[int, str, str]]:
    """Write `items` through `door`; the errors as (item index from 0, field, message), [] when written."""
    if door == "api":
        response = client.post(
            f"/api/v1/{kind}/bulk/", items, content_type="application/json", HTTP_AUTHORIZATION=f"Token {tenant.token}"
        )
        body = response.json()
        assert response.status_code == (200 if body["written"] else 400), body
        return [
            (error["index"], field, message)
            for error in body.get("errors", [])
            for field, messages in error["errors"].items()
            for message in messages
        ]
    with tenant.scope():
        result = import_csv(
            kind=kind, organization=tenant.organization, text=sheet(items), actor=tenant.user(Role.OWNER)
        )
    return [(error.row - 2, error.column or "non_field_errors", error.message) for error in result.errors]


def statuses(tenant) -> dict[str, str]:
    with tenant.scope():
        return dict(Enrollment.objects.values_list("external_id", "status"))


def request(number: int, requested_at: datetime, **fields: str) -> dict:
    return {
        "external_id": f"E-{number}",
        "session_external_id": "S-1",
        "learner_external_id": f"L-{number}",
        "requested_at": requested_at.isoformat(),
        **fields,
    }


def stored_enrollment(tenant, seat: Session, number: int, status: str, requested_at: datetime) -> Enrollment:
    return Enrollment.objects.create(
        organization=tenant.organization,
        session=seat,
        learner=tenant.learners[number - 1],
        external_id=f"E-{number}",
        status=status,
        requested_at=requested_at,
    )


# --- Enrollments: capacity, waitlist, promotion --------------------------------------------------------------


@pytest.mark.parametrize("door", DOORS)
def test_three_requests_for_one_seat_give_one_seat_and_a_waitlist_in_request_order(client, acme, door):
    with acme.scope():
        session(acme.engagement, starts_at=FUTURE, capacity=1, external_id="S-1")
    # L-2 and L-3 asked at the same moment, before L-1: the row order breaks the tie.
    items = [request(1, at(1, 10, month=2)), request(2, at(1, 9, month=2)), request(3, at(1, 9, month=2))]

    errors = write(client, acme, "enrollments", items, door)

    assert errors == []
    assert statuses(acme) == {"E-1": "waitlisted", "E-2": "enrolled", "E-3": "waitlisted"}


@pytest.mark.parametrize("door", DOORS)
def test_new_rows_never_take_more_seats_than_the_stored_ones_leave(client, acme, door):
    with acme.scope():
        seat = session(acme.engagement, starts_at=FUTURE, capacity=2, external_id="S-1")
        stored_enrollment(acme, seat, 1, EnrollmentStatus.ENROLLED, at(1, 8, month=2))
    items = [request(2, at(1, 9, month=2), status="enrolled"), request(3, at(1, 10, month=2), status="enrolled")]

    errors = write(client, acme, "enrollments", items, door)

    assert errors == []
    assert statuses(acme) == {"E-1": "enrolled", "E-2": "enrolled", "E-3": "waitlisted"}


@pytest.mark.parametrize("door", DOORS)
def test_a_cancelled_seat_goes_to_the_first_in_line_who_is_told_by_email(
    client, acme, door, django_capture_on_commit_callbacks
):
    with acme.scope():
        seat = session(acme.engagement, starts_at=FUTURE, capacity=1, external_id="S-1")
        stored_enrollment(acme, seat, 1, EnrollmentStatus.ENROLLED, at(1, 8, month=2))
        second = stored_enrollment(acme, seat, 2, EnrollmentStatus.WAITLISTED, at(1, 10, month=2))
        first = stored_enrollment(acme, seat, 3, EnrollmentStatus.WAITLISTED, at(1, 9, month=2))

    with django_capture_on_commit_callbacks(execute=True):
        errors = write(client, acme, "enrollments", [request(1, at(1, 8, month=2), status="cancelled")], door)

    assert errors == []
    assert statuses(acme) == {"E-1": "cancelled", "E-2": "waitlisted", "E-3": "enrolled"}
    assert [(message.subject, message.to) for message in mail.outbox] == [
        (f"You have a place: {seat.course.title}", ["l3@acme.example"])
    ]
    with acme.scope():
        cancelled = Enrollment.objects.get(external_id="E-1")
        events = list(AuditEvent.objects.filter(object_type="scheduling.enrollment").order_by("id"))
    assert cancelled.cancelled_at is not None
    assert [(e.action, e.object_id, e.before["status"], e.after["status"]) for e in events] == [
        ("import.enrollments", str(cancelled.pk), "enrolled", "cancelled"),
        ("enrollment.promoted", str(first.pk), "waitlisted", "enrolled"),
    ]
    assert second.pk not in {int(e.object_id) for e in events}


@pytest.mark.parametrize("door", DOORS)
def test_a_learner_moving_to_another_session_frees_the_seat_for_the_first_in_line(client, acme, door):
    with acme.scope():
        seat = session(acme.engagement, starts_at=FUTURE, capacity=1, external_id="S-1")
        session(acme.engagement, starts_at=FUTURE, capacity=1, external_id="S-2")
        stored_enrollment(acme, seat, 1, EnrollmentStatus.ENROLLED, at(1, 8, month=2))
        stored_enrollment(acme, seat, 2, EnrollmentStatus.WAITLISTED, at(1, 9, month=2))

    errors = write(client, acme, "enrollments", [request(1, at(1, 8, month=2), session_external_id="S-2")], door)

    assert errors == []
    with acme.scope():
        assert list(Enrollment.objects.order_by("external_id").values_list("session__external_id", "status")) == [
            ("S-2", "enrolled"),
            ("S-1", "enrolled"),
        ]


@pytest.mark.parametrize("door", DOORS)
def test_a_cancelled_session_takes_no_new_enrollment_and_nothing_is_written(client, acme, door):
    with acme.scope():
        session(
            acme.engagement, starts_at=FUTURE, external_id="S-1", status=SessionStatus.CANCELLED,
            cancelled_at=at(1, 9), cancelled_by="provider", cancellation_reason="Trainer ill",
        )  # fmt: skip
    items = [request(1, at(1, 9, month=2)), request(2, at(1, 9, month=2), status="cancelled")]

    errors = write(client, acme, "enrollments", items, door)

    assert errors == [(0, "session_external_id", "The session is cancelled: enroll on another one.")]
    assert statuses(acme) == {}


@pytest.mark.parametrize("door", DOORS)
def test_history_keeps_the_status_and_processed_at_given_on_a_delivered_session(client, acme, door):
    with acme.scope():
        session(acme.engagement, starts_at=at(2, 9), capacity=1, external_id="S-1", status=SessionStatus.DELIVERED)
    items = [
        request(1, at(1, 9, month=2), status="waitlisted", processed_at=at(1, 12, month=2).isoformat()),
        request(2, at(1, 10, month=2), status="enrolled", processed_at=at(2, 9, month=2).isoformat()),
    ]

    errors = write(client, acme, "enrollments", items, door)

    assert errors == []
    with acme.scope():
        assert list(Enrollment.objects.order_by("external_id").values_list("status", "processed_at")) == [
            ("waitlisted", at(1, 12, month=2)),  # the first to ask, yet never seated: that is what happened
            ("enrolled", at(2, 9, month=2)),
        ]


@pytest.mark.parametrize("door", DOORS)
def test_history_cannot_seat_more_learners_than_the_delivered_session_had(client, acme, door):
    with acme.scope():
        session(acme.engagement, starts_at=at(2, 9), capacity=1, external_id="S-1", status=SessionStatus.DELIVERED)
    items = [request(1, at(1, 9, month=2), status="enrolled"), request(2, at(1, 10, month=2), status="enrolled")]

    errors = write(client, acme, "enrollments", items, door)

    message = "The session was delivered with 1 seat: 2 learners would hold one (enrolled, attended or no-show)."
    assert errors == [(1, "session_external_id", message)]
    assert statuses(acme) == {}


@pytest.mark.parametrize("count", [1, 3])
def test_bulk_enrollment_queries_do_not_grow_with_the_items(client, acme, count, django_assert_num_queries):
    with acme.scope():
        session(acme.engagement, starts_at=FUTURE, capacity=2, external_id="S-1")
    client.get("/api/v1/learners/", HTTP_AUTHORIZATION=f"Token {acme.token}")  # the token's "last used" stamp
    items = [request(n, at(1, 9, month=2)) for n in range(1, count + 1)]

    # The caller; stored enrollments, their sessions, learners; the live places of the file's sessions (the check
    # of a second place); savepoint; the sessions locked; their places; the INSERT; the audit events; release.
    with django_assert_num_queries(11):
        errors = write(client, acme, "enrollments", items, "api")

    assert errors == []
    assert len(statuses(acme)) == count


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize(
    ("kind", "queries"),
    [
        # The caller; stored sessions, the engagements, courses, venues, rooms; the rooms' occupying sessions (the
        # double-booking check; new sessions have no instructors yet); the INSERT, then its audit events, in a
        # savepoint.
        ("sessions", 11),
        # The caller; stored completions, learners, courses; savepoint; the INSERT; the audit events; the
        # requirements the courses satisfy; the open assignments, locked; their UPDATE; the next cycles; release.
        ("completions", 12),
        # The caller; stored tickets, the engagements, learners; the INSERT, then its audit events, in a savepoint.
        ("tickets", 8),
    ],
)
def test_upsert_queries_do_not_grow_with_the_items(client, acme, kind, queries, count, django_assert_num_queries):
    with acme.scope():
        room = RoomFactory(organization=acme.organization, name="Room 1", venue__name="HQ", capacity=12)
        requirement = ComplianceRequirement.objects.create(
            organization=acme.organization, name="Data protection", recertification_interval_days=365
        )
        RequirementCourse.objects.create(organization=acme.organization, requirement=requirement, course=acme.course)
        for learner in acme.learners:
            ComplianceAssignment.objects.create(
                organization=acme.organization, requirement=requirement, learner=learner, due_on=date(2026, 9, 30)
            )
    client.get("/api/v1/learners/", HTTP_AUTHORIZATION=f"Token {acme.token}")  # the token's "last used" stamp
    day = "2026-03-0{n}T09:00:00+00:00"
    item = {
        "sessions": lambda n: {
            **SESSION, "external_id": f"S-{n}", "modality": "ilt", "join_url": "", "venue": "HQ", "room": room.name,
            "starts_at": day.format(n=n), "ends_at": day.format(n=n).replace("T09", "T12"), "status": "confirmed",
            "confirmed_at": "2026-02-03T09:00:00+00:00",
        },
        "completions": lambda n: {
            "external_id": f"CP-{n}", "learner_external_id": f"L-{n}", "course_code": "C001",
            "completed_at": day.format(n=n),
        },
        "tickets": lambda n: {
            "external_id": f"T-{n}", "engagement_id": str(acme.engagement.pk), "category": "technical",
            "subject": "No sound", "opened_at": day.format(n=n), "learner_external_id": f"L-{n}",
        },
    }[kind]  # fmt: skip

    with django_assert_num_queries(queries):
        errors = write(client, acme, kind, [item(n) for n in range(1, count + 1)], "api")

    assert errors == []
    with acme.scope():
        assert AuditEvent.objects.filter(action=f"import.{kind}").count() == count


# --- Completions close compliance assignments --------------------------------------------------------------


@pytest.mark.parametrize("door", DOORS)
def test_a_completion_closes_the_learners_open_assignment_and_opens_the_next_cycle(client, acme, door):
    with acme.scope():
        org = acme.organization
        requirement = ComplianceRequirement.objects.create(
            organization=org, name="Data protection", recertification_interval_days=365
        )
        RequirementCourse.objects.create(organization=org, requirement=requirement, course=acme.course)
        assignment = ComplianceAssignment.objects.create(
            organization=org, requirement=requirement, learner=acme.learners[0], due_on=date(2026, 9, 30)
        )
        other = ComplianceAssignment.objects.create(
            organization=org, requirement=requirement, learner=acme.learners[1], due_on=date(2026, 9, 30)
        )
    item = {"external_id": "CP-1", "learner_external_id": "L-1", "course_code": "C001"}

    errors = write(client, acme, "completions", [{**item, "completed_at": "2026-03-02T12:00:00+00:00"}], door)

    assert errors == []
    with acme.scope():
        assert list(
            ComplianceAssignment.objects.order_by("learner", "due_on").values_list(
                "pk", "learner", "due_on", "completed_at", "completion__external_id"
            )
        ) == [
            (assignment.pk, acme.learners[0].pk, date(2026, 9, 30), at(2, 12), "CP-1"),
            (
                ComplianceAssignment.objects.get(due_on=date(2027, 3, 2)).pk,  # 2 March 2026 + 365 days
                acme.learners[0].pk,
                date(2027, 3, 2),
                None,
                None,
            ),
            (other.pk, acme.learners[1].pk, date(2026, 9, 30), None, None),
        ]


# --- Sessions: history, transitions, double booking -------------------------------------------------------

SESSION = {
    "external_id": "S-1",
    "engagement": "Managed learning",
    "course_code": "C001",
    "modality": Modality.VILT,
    "starts_at": "2026-03-02T09:00:00+00:00",
    "ends_at": "2026-03-02T12:00:00+00:00",
    "capacity": "10",
    "join_url": "https://meet.example.com/s-1",
    "requested_at": "2026-02-02T09:00:00+00:00",
}


def test_a_history_of_sessions_round_trips_through_the_api(client, acme):
    delivered = {**SESSION, "status": "delivered", "confirmed_at": "2026-02-03T10:00:00+01:00"}
    cancelled = {
        **SESSION, "external_id": "S-2", "status": "cancelled", "confirmed_at": "2026-02-03T09:00:00+00:00",
        "cancelled_at": "2026-02-20T09:00:00+00:00", "cancelled_by": "client", "cancellation_reason": "Re-org",
    }  # fmt: skip

    errors = write(client, acme, "sessions", [delivered, cancelled], "api")
    listed = client.get("/api/v1/sessions/?ordering=id", HTTP_AUTHORIZATION=f"Token {acme.token}").json()

    assert errors == []
    fields = ("external_id", "status", "requested_at", "confirmed_at", "cancelled_at", "cancelled_by")
    assert [tuple(row[field] for field in fields) for row in listed["results"]] == [
        ("S-1", "delivered", "2026-02-02T09:00:00Z", "2026-02-03T09:00:00Z", None, ""),
        ("S-2", "cancelled", "2026-02-02T09:00:00Z", "2026-02-03T09:00:00Z", "2026-02-20T09:00:00Z", "client"),
    ]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"status": "confirmed"},
            ("confirmed_at", "A confirmed session needs confirmed_at (when it was confirmed)."),
        ),
        (
            {"status": "delivered", "confirmed_at": "2026-02-01T09:00:00+00:00"},
            ("confirmed_at", "confirmed_at cannot be before requested_at."),
        ),
        (
            {"status": "delivered", "confirmed_at": "2026-05-03T09:00:00+00:00", "starts_at": "2026-06-01T09:01:00Z",
             "ends_at": "2026-06-01T12:00:00Z"},
            ("status", "A session that has not started yet cannot be delivered."),
        ),
        (
            {"status": "cancelled", "cancelled_at": "2026-02-20T09:00:00+00:00", "cancellation_reason": "Re-org"},
            ("cancelled_by", "A cancelled session needs cancelled_by."),
        ),
        (
            {"cancelled_by": "client"},
            ("cancelled_by", "cancelled_by is for a cancelled session; give status cancelled."),
        ),
        (
            {"status": "held"},
            ("status", "'held' is not allowed here; use one of: requested, confirmed, delivered, cancelled."),
        ),
        (
            {"status": "confirmed", "confirmed_at": "2026-02-03T09:00:00+00:00", "join_url": ""},
            ("join_url", "A virtual session needs a join link."),
        ),
    ],
    ids=["no-confirmed-at", "confirmed-before-request", "delivered-future", "no-side", "side-not-cancelled",
         "unknown-status", "no-join-link"],
)  # fmt: skip
@pytest.mark.parametrize("door", DOORS)
def test_an_invalid_session_state_is_a_field_error_and_nothing_is_written(client, acme, door, change, error):
    errors = write(client, acme, "sessions", [{**SESSION, **change}], door)

    assert errors == [(0, *error)]
    with acme.scope():
        assert Session.objects.count() == 0


@pytest.mark.parametrize("door", DOORS)
def test_a_delivered_session_stays_delivered(client, acme, door):
    write(client, acme, "sessions", [{**SESSION, "status": "delivered", "confirmed_at": SESSION["requested_at"]}], door)

    errors = write(client, acme, "sessions", [{**SESSION, "status": "requested"}], door)

    assert errors == [(0, "status", "Session S-1 is delivered: it cannot become requested.")]
    with acme.scope():
        assert Session.objects.get().status == SessionStatus.DELIVERED


@pytest.mark.parametrize("door", DOORS)
def test_a_session_confirmed_by_import_cannot_take_a_booked_room(client, acme, door):
    with acme.scope():
        room = RoomFactory(organization=acme.organization, name="Room 1", venue__name="HQ", capacity=12)
        session(acme.engagement, starts_at=at(2, 10), room=room)  # confirmed, 10:00-13:00
    classroom = {**SESSION, "modality": "ilt", "join_url": "", "venue": "HQ", "room": "Room 1"}
    confirmed = {"status": "confirmed", "confirmed_at": "2026-02-03T09:00:00+00:00"}
    later = {"starts_at": "2026-03-03T09:00:00+00:00", "ends_at": "2026-03-03T12:00:00+00:00"}
    items = [
        {**classroom, **confirmed},  # overlaps the stored session
        {**classroom, **confirmed, **later, "external_id": "S-2"},
        {**classroom, **confirmed, **later, "external_id": "S-3"},  # overlaps S-2 of the same file
        {**classroom, **later, "external_id": "S-4"},  # requested: it holds nothing yet
    ]

    errors = write(client, acme, "sessions", items, door)

    assert errors == [
        (0, "room", "The room is already booked at that time."),
        (2, "room", "The room is already booked at that time."),
    ]
    with acme.scope():
        assert Session.objects.count() == 1


# --- Engagements by id or external_id --------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["engagement_id", "engagement_external_id"])
@pytest.mark.parametrize("door", DOORS)
def test_sessions_and_tickets_name_their_engagement_by_id_or_external_id(client, acme, door, reference):
    key = {"engagement_id": str(acme.engagement.pk), "engagement_external_id": "ERP-1"}[reference]
    item = {key: value for key, value in SESSION.items() if key != "engagement"}
    ticket = {"external_id": "T-1", "category": "technical", "subject": "No sound", "opened_at": SESSION["starts_at"]}

    errors = write(client, acme, "sessions", [{**item, reference: key}], door)
    errors += write(client, acme, "tickets", [{**ticket, reference: key}], door)

    assert errors == []
    with acme.scope():
        assert list(Session.objects.values_list("engagement", flat=True)) == [acme.engagement.pk]
        assert list(SupportTicket.objects.values_list("engagement", flat=True)) == [acme.engagement.pk]


@pytest.mark.parametrize(
    ("reference", "error"),
    [
        ({}, ("engagement", "Give the engagement by exactly one of engagement (its name), engagement_id or "
                            "engagement_external_id.")),
        ({"engagement": "Managed learning", "engagement_external_id": "ERP-1"},
         ("engagement_external_id", "Give the engagement by exactly one of engagement (its name), engagement_id or "
                                    "engagement_external_id.")),
        ({"engagement_id": "one"}, ("engagement_id", "'one' is not an engagement id (a whole number).")),
        ({"engagement_id": "999999999"}, ("engagement_id", "No engagement with id '999999999' in this organization.")),
        ({"engagement_external_id": "ERP-9"},
         ("engagement_external_id", "No engagement with external_id 'ERP-9' in this organization.")),
    ],
    ids=["none", "two", "not-a-number", "unknown-id", "unknown-external-id"],
)  # fmt: skip
@pytest.mark.parametrize("door", DOORS)
def test_a_ticket_without_exactly_one_known_engagement_is_refused(client, acme, tenant_b, door, reference, error):
    EngagementFactory(organization=tenant_b.organization, provider=tenant_b.provider, external_id="ERP-9")
    ticket = {"external_id": "T-1", "category": "technical", "subject": "No sound", "opened_at": SESSION["starts_at"]}

    errors = write(client, acme, "tickets", [{**ticket, **reference}], door)

    assert errors == [(0, *error)]
    with acme.scope():
        assert SupportTicket.objects.count() == 0


# --- One audit event per written row -----------------------------------------------------------------------


@pytest.mark.parametrize("door", DOORS)
def test_an_import_of_three_changed_tickets_writes_three_events_with_before_and_after(client, acme, door):
    tickets = [
        {"external_id": f"T-{n}", "engagement_external_id": "ERP-1", "category": "technical", "subject": f"Issue {n}",
         "opened_at": "2026-03-02T09:00:00+00:00", "first_response_at": ""}
        for n in (1, 2, 3, 4)
    ]  # fmt: skip
    write(client, acme, "tickets", tickets, door)
    with acme.scope():
        first = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    answered = [{**ticket, "first_response_at": "2026-03-02T10:00:00+00:00"} for ticket in tickets[:3]]

    errors = write(client, acme, "tickets", [*answered, tickets[3]], door)

    assert errors == []
    with acme.scope():
        ids = dict(SupportTicket.objects.values_list("external_id", "pk"))
        events = AuditEvent.objects.filter(pk__gt=first).order_by("id")
        changes = [(e.action, e.object_id, e.before["first_response_at"], e.after["first_response_at"]) for e in events]
    assert changes == [("import.tickets", str(ids[f"T-{n}"]), None, "2026-03-02T10:00:00Z") for n in (1, 2, 3)]
