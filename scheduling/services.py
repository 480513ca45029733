"""Writes of the delivery domain, each atomic and audited; the web, CSV, API and xAPI paths all call them.

Double booking: the services check overlaps first (clear message, and the only guard on SQLite); on PostgreSQL
the exclusion constraints of migration 0003 also refuse it, which closes the race between two requests.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from engagements.enums import Side
from engagements.models import Engagement
from mls.audit import record_event, save_audited
from mls.enums import Permission
from mls.events import emit_after_commit
from mls.mail import email_after_commit
from mls.models import Membership
from vendors.models import Instructor

from .enums import OCCUPYING_STATUSES, SEATED_STATUSES, CompletionSource, EnrollmentStatus, Modality, SessionStatus
from .models import (
    AssessmentAttempt,
    Attendance,
    Completion,
    ComplianceAssignment,
    ComplianceReminder,
    ComplianceRequirement,
    ContentReview,
    Course,
    Enrollment,
    Feedback,
    Learner,
    Outage,
    RequirementCourse,
    Room,
    Session,
    SessionInstructor,
    SupportTicket,
    Venue,
)
from .selectors import attempt_courses

CONSTRAINT_MESSAGES = {
    "scheduling_instructor_not_double_booked": "An instructor of this session is already booked at that time.",
    "scheduling_room_not_double_booked": "The room is already booked at that time.",
}


def require_delivery_writer(membership: Membership, engagement: Engagement) -> None:
    """LOG_DELIVERY, and for a provider's account manager only on its provider's engagements: the provider logs
    its own delivery, the owners may correct anything."""
    if not membership.has_permission(Permission.LOG_DELIVERY) or not membership.acts_for(engagement.provider_id):
        raise ValidationError("Only the provider's account managers log delivery for this engagement.")


# --- Sessions ----------------------------------------------------------------------------------


def _overlapping(starts_at: datetime, ends_at: datetime) -> Q:
    return Q(starts_at__lt=ends_at, ends_at__gt=starts_at)


def double_bookings(sessions: Sequence[Session]) -> dict[int, dict[str, str]]:
    """Field errors, by index, of `sessions` that would hold a room or an instructor (of their stored slots) that
    another occupying session holds at an overlapping time: a stored one, or one earlier in `sessions`. Three
    queries whatever their number (a web confirmation is one session, an import many)."""
    if not sessions:
        return {}
    window = _overlapping(min(s.starts_at for s in sessions), max(s.ends_at for s in sessions))
    stored = [session.pk for session in sessions if session.pk is not None]
    held: dict[tuple[str, int], list[tuple[datetime, datetime]]] = defaultdict(list)
    rooms = {session.room_id for session in sessions if session.room_id}
    if rooms:
        taken = Session.objects.filter(window, room__in=rooms, status__in=OCCUPYING_STATUSES).exclude(pk__in=stored)
        for room, starts_at, ends_at in taken.values_list("room", "starts_at", "ends_at"):
            held[("room", room)].append((starts_at, ends_at))
    instructors_of: dict[int, list[Instructor]] = defaultdict(list)
    for slot in SessionInstructor.objects.filter(session__in=stored).select_related("instructor"):
        instructors_of[slot.session_id].append(slot.instructor)
    if instructors_of:
        busy = SessionInstructor.objects.filter(
            window, instructor__in={i.pk for slots in instructors_of.values() for i in slots}, occupies=True
        ).exclude(session__in=stored)
        for instructor, starts_at, ends_at in busy.values_list("instructor", "starts_at", "ends_at"):
            held[("instructor", instructor)].append((starts_at, ends_at))
    clashes: dict[int, dict[str, str]] = {}
    for index, session in enumerate(sessions):
        errors = {}
        if session.room_id and _overlaps(held[("room", session.room_id)], session):
            errors["room"] = CONSTRAINT_MESSAGES["scheduling_room_not_double_booked"]
        instructors = instructors_of.get(session.pk, [])
        if names := sorted({i.name for i in instructors if _overlaps(held[("instructor", i.pk)], session)}):
            errors["instructors"] = f"Already booked at that time: {', '.join(names)}."
        if errors:
            clashes[index] = errors
            continue  # a refused session holds nothing for the ones after it
        keys = [("instructor", instructor.pk) for instructor in instructors]
        for key in [("room", session.room_id), *keys] if session.room_id else keys:
            held[key].append((session.starts_at, session.ends_at))
    return clashes


def _overlaps(spans: list[tuple[datetime, datetime]], session: Session) -> bool:
    return any(starts_at < session.ends_at and ends_at > session.starts_at for starts_at, ends_at in spans)


def _check_bookable(session: Session) -> None:
    """Refuse a room or instructor already held by another occupying session at an overlapping time."""
    if clashes := double_bookings([session]):
        raise ValidationError(clashes[0])


def check_delivery_setup(session: Session) -> None:
    """What a session needs before it is confirmed: its room or join link, and no more seats than the room has."""
    if session.modality == Modality.ILT and session.room_id is None:
        raise ValidationError({"room": "A classroom session needs a room."})
    if session.modality == Modality.VILT and not session.join_url:
        raise ValidationError({"join_url": "A virtual session needs a join link."})
    if session.room_id and session.capacity > session.room.capacity:
        raise ValidationError({"capacity": f"The room seats {session.room.capacity}; lower the capacity."})


def _save_mapping_constraints(obj: Any, **save_kwargs: Any) -> None:
    """Save; turn a double-booking exclusion violation (a concurrent booking) into a clear ValidationError."""
    with _constraint_messages():
        obj.save(**save_kwargs)


@contextmanager
def _constraint_messages() -> Iterator[None]:
    """Turn a double-booking exclusion violation (a concurrent booking) into a clear ValidationError."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        for name, message in CONSTRAINT_MESSAGES.items():
            if name in str(error):
                raise ValidationError(message) from error
        raise


def sync_instructor_slots(sessions: Sequence[Session]) -> None:
    """The instructors' slots copy their session's times and whether it holds them (what the exclusion constraint
    compares): one UPDATE for the sessions that hold their instructors, one for those that do not."""
    for occupies in (True, False):
        ids = [session.pk for session in sessions if (session.status in OCCUPYING_STATUSES) == occupies]
        if ids:
            of_session = Session.objects.filter(pk=OuterRef("session"))
            SessionInstructor.objects.filter(session__in=ids).update(
                occupies=occupies,
                starts_at=Subquery(of_session.values("starts_at")),
                ends_at=Subquery(of_session.values("ends_at")),
            )


