"""Delivery rules: no double booking (service and PostgreSQL), capacity and FIFO waitlist, cancel/reschedule."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from mls.enums import Role
from scheduling import services
from scheduling.enums import EnrollmentStatus, Modality, SessionStatus
from scheduling.models import Session, SessionInstructor
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, InstructorFactory, LearnerFactory, RoomFactory, at

pytestmark = pytest.mark.unit


class Delivery:
    """Tenant A's engagement with one room, one instructor and one course, acted on by its provider manager."""

    def __init__(self, tenant) -> None:
        org = tenant.organization
        self.tenant = tenant
        self.pm = tenant.members[Role.PROVIDER_MANAGER]
        self.engagement = EngagementFactory(organization=org, provider=tenant.provider)
        self.course = CourseFactory(organization=org)
        self.room = RoomFactory(organization=org, capacity=12)
        self.instructor = InstructorFactory(organization=org, provider=tenant.provider)

    def session(self, start, hours=3, capacity=10, room="default", confirm=True, instructors=None) -> Session:
        session = services.request_session(
            engagement=self.engagement,
            membership=self.pm,
            course=self.course,
            modality=Modality.ILT,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            capacity=capacity,
            room=self.room if room == "default" else room,
            instructors=[self.instructor] if instructors is None else instructors,
        )
        return services.confirm_session(session=session, membership=self.pm) if confirm else session


@pytest.fixture
def delivery(tenant_a):
    with tenant_a.scope():
        yield Delivery(tenant_a)


def test_overlapping_request_for_the_same_instructor_is_refused_at_save_naming_the_session(delivery):
    held = delivery.session(at(2, 9))

    with pytest.raises(ValidationError) as error:
        delivery.session(at(2, 11), room=RoomFactory(organization=delivery.tenant.organization), confirm=False)

    named = f"session {held.pk}, {delivery.course.code} on 02 Mar 2026 09:00"
    assert error.value.message_dict == {
        "instructors": [f"Already booked at that time: {delivery.instructor.name} ({named})."]
    }
    assert list(Session.objects.values_list("pk", flat=True)) == [held.pk]


def test_overlapping_confirmation_for_the_same_room_is_refused_naming_the_session(delivery):
    other = InstructorFactory(organization=delivery.tenant.organization, provider=delivery.tenant.provider)
    first = delivery.session(at(2, 9), confirm=False)
    clash = delivery.session(at(2, 10), instructors=[other], confirm=False)  # neither holds the room yet
    services.confirm_session(session=first, membership=delivery.pm)

    with pytest.raises(ValidationError) as error:
        services.confirm_session(session=clash, membership=delivery.pm)

    named = f"session {first.pk}, {delivery.course.code} on 02 Mar 2026 09:00"
    assert error.value.message_dict == {"room": [f"The room is already booked at that time by {named}."]}
    clash.refresh_from_db()
    assert clash.status == SessionStatus.REQUESTED


def test_reschedule_onto_a_booked_room_is_refused_naming_the_session(delivery):
    other = InstructorFactory(organization=delivery.tenant.organization, provider=delivery.tenant.provider)
    booked = delivery.session(at(9, 9), instructors=[other])
    session = delivery.session(at(2, 9))
    services.cancel_session(session=session, membership=delivery.pm, cancelled_by="provider", reason="Trainer ill")

    with pytest.raises(ValidationError) as error:
        services.reschedule_session(session=session, membership=delivery.pm, starts_at=at(9, 10), ends_at=at(9, 12))

    named = f"session {booked.pk}, {delivery.course.code} on 09 Mar 2026 09:00"
    assert error.value.message_dict == {"room": [f"The room is already booked at that time by {named}."]}
    assert not Session.objects.filter(replaces=session).exists()


def test_back_to_back_sessions_do_not_overlap(delivery):
    delivery.session(at(2, 9), hours=3)

    second = delivery.session(at(2, 12), hours=3)

    assert second.status == SessionStatus.CONFIRMED


def _wait_until_waiting_for_a_lock(backend_pid: int) -> bool:
    """Poll (deadline 30 s) until the database backend `backend_pid` waits for a lock another transaction holds."""
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [backend_pid])
            if cursor.fetchone() == ("Lock",):
                return True
    return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("constraint", ["instructor", "room"])
