"""Learners' feedback on the sessions they sat in."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mls.audit import save_audited
from mls.enums import Permission
from mls.models import Membership
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.models import Enrollment, Feedback, Session

from ._common import require_delivery_writer

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