def _sync_instructor_slots(session: Session) -> None:
    with _constraint_messages():
        sync_instructor_slots([session])


@transaction.atomic
def request_session(
    *,
    engagement: Engagement,
    membership: Membership,
    course: Course,
    modality: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    room: Room | None = None,
    join_url: str = "",
    instructors: Iterable[Instructor] = (),
    requested_at: datetime | None = None,
    external_id: str = "",
    now: datetime | None = None,
) -> Session:
    """Record a session request (requested_at starts the confirmation clock of SPEC-SLA §3)."""
    now = now or timezone.now()
    require_delivery_writer(membership, engagement)
    session = Session(
        organization=engagement.organization,
        engagement=engagement,
        course=course,
        modality=modality,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        room=room,
        join_url=join_url,
        requested_at=requested_at or now,
        external_id=external_id,
    )
    session.full_clean()
    session.save()
    for instructor in instructors:
        if instructor.provider_id != engagement.provider_id:
            raise ValidationError({"instructors": f"{instructor} does not work for {engagement.provider}."})
        SessionInstructor.objects.create(
            organization=session.organization,
            session=session,
            instructor=instructor,
            starts_at=starts_at,
            ends_at=ends_at,
        )
    session.log_action("session.requested", actor=membership.user)
    return session


@transaction.atomic
def confirm_session(*, session: Session, membership: Membership, now: datetime | None = None) -> Session:
    """Confirm a requested session: the room and instructors become occupied (no double booking)."""
    now = now or timezone.now()
    session = Session.objects.select_for_update(of=("self",)).select_related("room").get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status != SessionStatus.REQUESTED:
        raise ValidationError(f"Only a requested session can be confirmed; this one is {session.status}.")
    check_delivery_setup(session)
    _check_bookable(session)
    session.status, session.confirmed_at = SessionStatus.CONFIRMED, now
    _save_mapping_constraints(session)
    _sync_instructor_slots(session)
    session.log_action("session.confirmed", actor=membership.user)
    return session


@transaction.atomic
def cancel_session(
    *, session: Session, membership: Membership, cancelled_by: str, reason: str, now: datetime | None = None
) -> Session:
    """Cancel, keeping the session with who cancelled and why; enrolled learners are told by email."""
    now = now or timezone.now()
    session = Session.objects.select_for_update().get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status not in (SessionStatus.REQUESTED, SessionStatus.CONFIRMED):
        raise ValidationError(f"A {session.get_status_display().lower()} session cannot be cancelled.")
    if cancelled_by not in Side.values:
        raise ValidationError({"cancelled_by": "Say which side cancelled: client or provider."})
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the cancellation."})
    session.status, session.cancelled_at = SessionStatus.CANCELLED, now
    session.cancelled_by, session.cancellation_reason = cancelled_by, reason.strip()
    session.save()
    _sync_instructor_slots(session)
    learners = Learner.objects.filter(enrollments__session=session, enrollments__status__in=SEATED_STATUSES)
    email_after_commit(
        subject=f"Cancelled: {session.course.title} on {session.starts_at:%d %b %Y}",
        body=f"The session you were enrolled on has been cancelled ({session.cancellation_reason}). "
        "You will hear from us when it is rescheduled.",
        recipients=learners.values_list("email", flat=True),
    )
    emit_after_commit(session.log_action("session.cancelled", actor=membership.user))
    return session


@transaction.atomic
def reschedule_session(
    *,
    session: Session,
    membership: Membership,
    starts_at: datetime,
    ends_at: datetime,
    room: Room | None = None,
    now: datetime | None = None,
) -> Session:
    """Create the confirmed replacement of a cancelled session and move its live enrollments there."""
    now = now or timezone.now()
    session = Session.objects.select_for_update().get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status != SessionStatus.CANCELLED:
        raise ValidationError("Cancel the session (with its reason) before rescheduling it.")
    if session.replacements.exists():
        raise ValidationError("This session has already been rescheduled.")
    replacement = request_session(
        engagement=session.engagement,
        membership=membership,
        course=session.course,
        modality=session.modality,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=session.capacity,
        room=room if room is not None else session.room,
        join_url=session.join_url,
        instructors=Instructor.objects.filter(session_slots__session=session),
    )
    replacement.replaces = session
    replacement.save(update_fields=["replaces"])
    replacement = confirm_session(session=replacement, membership=membership)
    moved = session.enrollments.exclude(status=EnrollmentStatus.CANCELLED)
    learners = list(moved.values_list("learner__email", flat=True))
    moved.update(session=replacement, updated_at=now)
    email_after_commit(
        subject=f"Rescheduled: {session.course.title}",
        body=f"Your place has moved to {replacement.starts_at:%d %b %Y %H:%M} UTC.",
        recipients=learners,
    )
    return replacement


# --- Enrollments -------------------------------------------------------------------------------

SEAT_REQUEST = ""  # an enrollment status to be decided by `place_enrollments`: a seat if one is free, else the waitlist


@dataclass
class SeatRequest:
    """One enrollment being written, with the values it is to have (status SEAT_REQUEST, or one given), and where
    it stood before (None for a new one): the rule needs both to tell a held seat from a new request."""

    enrollment: Enrollment
    stored_session_id: int | None = None
    stored_status: str | None = None


@dataclass
class Placement:
    """What `place_enrollments` decided. `errors` by index of the request; `promoted` are waitlisted learners who
    got a seat (told by email), `others` those of them that were not among the requests (the caller writes them)."""

    errors: dict[int, str] = field(default_factory=dict)
    promoted: list[Enrollment] = field(default_factory=list)
    others: list[Enrollment] = field(default_factory=list)


