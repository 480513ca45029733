"""Attendance and delivery: the session's register, one learner's attendance, marking a session delivered."""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mls.audit import record_event
from mls.celery import enqueue_after_commit
from mls.models import Membership
from scheduling.enums import OCCUPYING_STATUSES, SEATED_STATUSES, EnrollmentStatus, SessionStatus
from scheduling.models import Attendance, Enrollment, Session
from surveys.tasks import invite_session_learners_task

from ._common import require_delivery_writer


def _open_register(session: Session, membership: Membership, now: datetime) -> Session:
    """The session, locked, if its attendance may be recorded now by `membership`."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status not in OCCUPYING_STATUSES:
        raise ValidationError(_("Attendance is recorded for confirmed or delivered sessions only."))
    if session.starts_at > now:
        raise ValidationError(_("The session has not started yet."))
    return session


def _survey_present_learners(session: Session) -> None:
    """A delivered session's present learners are asked to rate it (each once: surveys.services), also after a
    correction of its attendance."""
    if session.status == SessionStatus.DELIVERED:
        enqueue_after_commit(
            invite_session_learners_task, organization_id=session.organization_id, session_id=session.pk
        )


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
        raise ValidationError(_("Not enrolled on this session: %(ids)s.") % {"ids": sorted(unknown)})
    for enrollment in seated:
        _mark(enrollment, enrollment.pk in present_ids, now)
    record_event(
        organization=session.organization,
        actor=membership.user,
        action="session.attendance_recorded",
        obj=session,
        after={"present": sorted(present_ids), "seated": sorted(e.pk for e in seated)},
    )
    _survey_present_learners(session)
    return len(present_ids)


@transaction.atomic
def record_enrollment_attendance(
    *, enrollment: Enrollment, membership: Membership, present: bool, now: datetime | None = None
) -> tuple[Attendance, bool]:
    """One learner's attendance, recorded or corrected (the API's upsert by enrollment); returns it and whether
    it is new. The same rules as the session's register."""
    now = now or timezone.now()
    session = _open_register(enrollment.session, membership, now)
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status not in SEATED_STATUSES:
        status = enrollment.get_status_display().lower()
        raise ValidationError({"enrollment": _("A %(status)s learner has no seat.") % {"status": status}})
    attendance, created = _mark(enrollment, present, now)
    attendance.log_action("attendance.recorded", actor=membership.user)
    _survey_present_learners(session)
    return attendance, created


@transaction.atomic
def mark_delivered(*, session: Session, membership: Membership) -> Session:
    """A session counts as delivered only once its attendance is recorded."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    require_delivery_writer(membership, session.engagement)
    if session.status != SessionStatus.CONFIRMED:
        raise ValidationError(_("Only a confirmed session can be marked delivered."))
    missing = session.enrollments.filter(status=EnrollmentStatus.ENROLLED).count()
    if missing:
        raise ValidationError(
            _("Record attendance first: %(missing)s enrolled learner(s) have none.") % {"missing": missing}
        )
    session.status = SessionStatus.DELIVERED
    session.save(update_fields=["status"])
    session.log_action("session.delivered", actor=membership.user)
    _survey_present_learners(session)
    return session
