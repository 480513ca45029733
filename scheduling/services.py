"""Writes of the delivery domain (issue 5 rules), each atomic and audited.

Double booking: the services check overlaps first (clear message, and the only guard on SQLite); on PostgreSQL
the exclusion constraints of migration 0003 also refuse it, which closes the race between two requests.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from engagements.enums import Side
from engagements.models import Engagement
from mls.enums import Permission, Role
from mls.events import emit_after_commit
from mls.mail import email_after_commit
from mls.models import Membership
from mls.services import audit_change, record_audit, save_audited, snapshot
from vendors.models import Instructor

from .enums import OCCUPYING_STATUSES, SEATED_STATUSES, CompletionSource, EnrollmentStatus, Modality, SessionStatus
from .models import (
    AssessmentAttempt,
    Attendance,
    Completion,
    ComplianceAssignment,
    ComplianceReminder,
    ComplianceRequirement,
    Course,
    Enrollment,
    Learner,
    Outage,
    RequirementCourse,
    Room,
    Session,
    SessionInstructor,
    SupportTicket,
    Venue,
)

SESSION_FIELDS = (
    "engagement",
    "course",
    "modality",
    "room",
    "join_url",
    "capacity",
    "status",
    "requested_at",
    "confirmed_at",
    "starts_at",
    "ends_at",
    "cancelled_at",
    "cancelled_by",
    "cancellation_reason",
    "replaces",
)
ENROLLMENT_FIELDS = ("session", "learner", "status", "requested_at", "processed_at", "cancelled_at")
ATTEMPT_FIELDS = ("learner", "course", "attempt_number", "attempted_at", "score", "pass_mark", "passed")
CONSTRAINT_MESSAGES = {
    "scheduling_instructor_not_double_booked": "An instructor of this session is already booked at that time.",
    "scheduling_room_not_double_booked": "The room is already booked at that time.",
}


def require_delivery_writer(membership: Membership, engagement: Engagement) -> None:
    """Provider managers log delivery for their provider's engagements; owners may correct anything."""
    if membership.role == Role.OWNER:
        return
    if membership.role == Role.PROVIDER_MANAGER and membership.provider_id == engagement.provider_id:
        return
    raise ValidationError("Only the provider's account managers log delivery for this engagement.")


# --- Sessions ----------------------------------------------------------------------------------


def _overlapping(starts_at: datetime, ends_at: datetime) -> Q:
    return Q(starts_at__lt=ends_at, ends_at__gt=starts_at)


def _check_bookable(session: Session, instructors: Iterable[Instructor]) -> None:
    """Refuse a room or instructor already held by another occupying session at an overlapping time."""
    errors = {}
    if session.room_id and (
        Session.objects.filter(room=session.room_id, status__in=OCCUPYING_STATUSES)
        .filter(_overlapping(session.starts_at, session.ends_at))
        .exclude(pk=session.pk)
        .exists()
    ):
        errors["room"] = CONSTRAINT_MESSAGES["scheduling_room_not_double_booked"]
    busy = (
        SessionInstructor.objects.filter(instructor__in=list(instructors), occupies=True)
        .filter(_overlapping(session.starts_at, session.ends_at))
        .exclude(session=session.pk)
        .select_related("instructor")
    )
    names = sorted({slot.instructor.name for slot in busy})
    if names:
        errors["instructors"] = f"Already booked at that time: {', '.join(names)}."
    if errors:
        raise ValidationError(errors)


def _check_delivery_setup(session: Session) -> None:
    if session.modality == Modality.ILT and session.room_id is None:
        raise ValidationError({"room": "A classroom session needs a room."})
    if session.modality == Modality.VILT and not session.join_url:
        raise ValidationError({"join_url": "A virtual session needs a join link."})
    if session.room_id and session.capacity > session.room.capacity:
        raise ValidationError({"capacity": f"The room seats {session.room.capacity}; lower the capacity."})


