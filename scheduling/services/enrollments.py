"""Enrollments: capacity and the FIFO waitlist (`place_enrollments`), enrolling and cancelling."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communications.enums import MessageKind
from communications.services import queue_learner_message
from mls.models import Membership
from scheduling.enums import SEATED_STATUSES, EnrollmentStatus, SessionStatus
from scheduling.models import Enrollment, Learner, Session

from ._common import require_delivery_writer

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
            queue_learner_message(
                kind=MessageKind.WAITLIST_PROMOTION, learner=enrollment.learner, enrollment=enrollment, now=now
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
                placement.errors[index] = _("The session is cancelled: enroll on another one.")
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
    for _order, enrollment, held in sorted(queue, key=lambda entry: entry[0]):
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
            placement.errors[index] = ngettext(
                "The session was delivered with %(capacity)d seat: "
                "%(seated)d learners would hold one (enrolled, attended or no-show).",
                "The session was delivered with %(capacity)d seats: "
                "%(seated)d learners would hold one (enrolled, attended or no-show).",
                session.capacity,
            ) % {"capacity": session.capacity, "seated": seated}


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
        raise ValidationError(_("The session is delivered: enroll on another one."))
    if session.enrollments.filter(learner=learner).exclude(status=EnrollmentStatus.CANCELLED).exists():
        raise ValidationError({"learner": _("%(learner)s is already on this session.") % {"learner": learner}})
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
    if enrollment.status == EnrollmentStatus.ENROLLED:  # a waitlisted learner hears when a seat is theirs
        queue_learner_message(kind=MessageKind.ENROLLMENT_CONFIRMATION, learner=learner, enrollment=enrollment, now=now)
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
        raise ValidationError(
            _("An enrollment that is %(status)s cannot be cancelled.")
            % {"status": enrollment.get_status_display().lower()}
        )
    stored = SeatRequest(enrollment, stored_session_id=enrollment.session_id, stored_status=enrollment.status)
    enrollment.status = EnrollmentStatus.CANCELLED
    placement = _place_one(stored, now)
    enrollment.save()
    enrollment.log_action("enrollment.cancelled", actor=membership.user)
    _save_promoted(placement, membership)
    return placement.promoted[0] if placement.promoted else None


@dataclass
class EnrollmentSummary:
    """What `enroll_many` did for each learner or email asked for, in the order they were given."""

    enrolled: list[Learner] = field(default_factory=list)
    waitlisted: list[Learner] = field(default_factory=list)
    already: list[Learner] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def parse_emails(text: str) -> list[str]:
    """Emails pasted one a line or separated by commas, semicolons or spaces; duplicates once, in order."""
    seen: dict[str, None] = {}
    for part in text.replace(",", " ").replace(";", " ").split():
        seen.setdefault(part.strip().lower(), None)
    return list(seen)


@transaction.atomic
def enroll_many(
    *,
    session: Session,
    membership: Membership,
    learners: Sequence[Learner] = (),
    emails: Sequence[str] = (),
    now: datetime | None = None,
) -> EnrollmentSummary:
    """Enroll several learners, picked or by email, each through `enroll` (capacity, waitlist and who may write are
    its rules): in the order given, so the FIFO waitlist follows the list. An email no learner has is reported and
    nothing is written for it; a learner already on the session is reported and left as they are."""
    require_delivery_writer(membership, session.engagement)
    now = now or timezone.now()
    summary = EnrollmentSummary()
    by_email = {
        learner.email_key: learner
        for learner in Learner.objects.annotate(email_key=Lower("email")).filter(
            email_key__in=[e.lower() for e in emails]
        )
    }
    wanted: dict[int, Learner] = {learner.pk: learner for learner in learners}
    for email in emails:
        if (learner := by_email.get(email.lower())) is None:
            summary.unknown.append(email)
        else:
            wanted.setdefault(learner.pk, learner)
    on_session = set(
        session.enrollments.filter(learner__in=wanted)
        .exclude(status=EnrollmentStatus.CANCELLED)
        .values_list("learner", flat=True)
    )
    for learner in wanted.values():
        if learner.pk in on_session:
            summary.already.append(learner)
            continue
        enrollment = enroll(session=session, learner=learner, membership=membership, now=now)
        listed = summary.waitlisted if enrollment.status == EnrollmentStatus.WAITLISTED else summary.enrolled
        listed.append(learner)
    return summary