def place_enrollments(requests: Sequence[SeatRequest], *, now: datetime) -> Placement:
    """Capacity and the FIFO waitlist for a set of enrollments written together (one web action, or every row of
    an import), set-based: one query locks their sessions, one reads the places already taken.

    Live sessions (requested or confirmed): a learner asking for a place (any status but cancelled) gets a seat if
    one is free, else the waitlist, in order of requested_at (then the order of the requests; stored places first);
    a seat held stays held; a cancellation frees its seat for the first in line. A cancelled session takes no new
    places. A delivered session is history: the statuses given are kept (a seat request still gets a free seat or
    the waitlist), nobody is promoted, and the seats taken cannot exceed its capacity. Call inside a transaction.
    """
    placement = Placement()
    ids = {r.enrollment.session_id for r in requests} | {r.stored_session_id for r in requests} - {None}
    # Locked in one order, so two writers of overlapping session sets wait for each other instead of deadlocking.
    sessions = {
        session.pk: session
        for session in Session.objects.select_for_update(of=("self",))
        .select_related("course")
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    }
    requested = {r.enrollment.pk for r in requests if r.enrollment.pk is not None}
    others: dict[int, list[Enrollment]] = defaultdict(list)
    taken = Enrollment.objects.filter(
        session__in=sessions, status__in=(EnrollmentStatus.WAITLISTED, *SEATED_STATUSES)
    ).select_related("learner")
    for enrollment in taken.order_by("requested_at", "id"):
        if enrollment.pk not in requested:
            others[enrollment.session_id].append(enrollment)
    by_session: dict[int, list[tuple[int, SeatRequest]]] = defaultdict(list)
    for index, request in enumerate(requests):
        by_session[request.enrollment.session_id].append((index, request))
    # A session a request leaves (it moves to another) is placed too: its freed seat goes to the first in line.
    for session_id, session in sessions.items():
        _place_on(session, by_session.get(session_id, []), others[session_id], placement, now)
    if not placement.errors:
        for enrollment in placement.promoted:
            email_after_commit(
                subject=f"You have a place: {enrollment.session.course.title}",
                body=f"A seat became free on {enrollment.session.starts_at:%d %b %Y %H:%M} UTC and it is yours.",
                recipients=[enrollment.learner.email],
            )
    return placement


def _place_on(
    session: Session,
    requests: list[tuple[int, SeatRequest]],
    others: list[Enrollment],
    placement: Placement,
    now: datetime,
) -> None:
    """`place_enrollments` for one session: `others` are its places that are not being written."""
    historic = session.status == SessionStatus.DELIVERED
    seated = sum(1 for other in others if other.status in SEATED_STATUSES)
    queue: list[tuple[tuple, Enrollment, str | None]] = []  # (FIFO key, enrollment, status it had)
    if session.status in (SessionStatus.REQUESTED, SessionStatus.CONFIRMED):
        queue = [((o.requested_at, 0, o.pk), o, o.status) for o in others if o.status == EnrollmentStatus.WAITLISTED]
    kept_seats: list[int] = []  # requests given `enrolled` on a delivered session: they must fit its capacity
    for index, request in requests:
        enrollment = request.enrollment
        held = request.stored_status if request.stored_session_id == session.pk else None
        if enrollment.status == EnrollmentStatus.CANCELLED:
            if held != EnrollmentStatus.CANCELLED:
                enrollment.cancelled_at = enrollment.cancelled_at or now
        elif session.status == SessionStatus.CANCELLED:
            if held in (None, EnrollmentStatus.CANCELLED):
                placement.errors[index] = "The session is cancelled: enroll on another one."
            else:
                enrollment.status = held  # nothing moves on a cancelled session
        elif enrollment.status in (EnrollmentStatus.ATTENDED, EnrollmentStatus.NO_SHOW):
            seated += 1  # attendance decided it
        elif historic and enrollment.status != SEAT_REQUEST:
            if enrollment.status == EnrollmentStatus.ENROLLED:
                seated += 1
                kept_seats.append(index)
        elif not historic and held in SEATED_STATUSES:
            enrollment.status = held  # a seat held on a live session stays held
            seated += 1
        else:
            queue.append(((enrollment.requested_at, 1, index), enrollment, held))
    outside = {id(other) for other in others}
    for _, enrollment, held in sorted(queue, key=lambda entry: entry[0]):
        enrollment.status = EnrollmentStatus.ENROLLED if seated < session.capacity else EnrollmentStatus.WAITLISTED
        if enrollment.status == EnrollmentStatus.ENROLLED:
            seated += 1
            if held == EnrollmentStatus.WAITLISTED:
                enrollment.session = session  # the locked row, with its course for the email
                placement.promoted.append(enrollment)
                if id(enrollment) in outside:
                    placement.others.append(enrollment)
    over = seated - session.capacity
    if historic and over > 0:
        for index in kept_seats[max(0, len(kept_seats) - over) :]:
            placement.errors[index] = (
                f"The session was delivered with {session.capacity} seat(s): "
                f"{seated} learners would hold one (enrolled, attended or no-show)."
            )


def _place_one(request: SeatRequest, now: datetime) -> Placement:
    placement = place_enrollments([request], now=now)
    if placement.errors:
        raise ValidationError(placement.errors[0])
    return placement


def _save_promoted(placement: Placement, membership: Membership) -> None:
    for promoted in placement.others:
        promoted.save(update_fields=["status", "updated_at"])
        promoted.log_action("enrollment.promoted", actor=membership.user)


@transaction.atomic
def enroll(
    *,
    session: Session,
    learner: Learner,
    membership: Membership,
    requested_at: datetime | None = None,
    now: datetime | None = None,
) -> Enrollment:
    """A seat if one is free, otherwise a place on the waitlist (first come, first served: `place_enrollments`)."""
    session = Session.objects.select_for_update().get(pk=session.pk)  # serialize seat counting
    require_delivery_writer(membership, session.engagement)
    if session.status == SessionStatus.DELIVERED:
        raise ValidationError("The session is delivered: enroll on another one.")
    if session.enrollments.filter(learner=learner).exclude(status=EnrollmentStatus.CANCELLED).exists():
        raise ValidationError({"learner": f"{learner} is already on this session."})
    now = now or timezone.now()
    enrollment = Enrollment(
        organization=session.organization,
        session=session,
        learner=learner,
        status=SEAT_REQUEST,
        requested_at=requested_at or now,
        processed_at=now,
    )
    _place_one(SeatRequest(enrollment), now)
    enrollment.save()
    enrollment.log_action(f"enrollment.{enrollment.status}", actor=membership.user)
    return enrollment