def _save_mapping_constraints(obj: Any, **save_kwargs: Any) -> None:
    """Save; turn a double-booking exclusion violation (a concurrent booking) into a clear ValidationError."""
    try:
        with transaction.atomic():
            obj.save(**save_kwargs)
    except IntegrityError as error:
        for name, message in CONSTRAINT_MESSAGES.items():
            if name in str(error):
                raise ValidationError(message) from error
        raise


def _sync_instructor_slots(session: Session) -> None:
    occupies = session.status in OCCUPYING_STATUSES
    for slot in session.session_instructors.all():
        slot.starts_at, slot.ends_at, slot.occupies = session.starts_at, session.ends_at, occupies
        _save_mapping_constraints(slot)


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
) -> Session:
    """Record a session request (requested_at starts the confirmation clock of SPEC-SLA §3)."""
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
        requested_at=requested_at or timezone.now(),
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
    audit_change(membership.user, "session.requested", session, SESSION_FIELDS)
    return session


@transaction.atomic
def confirm_session(*, session: Session, membership: Membership) -> Session:
    """Confirm a requested session: the room and instructors become occupied (no double booking)."""
    session = Session.objects.select_for_update(of=("self",)).select_related("room").get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status != SessionStatus.REQUESTED:
        raise ValidationError(f"Only a requested session can be confirmed; this one is {session.status}.")
    _check_delivery_setup(session)
    _check_bookable(session, Instructor.objects.filter(session_slots__session=session))
    before = snapshot(session, SESSION_FIELDS)
    session.status, session.confirmed_at = SessionStatus.CONFIRMED, timezone.now()
    _save_mapping_constraints(session)
    _sync_instructor_slots(session)
    audit_change(membership.user, "session.confirmed", session, SESSION_FIELDS, before)
    return session