def test_postgres_exclusion_constraint_refuses_double_booking_when_the_service_check_is_raced(delivery, constraint):
    held = delivery.session(at(2, 9), confirm=False)
    if constraint == "instructor":
        clash = delivery.session(at(2, 10), room=RoomFactory(organization=delivery.tenant.organization), confirm=False)
        expected = "An instructor of this session is already booked at that time."
    else:
        other = InstructorFactory(organization=delivery.tenant.organization, provider=delivery.tenant.provider)
        clash = delivery.session(at(2, 10), instructors=[other], confirm=False)
        expected = "The room is already booked at that time."
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (this_request,) = cursor.fetchone()
    confirmed, saw_the_wait = threading.Event(), []

    def concurrent_request() -> None:
        """Confirms `held` and commits only once this test's request, which passed the service check at the same
        moment, waits on the database for the outcome."""
        try:
            with delivery.tenant.scope(), transaction.atomic():
                services.confirm_session(session=held, membership=delivery.pm)
                confirmed.set()
                saw_the_wait.append(_wait_until_waiting_for_a_lock(this_request))
        finally:
            confirmed.set()
            connection.close()

    concurrent = threading.Thread(target=concurrent_request)
    concurrent.start()
    confirmed.wait(timeout=30)
    with pytest.raises(ValidationError) as error:
        services.confirm_session(session=clash, membership=delivery.pm)
    concurrent.join()

    assert saw_the_wait == [True]  # the service check passed: only the database could stop the second booking
    assert error.value.messages == [expected]
    assert SessionInstructor.objects.filter(occupies=True).count() == 1


def test_postgres_constraint_rejects_a_raw_overlapping_slot(delivery):
    first = delivery.session(at(2, 9))
    slot = first.session_instructors.get()

    with pytest.raises(IntegrityError, match="scheduling_instructor_not_double_booked"), transaction.atomic():
        SessionInstructor.objects.create(
            organization=slot.organization,
            session=delivery.session(at(5, 9), confirm=False, instructors=[]),
            instructor=slot.instructor,
            starts_at=at(2, 10),
            ends_at=at(2, 11),
            occupies=True,
        )


