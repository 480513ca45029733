"""Post-session surveys: the signed link a learner answers without signing in, the invitations that carry it (each
present learner once, after a delivered session), and the answer, written through the one feedback service."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mls.mail import email_after_commit
from scheduling.enums import SessionStatus
from scheduling.models import Enrollment, Feedback, Session
from scheduling.services.feedback import submit_learner_feedback

from .links import read_survey_token, survey_token, survey_url, survey_window
from .models import SurveyInvitation
from .selectors import learner_zone

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
        _send_invitation(invitation)
    return len(invitations)


def invite_delivered_sessions(now: datetime) -> int:
    """The daily sweep, in the current tenant scope: learners of sessions delivered within the survey window whom
    no invitation reached (its message was lost, or attendance was corrected since); how many were asked."""
    sessions = Session.objects.filter(Exists(_uninvited(session=OuterRef("pk"))), **_inviting(now)).order_by("pk")
    return sum(invite_present_learners(session, now) for session in sessions)


def _send_invitation(invitation: SurveyInvitation) -> None:
    # integration: route through communications.queue_learner_message(kind='survey_invitation')
    enrollment = invitation.enrollment
    learner, session = enrollment.learner, enrollment.session
    zone = learner_zone(enrollment)
    with translation.override(learner.language), timezone.override(ZoneInfo(zone)):
        context = {
            "learner": learner,
            "session": session,
            "zone": zone,
            "url": survey_url(enrollment),
            "expires_at": invitation.expires_at,
        }
        subject = render_to_string("surveys/email_invitation_subject.txt", context).strip()
        body = render_to_string("surveys/email_invitation.txt", context)
    email_after_commit(subject=subject, body=body, recipients=[learner.email])


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