@transaction.atomic
def cancel_session(*, session: Session, membership: Membership, cancelled_by: str, reason: str) -> Session:
    """Cancel, keeping the session with who cancelled and why; enrolled learners are told by email."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status not in (SessionStatus.REQUESTED, SessionStatus.CONFIRMED):
        raise ValidationError(f"A {session.get_status_display().lower()} session cannot be cancelled.")
    if cancelled_by not in Side.values:
        raise ValidationError({"cancelled_by": "Say which side cancelled: client or provider."})
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the cancellation."})
    before = snapshot(session, SESSION_FIELDS)
    session.status, session.cancelled_at = SessionStatus.CANCELLED, timezone.now()
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
    emit_after_commit(audit_change(membership.user, "session.cancelled", session, SESSION_FIELDS, before))
    return session


@transaction.atomic
def reschedule_session(
    *, session: Session, membership: Membership, starts_at: datetime, ends_at: datetime, room: Room | None = None
) -> Session:
    """Create the confirmed replacement of a cancelled session and move its live enrollments there."""
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
    moved.update(session=replacement, updated_at=timezone.now())
    email_after_commit(
        subject=f"Rescheduled: {session.course.title}",
        body=f"Your place has moved to {replacement.starts_at:%d %b %Y %H:%M} UTC.",
        recipients=learners,
    )
    return replacement


# --- Enrollments -------------------------------------------------------------------------------


def _seats_taken(session: Session) -> int:
    return session.enrollments.filter(status__in=SEATED_STATUSES).count()


@transaction.atomic
def enroll(
    *, session: Session, learner: Learner, membership: Membership, requested_at: datetime | None = None
) -> Enrollment:
    """A seat if one is free, otherwise a place on the waitlist (first come, first served)."""
    session = Session.objects.select_for_update().get(pk=session.pk)  # serialize seat counting
    require_delivery_writer(membership, session.engagement)
    if session.status in (SessionStatus.CANCELLED, SessionStatus.DELIVERED):
        raise ValidationError(f"The session is {session.get_status_display().lower()}: enroll on another one.")
    if session.enrollments.filter(learner=learner).exclude(status=EnrollmentStatus.CANCELLED).exists():
        raise ValidationError({"learner": f"{learner} is already on this session."})
    status = EnrollmentStatus.ENROLLED if _seats_taken(session) < session.capacity else EnrollmentStatus.WAITLISTED
    enrollment = Enrollment.objects.create(
        organization=session.organization,
        session=session,
        learner=learner,
        status=status,
        requested_at=requested_at or timezone.now(),
        processed_at=timezone.now(),
    )
    audit_change(membership.user, f"enrollment.{status}", enrollment, ENROLLMENT_FIELDS)
    return enrollment


@transaction.atomic
def cancel_enrollment(*, enrollment: Enrollment, membership: Membership) -> Enrollment | None:
    """Free the seat; the first waitlisted learner (FIFO) is promoted and told. Returns the promoted one."""
    session = Session.objects.select_for_update().get(pk=enrollment.session_id)
    require_delivery_writer(membership, session.engagement)
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status not in (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED):
        raise ValidationError(f"A {enrollment.get_status_display().lower()} enrollment cannot be cancelled.")
    held_seat = enrollment.status == EnrollmentStatus.ENROLLED
    before = snapshot(enrollment, ENROLLMENT_FIELDS)
    enrollment.status, enrollment.cancelled_at = EnrollmentStatus.CANCELLED, timezone.now()
    enrollment.save()
    audit_change(membership.user, "enrollment.cancelled", enrollment, ENROLLMENT_FIELDS, before)
    if not held_seat:
        return None
    promoted = (
        session.enrollments.select_for_update()
        .filter(status=EnrollmentStatus.WAITLISTED)
        .order_by("requested_at", "id")
        .select_related("learner")
        .first()
    )
    if promoted is None:
        return None
    before = snapshot(promoted, ENROLLMENT_FIELDS)
    promoted.status = EnrollmentStatus.ENROLLED
    promoted.save(update_fields=["status"])
    audit_change(membership.user, "enrollment.promoted", promoted, ENROLLMENT_FIELDS, before)
    email_after_commit(
        subject=f"You have a place: {session.course.title}",
        body=f"A seat became free on {session.starts_at:%d %b %Y %H:%M} UTC and it is yours.",
        recipients=[promoted.learner.email],
    )
    return promoted


# --- Attendance and delivery -------------------------------------------------------------------


def _open_register(session: Session, membership: Membership) -> Session:
    """The session, locked, if its attendance may be recorded now by `membership`."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status not in OCCUPYING_STATUSES:
        raise ValidationError("Attendance is recorded for confirmed or delivered sessions only.")
    if session.starts_at > timezone.now():
        raise ValidationError("The session has not started yet.")
    return session


def _mark(enrollment: Enrollment, present: bool) -> tuple[Attendance, bool]:
    """Present makes the learner billable (SPEC-SLA §6); the enrollment's status follows."""
    attendance, created = Attendance.objects.update_or_create(
        organization=enrollment.organization,
        enrollment=enrollment,
        defaults={"present": present, "recorded_at": timezone.now()},
    )
    enrollment.status = EnrollmentStatus.ATTENDED if present else EnrollmentStatus.NO_SHOW
    enrollment.save(update_fields=["status"])
    return attendance, created


@transaction.atomic
def record_attendance(*, session: Session, membership: Membership, present_ids: Iterable[int]) -> int:
    """Mark every seated enrollment present (ids given) or absent; returns how many were present."""
    session = _open_register(session, membership)
    present_ids = set(present_ids)
    seated = list(session.enrollments.filter(status__in=SEATED_STATUSES))
    unknown = present_ids - {e.pk for e in seated}
    if unknown:
        raise ValidationError(f"Not enrolled on this session: {sorted(unknown)}.")
    for enrollment in seated:
        _mark(enrollment, enrollment.pk in present_ids)
    record_audit(
        organization=session.organization,
        actor=membership.user,
        action="session.attendance_recorded",
        obj=session,
        after={"present": sorted(present_ids), "seated": sorted(e.pk for e in seated)},
    )
    return len(present_ids)


