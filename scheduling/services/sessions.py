"""Sessions: request, confirm, cancel, reschedule, and the double-booking checks their rooms and instructors pass.

Double booking: the services check overlaps first (clear message, and the only guard on SQLite); on PostgreSQL
the exclusion constraints of migration 0003 also refuse it, which closes the race between two requests.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communications.enums import MessageKind
from communications.services import queue_learner_message
from engagements.enums import Side
from engagements.models import Engagement
from mls.events import emit_after_commit
from mls.models import Membership
from scheduling.enums import OCCUPYING_STATUSES, SEATED_STATUSES, EnrollmentStatus, Modality, SessionStatus
from scheduling.models import Course, Room, Session, SessionInstructor
from vendors.models import Instructor

from ._common import require_delivery_writer

CONSTRAINT_MESSAGES = {
    "scheduling_instructor_not_double_booked": gettext_lazy(
        "An instructor of this session is already booked at that time."
    ),
    "scheduling_room_not_double_booked": gettext_lazy("The room is already booked at that time."),
}


# A hybrid session has both: learners in the room and learners joining online.
ROOM_MODALITIES = (Modality.ILT, Modality.HYBRID)
JOIN_URL_MODALITIES = (Modality.VILT, Modality.HYBRID)


def modality_field_errors(modality: str, room: Room | None, join_url: str) -> dict[str, str]:
    """A room only for classroom (or hybrid) sessions, a join URL only for virtual (or hybrid) ones: a value typed
    into the other is an error, not silently kept (it would show on the calendar invitation)."""
    errors = {}
    if room is not None and modality not in ROOM_MODALITIES:
        errors["room"] = _(
            "Only a classroom or hybrid session has a room: leave it empty, or choose a modality with a room."
        )
    if join_url and modality not in JOIN_URL_MODALITIES:
        errors["join_url"] = _(
            "Only a virtual or hybrid session has a join URL: leave it empty, or choose a modality with a join URL."
        )
    return errors


def _overlapping(starts_at: datetime, ends_at: datetime) -> Q:
    return Q(starts_at__lt=ends_at, ends_at__gt=starts_at)


def double_bookings(sessions: Sequence[Session], *, name_conflicts: bool = False) -> dict[int, dict[str, str]]:
    """Field errors, by index, of `sessions` that would hold a room or an instructor (of their stored slots) that
    another occupying session holds at an overlapping time: a stored one, or one earlier in `sessions`. Three
    queries whatever their number (a web confirmation is one session, an import many). `name_conflicts` adds the
    stored session in the way to each message, so a person can go and move one of the two."""
    if not sessions:
        return {}
    window = _overlapping(min(s.starts_at for s in sessions), max(s.ends_at for s in sessions))
    stored = [session.pk for session in sessions if session.pk is not None]
    held: dict[tuple[str, int], list[tuple[datetime, datetime, str]]] = defaultdict(list)
    rooms = {session.room_id for session in sessions if session.room_id}
    if rooms:
        taken = Session.objects.filter(window, room__in=rooms, status__in=OCCUPYING_STATUSES).exclude(pk__in=stored)
        for room, starts_at, ends_at, pk, code in taken.values_list(
            "room", "starts_at", "ends_at", "pk", "course__code"
        ):
            held[("room", room)].append((starts_at, ends_at, _named(pk, code, starts_at)))
    instructors_of: dict[int, list[Instructor]] = defaultdict(list)
    for slot in SessionInstructor.objects.filter(session__in=stored).select_related("instructor"):
        instructors_of[slot.session_id].append(slot.instructor)
    if instructors_of:
        busy = SessionInstructor.objects.filter(
            window, instructor__in={i.pk for slots in instructors_of.values() for i in slots}, occupies=True
        ).exclude(session__in=stored)
        slots = busy.values_list("instructor", "starts_at", "ends_at", "session", "session__course__code")
        for instructor, starts_at, ends_at, pk, code in slots:
            held[("instructor", instructor)].append((starts_at, ends_at, _named(pk, code, starts_at)))
    clashes: dict[int, dict[str, str]] = {}
    for index, session in enumerate(sessions):
        errors = {}
        if session.room_id and (by := _overlapping_with(held[("room", session.room_id)], session)):
            errors["room"] = CONSTRAINT_MESSAGES["scheduling_room_not_double_booked"]
            if name_conflicts:
                errors["room"] = _("The room is already booked at that time by %(by)s.") % {"by": by}
        instructors = instructors_of.get(session.pk, [])
        busy_with = {i.name: _overlapping_with(held[("instructor", i.pk)], session) for i in instructors}
        if names := sorted(name for name, by in busy_with.items() if by):
            listed = [f"{name} ({busy_with[name]})" for name in names] if name_conflicts else names
            errors["instructors"] = _("Already booked at that time: %(names)s.") % {"names": ", ".join(listed)}
        if errors:
            clashes[index] = errors
            continue  # a refused session holds nothing for the ones after it
        keys = [("instructor", instructor.pk) for instructor in instructors]
        for key in [("room", session.room_id), *keys] if session.room_id else keys:
            held[key].append((session.starts_at, session.ends_at, "another session of this import"))
    return clashes


def _named(pk: int, code: str, starts_at: datetime) -> str:
    local = timezone.localtime(starts_at)
    return f"session {pk}, {code} on {local:%d %b %Y %H:%M}"


def _overlapping_with(spans: list[tuple[datetime, datetime, str]], session: Session) -> str:
    """The first session in `spans` that overlaps `session`, named; empty if none does."""
    for starts_at, ends_at, name in spans:
        if starts_at < session.ends_at and ends_at > session.starts_at:
            return name
    return ""


def check_bookable(session: Session) -> None:
    """Refuse a room or instructor already held by another occupying session at an overlapping time, naming that
    session. Saving a session (request, reschedule) and confirming it ask this same question, so a clash shows up
    where the times are typed, not only at Confirm."""
    if clashes := double_bookings([session], name_conflicts=True):
        raise ValidationError(clashes[0])


def check_delivery_setup(session: Session) -> None:
    """What a session needs before it is confirmed: its room or join link, and no more seats than the room has."""
    if session.modality in ROOM_MODALITIES and session.room_id is None:
        noun = "hybrid" if session.modality == Modality.HYBRID else "classroom"
        raise ValidationError({"room": f"A {noun} session needs a room."})
    if session.modality in JOIN_URL_MODALITIES and not session.join_url:
        noun = "hybrid" if session.modality == Modality.HYBRID else "virtual"
        raise ValidationError({"join_url": f"A {noun} session needs a join link."})
    if session.room_id and session.capacity > session.room.capacity:
        raise ValidationError(
            {"capacity": _("The room seats %(seats)d; lower the capacity.") % {"seats": session.room.capacity}}
        )


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
    language: str = "",
    now: datetime | None = None,
) -> Session:
    """Record a session request (requested_at starts the confirmation clock of SPEC-SLA §3). It is delivered in
    its course's language unless `language` says otherwise."""
    now = now or timezone.now()
    require_delivery_writer(membership, engagement)
    session = Session(
        organization=engagement.organization,
        engagement=engagement,
        course=course,
        modality=modality,
        language=language or course.language,
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
    check_bookable(session)
    session.log_action("session.requested", actor=membership.user)
    return session


@transaction.atomic
def confirm_session(*, session: Session, membership: Membership, now: datetime | None = None) -> Session:
    """Confirm a requested session: the room and instructors become occupied (no double booking)."""
    now = now or timezone.now()
    session = Session.objects.select_for_update(of=("self",)).select_related("room").get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status != SessionStatus.REQUESTED:
        raise ValidationError(
            _("Only a requested session can be confirmed; this one is %(status)s.") % {"status": session.status}
        )
    check_delivery_setup(session)
    check_bookable(session)
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
        raise ValidationError(
            _("A session that is %(status)s cannot be cancelled.") % {"status": session.get_status_display().lower()}
        )
    if cancelled_by not in Side.values:
        raise ValidationError({"cancelled_by": _("Say which side cancelled: client or provider.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the cancellation.")})
    session.status, session.cancelled_at = SessionStatus.CANCELLED, now
    session.cancelled_by, session.cancellation_reason = cancelled_by, reason.strip()
    session.save()
    _sync_instructor_slots(session)
    for enrollment in session.enrollments.filter(status__in=SEATED_STATUSES).select_related("learner__organization"):
        queue_learner_message(
            kind=MessageKind.SESSION_CANCELLED,
            learner=enrollment.learner,
            enrollment=enrollment,
            session=session,
            now=now,
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
        raise ValidationError(_("Cancel the session (with its reason) before rescheduling it."))
    if session.replacements.exists():
        raise ValidationError(_("This session has already been rescheduled."))
    replacement = request_session(
        engagement=session.engagement,
        membership=membership,
        course=session.course,
        modality=session.modality,
        language=session.language,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=session.capacity,
        room=room if room is not None else session.room,
        join_url=session.join_url,
        instructors=Instructor.objects.filter(session_slots__session=session),
        requested_at=now,
        now=now,
    )
    replacement.replaces = session
    replacement.save(update_fields=["replaces"])
    replacement = confirm_session(session=replacement, membership=membership, now=now)
    moved = session.enrollments.exclude(status=EnrollmentStatus.CANCELLED)
    seated = list(moved.filter(status__in=SEATED_STATUSES).select_related("learner__organization"))
    moved.update(session=replacement, updated_at=now)
    for enrollment in seated:
        enrollment.session = replacement
        queue_learner_message(
            kind=MessageKind.SESSION_CHANGED,
            learner=enrollment.learner,
            enrollment=enrollment,
            session=replacement,
            now=now,
        )
    return replacement