@transaction.atomic
def cancel_enrollment(
    *, enrollment: Enrollment, membership: Membership, now: datetime | None = None
) -> Enrollment | None:
    """Free the seat; the first waitlisted learner (FIFO) is promoted and told. Returns the promoted one."""
    now = now or timezone.now()
    session = Session.objects.select_for_update().get(pk=enrollment.session_id)  # the session first, as enroll does
    require_delivery_writer(membership, session.engagement)
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status not in (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED):
        raise ValidationError(f"A {enrollment.get_status_display().lower()} enrollment cannot be cancelled.")
    stored = SeatRequest(enrollment, stored_session_id=enrollment.session_id, stored_status=enrollment.status)
    enrollment.status = EnrollmentStatus.CANCELLED
    placement = _place_one(stored, now)
    enrollment.save()
    enrollment.log_action("enrollment.cancelled", actor=membership.user)
    _save_promoted(placement, membership)
    return placement.promoted[0] if placement.promoted else None


# --- Attendance and delivery -------------------------------------------------------------------


def _open_register(session: Session, membership: Membership, now: datetime) -> Session:
    """The session, locked, if its attendance may be recorded now by `membership`."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status not in OCCUPYING_STATUSES:
        raise ValidationError("Attendance is recorded for confirmed or delivered sessions only.")
    if session.starts_at > now:
        raise ValidationError("The session has not started yet.")
    return session


def _mark(enrollment: Enrollment, present: bool, now: datetime) -> tuple[Attendance, bool]:
    """Present makes the learner billable (SPEC-SLA §6); the enrollment's status follows."""
    attendance, created = Attendance.objects.update_or_create(
        organization=enrollment.organization,
        enrollment=enrollment,
        defaults={"present": present, "recorded_at": now},
    )
    enrollment.status = EnrollmentStatus.ATTENDED if present else EnrollmentStatus.NO_SHOW
    enrollment.save(update_fields=["status"])
    return attendance, created


@transaction.atomic
def record_attendance(
    *, session: Session, membership: Membership, present_ids: Iterable[int], now: datetime | None = None
) -> int:
    """Mark every seated enrollment present (ids given) or absent; returns how many were present."""
    now = now or timezone.now()
    session = _open_register(session, membership, now)
    present_ids = set(present_ids)
    seated = list(session.enrollments.filter(status__in=SEATED_STATUSES))
    unknown = present_ids - {e.pk for e in seated}
    if unknown:
        raise ValidationError(f"Not enrolled on this session: {sorted(unknown)}.")
    for enrollment in seated:
        _mark(enrollment, enrollment.pk in present_ids, now)
    record_event(
        organization=session.organization,
        actor=membership.user,
        action="session.attendance_recorded",
        obj=session,
        after={"present": sorted(present_ids), "seated": sorted(e.pk for e in seated)},
    )
    return len(present_ids)


@transaction.atomic
def record_enrollment_attendance(
    *, enrollment: Enrollment, membership: Membership, present: bool, now: datetime | None = None
) -> tuple[Attendance, bool]:
    """One learner's attendance, recorded or corrected (the API's upsert by enrollment); returns it and whether
    it is new. The same rules as the session's register."""
    now = now or timezone.now()
    _open_register(enrollment.session, membership, now)
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status not in SEATED_STATUSES:
        raise ValidationError({"enrollment": f"A {enrollment.get_status_display().lower()} learner has no seat."})
    attendance, created = _mark(enrollment, present, now)
    attendance.log_action("attendance.recorded", actor=membership.user)
    return attendance, created


@transaction.atomic
def mark_delivered(*, session: Session, membership: Membership) -> Session:
    """A session counts as delivered only once its attendance is recorded."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status != SessionStatus.CONFIRMED:
        raise ValidationError("Only a confirmed session can be marked delivered.")
    missing = session.enrollments.filter(status=EnrollmentStatus.ENROLLED).count()
    if missing:
        raise ValidationError(f"Record attendance first: {missing} enrolled learner(s) have none.")
    session.status = SessionStatus.DELIVERED
    session.save(update_fields=["status"])
    session.log_action("session.delivered", actor=membership.user)
    return session


# --- Completions and compliance ----------------------------------------------------------------

RECERTIFICATION_REMINDER_DAYS = (90, 60, 30, 7)


@transaction.atomic
def record_completion(
    *,
    learner: Learner,
    course: Course,
    completed_at: datetime,
    membership: Membership,
    engagement: Engagement,
    session: Session | None = None,
    source: str = CompletionSource.PROVIDER_LOG,
) -> Completion:
    """Record a completion; it closes the learner's open assignments the course satisfies and opens the next cycle."""
    require_delivery_writer(membership, engagement)
    completion = Completion(
        organization=learner.organization,
        learner=learner,
        course=course,
        session=session,
        completed_at=completed_at,
        source=source,
    )
    completion.full_clean()
    completion.save()
    completion.log_action("completion.recorded", actor=membership.user)
    close_compliance_assignments([completion], zone=engagement.timezone)
    return completion


