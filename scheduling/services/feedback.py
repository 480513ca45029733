"""Learners' feedback on the sessions they sat in: logged by the provider, or given by the learner through the
post-session survey (surveys). Both paths ask the same rules."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mls.audit import save_audited
from mls.enums import Permission
from mls.models import Membership, User
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.models import Enrollment, Feedback, Session

from ._common import require_delivery_writer

FEEDBACK_STATUSES = (EnrollmentStatus.ATTENDED, EnrollmentStatus.ENROLLED)
# The code of the refusal "this learner has already rated this session", so a caller can tell it from the others
# (the survey page answers it with its own page).
ALREADY_RATED = "already_rated"
ONCE_PER_LEARNER = "scheduling_feedback_once_per_learner"


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
        errors["learner"] = _(
            "Only a learner who attended the session (or was enrolled on it once delivered) rates it."
        )
    if submitted_at < session.starts_at:
        errors["submitted_at"] = _("Feedback cannot be submitted before the session started.")
    elif submitted_at > now:
        errors["submitted_at"] = _("Feedback cannot be submitted in the future.")
    return errors


def _already_rated(enrollment: Enrollment) -> ValidationError:
    return ValidationError(
        _("%(learner)s has already rated this session.") % {"learner": enrollment.learner}, code=ALREADY_RATED
    )


def _refusals_for(enrollment: Enrollment, submitted_at: datetime, now: datetime) -> dict[str, object]:
    """feedback_refusals for the learner of `enrollment`, and once per learner and session. The caller chose an
    enrollment (the learner's seat on the session): what is wrong with the learner is on it."""
    refusals = feedback_refusals(
        session=enrollment.session, enrollment_status=enrollment.status, submitted_at=submitted_at, now=now
    )
    errors: dict[str, object] = {
        ("enrollment" if field == "learner" else field): message for field, message in refusals.items()
    }
    if Feedback.objects.filter(session=enrollment.session_id, learner=enrollment.learner_id).exists():
        errors["enrollment"] = _already_rated(enrollment)
    return errors


def learner_feedback_refusals(*, enrollment: Enrollment, now: datetime) -> dict[str, object]:
    """What keeps the learner of `enrollment` from rating its session now, by field (empty: nothing): the rules of
    every path, and the learner's own: the session was delivered (the provider says so, and the SLAs count only
    delivered sessions' feedback)."""
    errors = _refusals_for(enrollment, now, now)
    session = enrollment.session
    if session.status == SessionStatus.CANCELLED:
        errors["session"] = _("This session was cancelled, so there is nothing to rate.")
    elif session.status != SessionStatus.DELIVERED:
        errors["session"] = _("This session has not been delivered yet, so it cannot be rated.")
    return errors


def _save(feedback: Feedback, enrollment: Enrollment, *, actor: User | None, action: str) -> Feedback:
    """Insert `feedback` and log `action`. Two answers racing past the check: the database refuses the second
    (scheduling_feedback_once_per_learner), which is the same refusal as the check's, not an error."""
    try:
        with transaction.atomic():
            return save_audited(feedback, actor=actor, action=action, changes={})
    except IntegrityError as error:
        if ONCE_PER_LEARNER not in str(error):
            raise
        raise ValidationError({"enrollment": _already_rated(enrollment)}) from error


def _feedback(
    enrollment: Enrollment, instructor_score: int, overall_score: int, comment: str, submitted_at: datetime, **fields
) -> Feedback:
    session = enrollment.session
    return Feedback(
        organization=session.organization,
        session=session,
        learner=enrollment.learner,
        instructor_score=instructor_score,
        overall_score=overall_score,
        comment=comment.strip(),
        submitted_at=submitted_at,
        **fields,
    )


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
    if not membership.has_permission(Permission.LOG_DELIVERY):
        raise ValidationError(_("Only owners and the provider's account managers log feedback."))
    require_delivery_writer(membership, enrollment.session.engagement)
    errors = _refusals_for(enrollment, submitted_at, now)
    if errors:
        raise ValidationError(errors)
    feedback = _feedback(enrollment, instructor_score, overall_score, comment, submitted_at, external_id=external_id)
    return _save(feedback, enrollment, actor=membership.user, action="feedback.submitted")


@transaction.atomic
def submit_learner_feedback(
    *, enrollment: Enrollment, instructor_score: int, overall_score: int, comment: str = "", now: datetime
) -> Feedback:
    """The learner's own answer to the post-session survey (no member acts: the audit event has no actor, and its
    action and row name the learner). The same rules as the provider's path, and once per learner and session."""
    errors = learner_feedback_refusals(enrollment=enrollment, now=now)
    if errors:
        raise ValidationError(errors)
    feedback = _feedback(enrollment, instructor_score, overall_score, comment, now)
    return _save(feedback, enrollment, actor=None, action="feedback.submitted_by_learner")