def test_same_times_in_two_organizations_never_conflict(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        with tenant.scope():
            session = Delivery(tenant).session(at(2, 9))
        assert session.status == SessionStatus.CONFIRMED


def test_cancelled_session_frees_instructor_and_room(delivery):
    first = delivery.session(at(2, 9))
    services.cancel_session(session=first, membership=delivery.pm, cancelled_by="provider", reason="Trainer ill")

    second = delivery.session(at(2, 9))

    assert second.status == SessionStatus.CONFIRMED


def test_capacity_overflow_goes_to_waitlist_and_cancellation_promotes_first_in_line(
    delivery, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(at(1, 8), tick=False)  # before the session: a learner is told of a seat still to come
    session = delivery.session(at(2, 9), capacity=2)
    first, second, late, early = (LearnerFactory(organization=delivery.tenant.organization) for _ in range(4))
    seated = services.enroll(session=session, learner=first, membership=delivery.pm)
    services.enroll(session=session, learner=second, membership=delivery.pm)
    # Waitlisted in request order, not creation order: `early` asked first.
    services.enroll(session=session, learner=late, membership=delivery.pm, requested_at=at(1, 12, month=2))
    waiting = services.enroll(session=session, learner=early, membership=delivery.pm, requested_at=at(1, 9, month=2))

    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.cancel_enrollment(enrollment=seated, membership=delivery.pm)

    assert (waiting.status, promoted.pk) == (EnrollmentStatus.WAITLISTED, waiting.pk)
    assert list(session.enrollments.order_by("learner__name").values_list("learner__name", "status")) == sorted(
        [
            (first.name, "cancelled"),
            (second.name, "enrolled"),
            (late.name, "waitlisted"),
            (early.name, "enrolled"),
        ]
    )
    assert [m.to for m in mail.outbox] == [[early.email]]


def test_cancelling_a_waitlisted_enrollment_promotes_nobody(delivery):
    session = delivery.session(at(2, 9), capacity=1)
    learners = [LearnerFactory(organization=delivery.tenant.organization) for _ in range(3)]
    enrollments = [services.enroll(session=session, learner=x, membership=delivery.pm) for x in learners]

    promoted = services.cancel_enrollment(enrollment=enrollments[1], membership=delivery.pm)

    assert promoted is None
    assert [e.status for e in session.enrollments.order_by("id")] == ["enrolled", "cancelled", "waitlisted"]


def test_cancel_then_reschedule_keeps_history_and_moves_enrollments(
    delivery, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(at(1, 8), tick=False)  # before the session: learners are told of what is still to come
    session = delivery.session(at(2, 9))
    learners = [LearnerFactory(organization=delivery.tenant.organization) for _ in range(2)]
    for learner in learners:
        services.enroll(session=session, learner=learner, membership=delivery.pm)

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(session=session, membership=delivery.pm, cancelled_by="provider", reason="Trainer ill")
        replacement = services.reschedule_session(
            session=session, membership=delivery.pm, starts_at=at(9, 9), ends_at=at(9, 12)
        )

    session.refresh_from_db()
    assert (session.status, session.cancelled_by, session.cancellation_reason) == (
        "cancelled",
        "provider",
        "Trainer ill",
    )
    assert (replacement.status, replacement.replaces_id) == (SessionStatus.CONFIRMED, session.pk)
    assert sorted(replacement.enrollments.values_list("learner__email", flat=True)) == sorted(x.email for x in learners)
    assert session.enrollments.count() == 0
    # Each learner is told of the cancellation, then of the replacement (one message per learner: communications).
    assert [(m.subject.split(":")[0], m.to) for m in mail.outbox] == [
        *[("Cancelled", [x.email]) for x in learners],
        *[("Rescheduled", [x.email]) for x in learners],
    ]


def test_reschedule_at_a_given_moment_requests_and_confirms_the_replacement_then(delivery):
    session = delivery.session(at(2, 9))
    cancelled_at, rescheduled_at = at(1, 8), at(1, 13)  # the day before, as a history load records it
    services.cancel_session(
        session=session, membership=delivery.pm, cancelled_by="provider", reason="Trainer ill", now=cancelled_at
    )

    replacement = services.reschedule_session(
        session=session, membership=delivery.pm, starts_at=at(9, 9), ends_at=at(9, 12), now=rescheduled_at
    )

    assert (replacement.requested_at, replacement.confirmed_at) == (rescheduled_at, rescheduled_at)


@pytest.mark.parametrize(
    ("side", "reason", "field"), [("provider", " ", "reason"), ("vendor", "Room flooded", "cancelled_by")]
)
def test_cancel_session_requires_side_and_reason(delivery, side, reason, field):
    session = delivery.session(at(2, 9))

    with pytest.raises(ValidationError) as error:
        services.cancel_session(session=session, membership=delivery.pm, cancelled_by=side, reason=reason)

    assert list(error.value.message_dict) == [field]
    session.refresh_from_db()
    assert session.status == SessionStatus.CONFIRMED


def test_delivered_requires_attendance_first(delivery):
    session = delivery.session(at(2, 9))
    learners = [LearnerFactory(organization=delivery.tenant.organization) for _ in range(3)]
    enrollments = [services.enroll(session=session, learner=x, membership=delivery.pm) for x in learners]

    with pytest.raises(ValidationError, match="Record attendance first: 3 enrolled"):
        services.mark_delivered(session=session, membership=delivery.pm)
    services.record_attendance(
        session=session, membership=delivery.pm, present_ids=[enrollments[0].pk, enrollments[2].pk]
    )
    delivered = services.mark_delivered(session=session, membership=delivery.pm)

    assert delivered.status == SessionStatus.DELIVERED
    assert [e.status for e in session.enrollments.order_by("id")] == ["attended", "no_show", "attended"]


def test_attendance_before_the_session_starts_is_refused(delivery):
    future = delivery.session(at(2, 9, year=2030))

    with pytest.raises(ValidationError, match="has not started yet"):
        services.record_attendance(session=future, membership=delivery.pm, present_ids=[])


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LD_DIRECTOR, Role.PROCUREMENT])
def test_only_the_providers_managers_and_owners_log_delivery(delivery, role):
    with pytest.raises(ValidationError, match="Only the provider's account managers"):
        services.request_session(
            engagement=delivery.engagement,
            membership=delivery.tenant.members[role],
            course=delivery.course,
            modality=Modality.VILT,
            starts_at=at(2, 9),
            ends_at=at(2, 10),
            capacity=5,
            join_url="https://meet.example/x",
        )


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"room": None, "join_url": "https://meet.example/h"}, {"room": ["A hybrid session needs a room."]}),
        ({"room": "default", "join_url": ""}, {"join_url": ["A hybrid session needs a join link."]}),
    ],
)
def test_hybrid_session_needs_both_a_room_and_a_join_link_to_be_confirmed(delivery, given, missing):
    session = services.request_session(
        engagement=delivery.engagement,
        membership=delivery.pm,
        course=delivery.course,
        modality=Modality.HYBRID,
        starts_at=at(2, 9),
        ends_at=at(2, 12),
        capacity=5,
        room=delivery.room if given["room"] == "default" else None,
        join_url=given["join_url"],
    )

    with pytest.raises(ValidationError) as error:
        services.confirm_session(session=session, membership=delivery.pm)

    assert error.value.message_dict == missing


def test_hybrid_session_with_a_room_and_a_join_link_is_confirmed(delivery):
    session = services.request_session(
        engagement=delivery.engagement,
        membership=delivery.pm,
        course=delivery.course,
        modality=Modality.HYBRID,
        starts_at=at(2, 9),
        ends_at=at(2, 12),
        capacity=5,
        room=delivery.room,
        join_url="https://meet.example/h",
    )

    confirmed = services.confirm_session(session=session, membership=delivery.pm)

    assert (confirmed.status, confirmed.room, confirmed.join_url) == (
        SessionStatus.CONFIRMED,
        delivery.room,
        "https://meet.example/h",
    )


def test_classroom_session_needs_a_room_to_be_confirmed(delivery):
    session = delivery.session(at(2, 9), room=None, confirm=False)

    with pytest.raises(ValidationError) as error:
        services.confirm_session(session=session, membership=delivery.pm)

    assert error.value.message_dict == {"room": ["A classroom session needs a room."]}