@transaction.atomic
def record_enrollment_attendance(
    *, enrollment: Enrollment, membership: Membership, present: bool
) -> tuple[Attendance, bool]:
    """One learner's attendance, recorded or corrected (the API's upsert by enrollment); returns it and whether
    it is new. The same rules as the session's register."""
    _open_register(enrollment.session, membership)
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status not in SEATED_STATUSES:
        raise ValidationError({"enrollment": f"A {enrollment.get_status_display().lower()} learner has no seat."})
    before = Attendance.objects.filter(enrollment=enrollment).first()
    attendance, created = _mark(enrollment, present)
    fields = ("enrollment", "present")
    audit_change(
        membership.user, "attendance.recorded", attendance, fields, None if before is None else snapshot(before, fields)
    )
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
    before = snapshot(session, SESSION_FIELDS)
    session.status = SessionStatus.DELIVERED
    session.save(update_fields=["status"])
    audit_change(membership.user, "session.delivered", session, SESSION_FIELDS, before)
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
    audit_change(membership.user, "completion.recorded", completion, ("learner", "course", "completed_at", "source"))
    local_day = timezone.localdate(completed_at, ZoneInfo(engagement.timezone))
    open_assignments = ComplianceAssignment.objects.select_for_update().filter(
        learner=learner, completed_at__isnull=True, requirement__requirement_courses__course=course
    )
    for assignment in open_assignments.select_related("requirement"):
        assignment.completed_at, assignment.completion = completed_at, completion
        assignment.save(update_fields=["completed_at", "completion"])
        interval = assignment.requirement.recertification_interval_days
        if interval:
            ComplianceAssignment.objects.get_or_create(
                organization=assignment.organization,
                requirement=assignment.requirement,
                learner=learner,
                due_on=local_day + timedelta(days=interval),
            )
    return completion


@transaction.atomic
def record_assessment_attempt(
    *,
    learner: Learner,
    course: Course,
    attempted_at: datetime,
    score: Decimal,
    pass_mark: Decimal,
    passed: bool,
    membership: Membership,
) -> AssessmentAttempt:
    """The learner's next attempt at the course's assessment (numbered under a lock on the learner, so two
    attempts recorded at once get 1 and 2, never 1 twice)."""
    Learner.objects.select_for_update().get(pk=learner.pk)
    latest = AssessmentAttempt.objects.filter(learner=learner, course=course).aggregate(number=Max("attempt_number"))
    attempt = AssessmentAttempt(
        organization=learner.organization,
        learner=learner,
        course=course,
        attempt_number=(latest["number"] or 0) + 1,
        attempted_at=attempted_at,
        score=score,
        pass_mark=pass_mark,
        passed=passed,
    )
    attempt.full_clean()
    attempt.save()
    audit_change(membership.user, "assessment_attempt.recorded", attempt, ATTEMPT_FIELDS)
    return attempt


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

TICKET_FIELDS = ("engagement", "learner", "category", "subject", "opened_at", "first_response_at", "resolved_at")


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
    audit_change(membership.user, "ticket.logged", ticket, TICKET_FIELDS)
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
    before = snapshot(ticket, TICKET_FIELDS)
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
    audit_change(membership.user, "ticket.updated", ticket, TICKET_FIELDS, before)
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


@transaction.atomic
def log_outage(
    *, engagement: Engagement, membership: Membership, starts_at: datetime, ends_at: datetime, planned: bool,
    description: str,
) -> Outage:  # fmt: skip
    """Platform downtime; planned maintenance is excluded from the uptime SLA's minutes (SPEC-SLA §3)."""
    require_delivery_writer(membership, engagement)
    outage = Outage(
        organization=engagement.organization, engagement=engagement, starts_at=starts_at, ends_at=ends_at,
        planned=planned, description=description,
    )  # fmt: skip
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The outage must end after it starts."})
    outage.full_clean()
    outage.save()
    audit_change(
        membership.user, "outage.logged", outage, ("engagement", "starts_at", "ends_at", "planned", "description")
    )
    return outage