def close_compliance_assignments(completions: Sequence[Completion], *, zone: str) -> None:
    """Completions close their learners' open assignments the course satisfies and open the next cycle (due after
    the recertification interval, counted from the completion's local day in `zone`), as if recorded one by one
    in order of completion. Set-based: one query locks the open assignments, one finds the requirements."""
    if not completions:
        return
    learners = {completion.learner_id for completion in completions}
    courses = {completion.course_id for completion in completions}
    requirements_of: dict[int, set[int]] = defaultdict(set)
    for requirement_id, course_id in RequirementCourse.objects.filter(course__in=courses).values_list(
        "requirement", "course"
    ):
        requirements_of[course_id].add(requirement_id)
    if not requirements_of:
        return
    open_now: dict[tuple[int, int], list[ComplianceAssignment]] = defaultdict(list)
    locked = ComplianceAssignment.objects.select_for_update(of=("self",)).select_related("requirement")
    for assignment in locked.filter(
        learner__in=learners, completed_at__isnull=True, requirement__in=set().union(*requirements_of.values())
    ).order_by("pk"):
        open_now[(assignment.learner_id, assignment.requirement_id)].append(assignment)
    closed: list[ComplianceAssignment] = []
    next_cycles: dict[tuple[int, int, date], ComplianceAssignment] = {}
    for completion in sorted(completions, key=lambda c: c.completed_at):
        local_day = timezone.localdate(completion.completed_at, ZoneInfo(zone))
        for requirement_id in sorted(requirements_of.get(completion.course_id, ())):
            for assignment in open_now.pop((completion.learner_id, requirement_id), []):
                assignment.completed_at, assignment.completion = completion.completed_at, completion
                if assignment.pk is not None:
                    closed.append(assignment)
                interval = assignment.requirement.recertification_interval_days
                if interval:
                    due_on = local_day + timedelta(days=interval)
                    cycle = next_cycles.setdefault(
                        (completion.learner_id, requirement_id, due_on),
                        ComplianceAssignment(
                            organization_id=assignment.organization_id,
                            requirement=assignment.requirement,
                            learner_id=completion.learner_id,
                            due_on=due_on,
                        ),
                    )
                    if cycle.completed_at is None:
                        open_now[(completion.learner_id, requirement_id)].append(cycle)
    if closed:
        for assignment in closed:
            assignment.updated_at = timezone.now()  # bulk_update does not run auto_now
        ComplianceAssignment.objects.bulk_update(closed, ["completed_at", "completion", "updated_at"])
    if next_cycles:
        # A cycle already assigned for that day is kept as it is (as get_or_create would).
        ComplianceAssignment.objects.bulk_create(next_cycles.values(), ignore_conflicts=True)


def require_attempt_writer(membership: Membership, course: Course) -> None:
    """Assessment results are delivery data; an attempt belongs to a learner and a course, not an engagement, so a
    provider's account manager records them for the courses its provider delivers (has a session of)."""
    if not membership.has_permission(Permission.LOG_DELIVERY):
        raise ValidationError("Only owners and the provider's account managers record assessment attempts.")
    if membership.is_provider_side and not attempt_courses(membership).filter(pk=course.pk).exists():
        raise ValidationError({"course": f"Your provider delivers no session of {course.code}."})


def attempt_refusals(*, attempted_at: datetime, now: datetime) -> dict[str, str]:
    """What is wrong with an attempt's values, by field (empty: nothing); the import asks the same."""
    if attempted_at > now:
        return {"attempted_at": "An attempt cannot be in the future."}
    return {}


def attempt_passed(score: Decimal, pass_mark: Decimal) -> bool:
    """The one definition of a pass (SPEC-SLA assessment_pass_rate counts it): the score reaches the pass mark."""
    return score >= pass_mark


@transaction.atomic
def record_assessment_attempt(
    *,
    learner: Learner,
    course: Course,
    attempted_at: datetime,
    score: Decimal,
    pass_mark: Decimal,
    membership: Membership,
    passed: bool | None = None,
    attempt_number: int | None = None,
    external_id: str = "",
    now: datetime | None = None,
) -> AssessmentAttempt:
    """An attempt at the course's assessment: the learner's next one unless `attempt_number` is given (numbered
    under a lock on the learner, so two attempts recorded at once get 1 and 2, never 1 twice). Passed is derived;
    a `passed` given by the source (an LRS's verb) must agree with it."""
    now = now or timezone.now()
    require_attempt_writer(membership, course)
    Learner.objects.select_for_update().get(pk=learner.pk)
    errors = attempt_refusals(attempted_at=attempted_at, now=now)
    outcome = attempt_passed(score, pass_mark)
    if passed is not None and passed != outcome:
        errors["passed"] = (
            f"A score of {score} against a pass mark of {pass_mark} is {'a pass' if outcome else 'a fail'}."
        )
    taken = AssessmentAttempt.objects.filter(learner=learner, course=course)
    if attempt_number is None:
        attempt_number = (taken.aggregate(number=Max("attempt_number"))["number"] or 0) + 1
    elif taken.filter(attempt_number=attempt_number).exists():
        errors["attempt_number"] = f"{learner} already has attempt {attempt_number} at {course.code}."
    if errors:
        raise ValidationError(errors)
    attempt = AssessmentAttempt(
        organization=learner.organization,
        learner=learner,
        course=course,
        attempt_number=attempt_number,
        attempted_at=attempted_at,
        score=score,
        pass_mark=pass_mark,
        passed=outcome,
        external_id=external_id,
    )
    return save_audited(attempt, actor=membership.user, action="assessment_attempt.recorded", changes={})


# --- Feedback ----------------------------------------------------------------------------------

FEEDBACK_STATUSES = (EnrollmentStatus.ATTENDED, EnrollmentStatus.ENROLLED)


def feedback_refusals(
    *, session: Session, enrollment_status: str | None, submitted_at: datetime, now: datetime
) -> dict[str, str]:
    """Who may rate a session, and when, by field (empty: nothing wrong); the import asks the same.

    Only a learner who sat in it: attended, or still enrolled once the session is delivered (attendance not taken
    for them); and not before it began, nor in the future. Feedback of anyone else would move instructor_rating.
    """
    errors = {}
    attended = enrollment_status == EnrollmentStatus.ATTENDED or (
        enrollment_status == EnrollmentStatus.ENROLLED and session.status == SessionStatus.DELIVERED
    )
    if not attended:
        errors["learner"] = "Only a learner who attended the session (or was enrolled on it once delivered) rates it."
    if submitted_at < session.starts_at:
        errors["submitted_at"] = "Feedback cannot be submitted before the session started."
    elif submitted_at > now:
        errors["submitted_at"] = "Feedback cannot be submitted in the future."
    return errors


