"""Post-session surveys: the signed link a learner answers without signing in, the invitations that carry it (each
present learner once, after a delivered session), and the answer, written through the one feedback service."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from communications.enums import MessageKind
from communications.services import queue_learner_message
from scheduling.enums import SessionStatus
from scheduling.models import Enrollment, Feedback, Session
from scheduling.services.feedback import submit_learner_feedback

from .links import read_survey_token, survey_token, survey_url, survey_window
from .models import SurveyInvitation

__all__ = [
    "Answer",
    "answer_survey",
    "invite_delivered_sessions",
    "invite_present_learners",
    "read_survey_token",
    "survey_token",
    "survey_url",
    "survey_window",
]


def _inviting(now: datetime) -> dict[str, object]:
    """Delivered sessions that ended within the survey window (or are ending): only those ask their learners."""
    return {"status": SessionStatus.DELIVERED, "ends_at__gte": now - survey_window(), "starts_at__lte": now}


def _uninvited(**session: object) -> QuerySet[Enrollment]:
    """Enrollments of learners present at the session, not asked yet and who have not rated it otherwise."""
    rated = Feedback.objects.filter(session=OuterRef("session"), learner=OuterRef("learner"))
    return Enrollment.objects.filter(attendances__present=True, survey_invitations__isnull=True, **session).exclude(
        Exists(rated)
    )


@transaction.atomic
def invite_present_learners(session: Session, now: datetime) -> int:
    """Email each learner present at the delivered `session` the link to its survey, once (the ledger row is
    unique per enrollment; the session's lock serializes two runs); how many were asked now. A session that ended
    longer ago than the survey window asks nobody."""
    session = Session.objects.select_for_update().filter(pk=session.pk, **_inviting(now)).first()
    if session is None:
        return 0
    present = (
        _uninvited(session=session)
        .select_related("learner", "session__course", "session__engagement", "session__room__venue")
        .order_by("pk")
    )
    invitations = SurveyInvitation.objects.bulk_create(
        SurveyInvitation(
            organization_id=session.organization_id,
            enrollment=enrollment,
            sent_at=now,
            expires_at=now + survey_window(),
        )
        for enrollment in present
    )
    for invitation in invitations:
        _send_invitation(invitation, now=now)
    return len(invitations)


def invite_delivered_sessions(now: datetime) -> int:
    """The daily sweep, in the current tenant scope: learners of sessions delivered within the survey window whom
    no invitation reached (its message was lost, or attendance was corrected since); how many were asked."""
    sessions = Session.objects.filter(Exists(_uninvited(session=OuterRef("pk"))), **_inviting(now)).order_by("pk")
    return sum(invite_present_learners(session, now) for session in sessions)


def _send_invitation(invitation: SurveyInvitation, *, now: datetime) -> None:
    """The invitation email, through the learner message log like every other learner email (an optional kind: a
    learner who opted out is not emailed, and still finds the survey in the portal)."""
    enrollment = invitation.enrollment
    queue_learner_message(
        kind=MessageKind.SURVEY_INVITATION,
        learner=enrollment.learner,
        enrollment=enrollment,
        context={"survey_url": survey_url(enrollment)},
        now=now,
    )


@dataclass(frozen=True)
class Answer:
    instructor_score: int
    overall_score: int
    comment: str = ""


@transaction.atomic
def answer_survey(enrollment: Enrollment, answer: Answer, *, now: datetime) -> Feedback:
    """The learner's answer: Feedback through the one feedback service (its rules, once per learner), and the
    invitation marked answered."""
    feedback = submit_learner_feedback(
        enrollment=enrollment,
        instructor_score=answer.instructor_score,
        overall_score=answer.overall_score,
        comment=answer.comment,
        now=now,
    )
    SurveyInvitation.objects.filter(enrollment=enrollment, answered_at__isnull=True).update(answered_at=now)
    return feedback