COURSE_FIELDS = ("code", "title", "modality", "duration_hours", "ownership", "regulated", "last_reviewed_on")


@transaction.atomic
def add_course(*, organization: Any, membership: Membership, **fields: Any) -> Course:
    if membership.role not in (Role.OWNER, Role.PROVIDER_MANAGER, Role.LD_DIRECTOR):
        raise ValidationError("Your role cannot add courses.")
    if Course.objects.filter(code=fields.get("code", "")).exists():
        raise ValidationError({"code": f"Course {fields['code']} already exists."})
    course = Course(organization=organization, **fields)
    course.full_clean()
    course.save()
    audit_change(membership.user, "course.added", course, COURSE_FIELDS)
    return course


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
    if membership.role not in (Role.OWNER, Role.LD_DIRECTOR, Role.PROVIDER_MANAGER):
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
    record_audit(
        organization=requirement.organization,
        actor=membership.user,
        action="compliance.assigned",
        obj=requirement,
        after={"due_on": due_on, "learners": len(created)},
    )
    return len(created)


REQUIREMENT_FIELDS = ("name", "audience_business_units", "audience_regions", "recertification_interval_days")


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
    before = None
    if not requirement._state.adding:
        before = {**snapshot(requirement, REQUIREMENT_FIELDS), "courses": _requirement_course_ids(requirement)}
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
    after = {**snapshot(requirement, REQUIREMENT_FIELDS), "courses": _requirement_course_ids(requirement)}
    record_audit(
        organization=requirement.organization,
        actor=membership.user,
        action=action,
        obj=requirement,
        before=before,
        after=after,
    )
    return requirement


def _requirement_course_ids(requirement: ComplianceRequirement) -> list[int]:
    return sorted(requirement.requirement_courses.values_list("course", flat=True))


# --- Venues and rooms --------------------------------------------------------------------------

VENUE_FIELDS = ("name", "address", "timezone")
ROOM_FIELDS = ("venue", "name", "capacity", "resources")


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
    return save_audited(venue, actor=membership.user, action="venue.added", fields=VENUE_FIELDS, changes=fields)


@transaction.atomic
def update_venue(*, venue: Venue, membership: Membership, **fields: Any) -> Venue:
    _require_venue_keeper(membership)
    _refuse_duplicate_venue(venue, fields.get("name", venue.name))
    return save_audited(venue, actor=membership.user, action="venue.updated", fields=VENUE_FIELDS, changes=fields)


def _check_room(room: Room, name: str, capacity: int | None) -> None:
    """A unique name within the venue, and enough seats for the sessions already booked in the room."""
    if Room.objects.filter(venue=room.venue_id, name=name).exclude(pk=room.pk).exists():
        raise ValidationError({"name": f"{room.venue} already has a room named {name}."})
    if room.pk and capacity is not None:
        larger = room.sessions.filter(
            status__in=OCCUPYING_STATUSES, ends_at__gt=timezone.now(), capacity__gt=capacity
        ).count()
        if larger:
            raise ValidationError(
                {
                    "capacity": f"{larger} confirmed session(s) to come in this room seat more than {capacity}: "
                    "lower their capacity or move them first."
                }
            )


@transaction.atomic
def add_room(*, venue: Venue, membership: Membership, **fields: Any) -> Room:
    _require_venue_keeper(membership)
    room = Room(organization=venue.organization, venue=venue)
    _check_room(room, fields.get("name", ""), fields.get("capacity"))
    return save_audited(room, actor=membership.user, action="room.added", fields=ROOM_FIELDS, changes=fields)


@transaction.atomic
def update_room(*, room: Room, membership: Membership, **fields: Any) -> Room:
    _require_venue_keeper(membership)
    _check_room(room, fields.get("name", room.name), fields.get("capacity"))
    return save_audited(room, actor=membership.user, action="room.updated", fields=ROOM_FIELDS, changes=fields)