@transaction.atomic
def submit_feedback(
    *,
    enrollment: Enrollment,
    membership: Membership,
    instructor_score: int,
    overall_score: int,
    submitted_at: datetime,
    comment: str = "",
    external_id: str = "",
    now: datetime | None = None,
) -> Feedback:
    """The learner's feedback on the session of `enrollment`, logged by the provider (one per learner and session)."""
    now = now or timezone.now()
    session = enrollment.session
    if not membership.has_permission(Permission.LOG_DELIVERY):
        raise ValidationError("Only owners and the provider's account managers log feedback.")
    require_delivery_writer(membership, session.engagement)
    refusals = feedback_refusals(
        session=session, enrollment_status=enrollment.status, submitted_at=submitted_at, now=now
    )
    # The caller chose an enrollment (the learner's seat on the session): what is wrong with the learner is on it.
    errors = {("enrollment" if field == "learner" else field): message for field, message in refusals.items()}
    if Feedback.objects.filter(session=session, learner=enrollment.learner_id).exists():
        errors["enrollment"] = f"{enrollment.learner} has already rated this session."
    if errors:
        raise ValidationError(errors)
    feedback = Feedback(
        organization=session.organization,
        session=session,
        learner=enrollment.learner,
        instructor_score=instructor_score,
        overall_score=overall_score,
        comment=comment.strip(),
        submitted_at=submitted_at,
        external_id=external_id,
    )
    return save_audited(feedback, actor=membership.user, action="feedback.submitted", changes={})


# --- Compliance assignments (per learner) --------------------------------------------------------


def require_compliance_assigner(membership: Membership) -> None:
    if not membership.has_permission(Permission.ASSIGN_COMPLIANCE):
        raise ValidationError("Your role cannot assign mandatory training or record its completion.")


def assignment_refusals(*, completed_at: datetime | None, now: datetime) -> dict[str, str]:
    """What is wrong with an assignment's values, by field (empty: nothing); the import asks the same."""
    if completed_at is not None and completed_at > now:
        return {"completed_at": "A completion cannot be in the future."}
    return {}


@transaction.atomic
def assign_learner(
    *,
    requirement: ComplianceRequirement,
    learner: Learner,
    membership: Membership,
    due_on: date,
    completed_at: datetime | None = None,
    external_id: str = "",
    now: datetime | None = None,
) -> ComplianceAssignment:
    """One learner's mandatory training, due on `due_on` (completed already when `completed_at` is given: a
    history loaded from another system)."""
    now = now or timezone.now()
    require_compliance_assigner(membership)
    errors = assignment_refusals(completed_at=completed_at, now=now)
    if ComplianceAssignment.objects.filter(requirement=requirement, learner=learner, due_on=due_on).exists():
        errors["due_on"] = f"{learner} already has {requirement} due on {due_on:%d %b %Y}."
    if errors:
        raise ValidationError(errors)
    assignment = ComplianceAssignment(
        organization=requirement.organization,
        requirement=requirement,
        learner=learner,
        due_on=due_on,
        completed_at=completed_at,
        external_id=external_id,
    )
    return save_audited(assignment, actor=membership.user, action="compliance.learner_assigned", changes={})


@transaction.atomic
def complete_assignment(
    *, assignment: ComplianceAssignment, membership: Membership, completed_at: datetime, now: datetime | None = None
) -> ComplianceAssignment:
    """Record when the learner met an assignment (evidence kept elsewhere, e.g. an external LMS's record)."""
    now = now or timezone.now()
    require_compliance_assigner(membership)
    assignment = ComplianceAssignment.objects.select_for_update().get(pk=assignment.pk)
    if errors := assignment_refusals(completed_at=completed_at, now=now):
        raise ValidationError(errors)
    return save_audited(
        assignment,
        actor=membership.user,
        action="compliance.assignment_completed",
        changes={"completed_at": completed_at},
    )


@transaction.atomic
def send_recertification_reminders(*, today: date) -> int:
    """Email learners 90/60/30/7 days before an open assignment is due; each reminder once (unique ledger)."""
    horizon = today + timedelta(days=max(RECERTIFICATION_REMINDER_DAYS))
    due_soon = ComplianceAssignment.objects.filter(
        completed_at__isnull=True, due_on__gte=today, due_on__lte=horizon
    ).select_related("learner", "requirement")
    sent = 0
    for assignment in due_soon:
        days_left = (assignment.due_on - today).days
        threshold = min(n for n in RECERTIFICATION_REMINDER_DAYS if n >= days_left)
        _, created = ComplianceReminder.objects.get_or_create(
            organization=assignment.organization, assignment=assignment, days_before=threshold
        )
        if created:
            sent += 1
            email_after_commit(
                subject=f"Mandatory training due in {days_left} days: {assignment.requirement.name}",
                body=f"Please complete {assignment.requirement.name} by {assignment.due_on:%d %B %Y}.",
                recipients=[assignment.learner.email],
            )
    return sent


# --- Support tickets and outages ---------------------------------------------------------------


@transaction.atomic
def log_ticket(
    *,
    engagement: Engagement,
    membership: Membership,
    category: str,
    subject: str,
    opened_at: datetime,
    learner: Learner | None = None,
) -> SupportTicket:
    require_delivery_writer(membership, engagement)
    ticket = SupportTicket(
        organization=engagement.organization,
        engagement=engagement,
        learner=learner,
        category=category,
        subject=subject,
        opened_at=opened_at,
    )
    ticket.full_clean()
    ticket.save()
    ticket.log_action("ticket.logged", actor=membership.user)
    return ticket


@transaction.atomic
def update_ticket_times(
    *,
    ticket: SupportTicket,
    membership: Membership,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
) -> SupportTicket:
    """Record when the learner got a first answer and when the ticket was resolved (SLA timestamps)."""
    require_delivery_writer(membership, ticket.engagement)
    if resolved_at and not (first_response_at or ticket.first_response_at):
        raise ValidationError({"first_response_at": "A resolved ticket has had a first response: record it."})
    ticket.first_response_at = first_response_at or ticket.first_response_at
    ticket.resolved_at = resolved_at or ticket.resolved_at
    # Field-level messages first; the table's check constraints (validated by full_clean) back them up.
    errors = {}
    if ticket.first_response_at and ticket.first_response_at < ticket.opened_at:
        errors["first_response_at"] = "The first response cannot precede the ticket's opening."
    if ticket.resolved_at and ticket.resolved_at < ticket.opened_at:
        errors["resolved_at"] = "The resolution cannot precede the ticket's opening."
    if errors:
        raise ValidationError(errors)
    ticket.full_clean()
    ticket.save()
    ticket.log_action("ticket.updated", actor=membership.user)
    return ticket


@transaction.atomic
def record_session_completions(
    *, session: Session, membership: Membership, enrollment_ids: Iterable[int], completed_at: datetime
) -> int:
    """Bulk entry: completions for attendees of a delivered session (each also updates compliance)."""
    require_delivery_writer(membership, session.engagement)
    if session.status != SessionStatus.DELIVERED:
        raise ValidationError("Completions are recorded for delivered sessions.")
    if completed_at < session.starts_at:
        raise ValidationError({"completed_at": "A completion cannot precede the session."})
    ids = set(enrollment_ids)
    attendees = session.enrollments.filter(pk__in=ids, status=EnrollmentStatus.ATTENDED).select_related("learner")
    if len(attendees) != len(ids):
        raise ValidationError("Only attendees of this session can be given a completion.")
    already = set(
        Completion.objects.filter(session=session, learner__in=[e.learner for e in attendees]).values_list(
            "learner", flat=True
        )
    )
    recorded = 0
    for enrollment in attendees:
        if enrollment.learner_id in already:
            continue
        record_completion(
            learner=enrollment.learner,
            course=session.course,
            completed_at=completed_at,
            membership=membership,
            engagement=session.engagement,
            session=session,
        )
        recorded += 1
    return recorded


# Planned maintenance is announced ahead; further out than this a date is a typo (2062 for 2026), not a plan.
OUTAGE_HORIZON = timedelta(days=366)


def outage_time_errors(*, starts_at: datetime, ends_at: datetime, planned: bool, now: datetime) -> dict[str, str]:
    """The times of an outage, checked the same way on the web, in CSV and in the API: it ends after it starts,
    an unplanned one is logged once it has begun, and nothing ends beyond OUTAGE_HORIZON."""
    errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = "The outage must end after it starts."
    if not planned and starts_at > now:
        errors["starts_at"] = "An unplanned outage is logged once it has started; plan maintenance as planned."
    if ends_at > now + OUTAGE_HORIZON:
        errors.setdefault("ends_at", f"This is more than {OUTAGE_HORIZON.days} days ahead; check the year.")
    return errors


def _save_outage(outage: Outage, membership: Membership, action: str, fields: dict[str, Any], now: datetime) -> Outage:
    require_delivery_writer(membership, outage.engagement)  # the stored engagement, for an edit
    if "engagement" in fields:
        require_delivery_writer(membership, fields["engagement"])  # and the one it moves to
    merged = {name: fields.get(name, getattr(outage, name)) for name in ("starts_at", "ends_at", "planned")}
    if errors := outage_time_errors(**merged, now=now):
        raise ValidationError(errors)
    return save_audited(outage, actor=membership.user, action=action, changes=fields)


@transaction.atomic
def log_outage(
    *, engagement: Engagement, membership: Membership, starts_at: datetime, ends_at: datetime, planned: bool,
    description: str, external_id: str = "", now: datetime | None = None,
) -> Outage:  # fmt: skip
    """Platform downtime; planned maintenance is excluded from the uptime SLA's minutes (SPEC-SLA §3)."""
    now = now or timezone.now()
    outage = Outage(organization=engagement.organization, engagement=engagement)
    fields = {"starts_at": starts_at, "ends_at": ends_at, "planned": planned, "description": description}
    return _save_outage(outage, membership, "outage.logged", {**fields, "external_id": external_id}, now)


@transaction.atomic
def update_outage(*, outage: Outage, membership: Membership, now: datetime | None = None, **fields: Any) -> Outage:
    """Correct an outage (its times decide the uptime SLA): audited before → after."""
    now = now or timezone.now()
    return _save_outage(outage, membership, "outage.updated", fields, now)


# --- Courses and their content reviews ------------------------------------------------------------


def _require_course_keeper(membership: Membership) -> None:
    if not membership.has_permission(Permission.MANAGE_COURSES):
        raise ValidationError("Your role cannot add or edit courses.")


def reviewed_on_error(reviewed_on: date | None, today: date) -> str:
    """A content review is recorded once it has happened: a future date would keep a course "fresh" unreviewed."""
    if reviewed_on and reviewed_on > today:
        return "A review date cannot be in the future."
    return ""


def _save_course(course: Course, membership: Membership, action: str, fields: dict[str, Any], now: datetime) -> Course:
    _require_course_keeper(membership)
    code = fields.get("code", course.code)
    if Course.objects.filter(code=code).exclude(pk=course.pk).exists():
        raise ValidationError({"code": f"Course {code} already exists."})
    if error := reviewed_on_error(fields.get("last_reviewed_on"), timezone.localdate(now)):
        raise ValidationError({"last_reviewed_on": error})
    return save_audited(course, actor=membership.user, action=action, changes=fields)


@transaction.atomic
def add_course(*, organization: Any, membership: Membership, now: datetime | None = None, **fields: Any) -> Course:
    now = now or timezone.now()
    return _save_course(Course(organization=organization), membership, "course.added", fields, now)


@transaction.atomic
def update_course(*, course: Course, membership: Membership, now: datetime | None = None, **fields: Any) -> Course:
    """Edit a course's catalogue data; its review date changes by recording a content review."""
    now = now or timezone.now()
    return _save_course(course, membership, "course.updated", fields, now)


@transaction.atomic
def record_content_review(
    *,
    course: Course,
    membership: Membership,
    reviewed_on: date,
    reviewer_name: str,
    notes: str = "",
    now: datetime | None = None,
) -> ContentReview:
    """A review of the course's content, kept in its history; the course's last review date becomes the latest
    review's (a review entered late, older than the last one, does not make the course look staler)."""
    now = now or timezone.now()
    _require_course_keeper(membership)
    course = Course.objects.select_for_update().get(pk=course.pk)
    if error := reviewed_on_error(reviewed_on, timezone.localdate(now)):
        raise ValidationError({"reviewed_on": error})
    review = ContentReview(
        organization=course.organization,
        course=course,
        reviewed_on=reviewed_on,
        reviewer_name=reviewer_name.strip(),
        notes=notes.strip(),
        recorded_by=membership.user,
    )
    review.full_clean()
    review.save()
    review.log_action("course.content_reviewed", actor=membership.user)
    if course.last_reviewed_on is None or reviewed_on > course.last_reviewed_on:
        save_audited(course, actor=membership.user, action="course.updated", changes={"last_reviewed_on": reviewed_on})
    return review


def _audience(requirement: ComplianceRequirement) -> Q:
    """Learners the requirement applies to: its business units and regions (empty = everyone)."""
    condition = Q()
    units = [u.strip() for u in requirement.audience_business_units.split(",") if u.strip()]
    regions = [r.strip() for r in requirement.audience_regions.split(",") if r.strip()]
    if units:
        condition &= Q(business_unit__in=units)
    if regions:
        condition &= Q(region__in=regions)
    return condition


@transaction.atomic
def assign_requirement(*, requirement: ComplianceRequirement, membership: Membership, due_on: date) -> int:
    """Assign the requirement to every learner in its audience who has no assignment due that day yet."""
    if not membership.has_permission(Permission.ASSIGN_COMPLIANCE):
        raise ValidationError("Your role cannot assign mandatory training.")
    learners = Learner.objects.filter(_audience(requirement)).exclude(
        compliance_assignments__requirement=requirement, compliance_assignments__due_on=due_on
    )
    created = ComplianceAssignment.objects.bulk_create(
        ComplianceAssignment(
            organization=requirement.organization, requirement=requirement, learner=learner, due_on=due_on
        )
        for learner in learners
    )
    record_event(
        organization=requirement.organization,
        actor=membership.user,
        action="compliance.assigned",
        obj=requirement,
        after={"due_on": due_on, "learners": len(created)},
    )
    return len(created)


@transaction.atomic
def define_requirement(
    *, organization: Any, membership: Membership, courses: Iterable[Course], **fields: Any
) -> ComplianceRequirement:
    """Mandatory training: the client side decides who must complete which courses, and how often."""
    requirement = ComplianceRequirement(organization=organization)
    return _save_requirement(requirement, membership, "compliance.requirement_defined", courses, fields)


@transaction.atomic
def update_requirement(
    *, requirement: ComplianceRequirement, membership: Membership, courses: Iterable[Course], **fields: Any
) -> ComplianceRequirement:
    """Existing assignments keep their due dates; a changed audience counts from the next assignment."""
    return _save_requirement(requirement, membership, "compliance.requirement_updated", courses, fields)


def _save_requirement(
    requirement: ComplianceRequirement, membership: Membership, action: str, courses: Iterable[Course], fields: dict
) -> ComplianceRequirement:
    if not membership.has_permission(Permission.MANAGE_COMPLIANCE):
        raise ValidationError("Only the client's owners and L&D directors define mandatory training.")
    courses = set(courses)
    if not courses:
        raise ValidationError({"courses": "Choose at least one course that satisfies the requirement."})
    if any(course.organization_id != requirement.organization_id for course in courses):
        raise ValidationError({"courses": "Choose courses of this organization."})
    if ComplianceRequirement.objects.filter(name=fields.get("name")).exclude(pk=requirement.pk).exists():
        raise ValidationError({"name": f"A requirement named {fields['name']} already exists."})
    courses_before = None if requirement._state.adding else _requirement_course_ids(requirement)
    for name, value in fields.items():
        setattr(requirement, name, value)
    requirement.full_clean()
    requirement.save()
    requirement.requirement_courses.exclude(course__in=courses).delete()
    kept = set(requirement.requirement_courses.values_list("course", flat=True))
    RequirementCourse.objects.bulk_create(
        RequirementCourse(organization=requirement.organization, requirement=requirement, course=course)
        for course in courses
        if course.pk not in kept
    )
    requirement.log_action(
        action, actor=membership.user, extra={"courses": (courses_before, _requirement_course_ids(requirement))}
    )
    return requirement


def _requirement_course_ids(requirement: ComplianceRequirement) -> list[int]:
    return sorted(requirement.requirement_courses.values_list("course", flat=True))


# --- Venues and rooms --------------------------------------------------------------------------


def _require_venue_keeper(membership: Membership) -> None:
    if not membership.has_permission(Permission.MANAGE_VENUES):
        raise ValidationError("Only owners and the provider's account managers maintain venues and rooms.")


def _refuse_duplicate_venue(venue: Venue, name: str) -> None:
    if Venue.objects.filter(name=name).exclude(pk=venue.pk).exists():
        raise ValidationError({"name": f"A venue named {name} already exists."})


@transaction.atomic
def add_venue(*, organization: Any, membership: Membership, **fields: Any) -> Venue:
    _require_venue_keeper(membership)
    venue = Venue(organization=organization)
    _refuse_duplicate_venue(venue, fields.get("name", ""))
    return save_audited(venue, actor=membership.user, action="venue.added", changes=fields)


@transaction.atomic
def update_venue(*, venue: Venue, membership: Membership, **fields: Any) -> Venue:
    _require_venue_keeper(membership)
    _refuse_duplicate_venue(venue, fields.get("name", venue.name))
    return save_audited(venue, actor=membership.user, action="venue.updated", changes=fields)


def _check_room(room: Room, name: str, capacity: int | None, now: datetime) -> None:
    """A unique name within the venue, and enough seats for the sessions already booked in the room."""
    if Room.objects.filter(venue=room.venue_id, name=name).exclude(pk=room.pk).exists():
        raise ValidationError({"name": f"{room.venue} already has a room named {name}."})
    if room.pk and capacity is not None:
        larger = room.sessions.filter(status__in=OCCUPYING_STATUSES, ends_at__gt=now, capacity__gt=capacity).count()
        if larger:
            raise ValidationError(
                {
                    "capacity": f"{larger} confirmed session(s) to come in this room seat more than {capacity}: "
                    "lower their capacity or move them first."
                }
            )


@transaction.atomic
def add_room(*, venue: Venue, membership: Membership, now: datetime | None = None, **fields: Any) -> Room:
    now = now or timezone.now()
    _require_venue_keeper(membership)
    room = Room(organization=venue.organization, venue=venue)
    _check_room(room, fields.get("name", ""), fields.get("capacity"), now)
    return save_audited(room, actor=membership.user, action="room.added", changes=fields)


@transaction.atomic
def update_room(*, room: Room, membership: Membership, now: datetime | None = None, **fields: Any) -> Room:
    now = now or timezone.now()
    _require_venue_keeper(membership)
    _check_room(room, fields.get("name", room.name), fields.get("capacity"), now)
    return save_audited(room, actor=membership.user, action="room.updated", changes=fields)
