"""Reads of the learner portal: strictly the signed-in learner's own rows (the caller is inside the learner's
organization scope), in a fixed number of queries whatever their count."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from scheduling.calendars import learner_zone
from scheduling.enums import SEATED_STATUSES, EnrollmentStatus, Modality, SessionStatus
from scheduling.models import Completion, ComplianceAssignment, Enrollment, Learner, Session

from .models import LearnerCalendarFeed
from .services import secret_hash

LIVE_STATUSES = [status for status in EnrollmentStatus.values if status != EnrollmentStatus.CANCELLED]


@dataclass(frozen=True)
class SessionRow:
    """One of the learner's sessions as the portal shows it."""

    session: Session
    enrollment: Enrollment
    zone: str

    @property
    def cancelled(self) -> bool:
        return self.session.status == SessionStatus.CANCELLED

    @property
    def waitlisted(self) -> bool:
        return self.enrollment.status == EnrollmentStatus.WAITLISTED

    @property
    def in_room(self) -> bool:
        return self.session.room_id is not None and self.session.modality in (Modality.ILT, Modality.HYBRID)

    @property
    def online(self) -> bool:
        return self.session.modality in (Modality.VILT, Modality.HYBRID) or (
            bool(self.session.join_url) and self.session.modality != Modality.ILT
        )


@dataclass(frozen=True)
class PortalOverview:
    upcoming: list[SessionRow]
    past: list[SessionRow]
    open_assignments: list[ComplianceAssignment]
    met_assignments: list[ComplianceAssignment]
    completions: list[Completion]
    feed: LearnerCalendarFeed | None


def learner_enrollments(learner: Learner) -> QuerySet[Enrollment]:
    """The learner's live enrollments (seated or waitlisted), with what their rows show."""
    return (
        Enrollment.objects.filter(learner=learner, status__in=LIVE_STATUSES)
        .select_related("session__course", "session__room__venue", "session__engagement")
        .order_by("session__starts_at", "session__pk")
    )


def learner_session(learner: Learner, pk: int) -> Session | None:
    """One of the learner's sessions (a live enrollment on it), or None: another learner's is not theirs."""
    return (
        Session.objects.filter(pk=pk, enrollments__learner=learner, enrollments__status__in=LIVE_STATUSES)
        .select_related("course", "room__venue", "engagement")
        .distinct()
        .first()
    )


def learner_completion(learner: Learner, pk: int) -> Completion | None:
    """One of the learner's completions, or None: another learner's is not theirs."""
    return Completion.objects.filter(pk=pk, learner=learner).select_related("course", "learner").first()


def portal_overview(learner: Learner, *, now: datetime) -> PortalOverview:
    """The portal's home: sessions (upcoming until they end, soonest first; past, latest first), open mandatory
    training by due date then what was met, completions latest first, and the live calendar feed. Five queries."""
    upcoming, past = [], []
    for enrollment in learner_enrollments(learner):
        row = SessionRow(enrollment.session, enrollment, learner_zone(learner, enrollment.session))
        (upcoming if enrollment.session.ends_at > now else past).append(row)
    past.reverse()
    assignments = list(
        ComplianceAssignment.objects.filter(learner=learner).select_related("requirement").order_by("due_on", "pk")
    )
    met = sorted((a for a in assignments if a.completed_at is not None), key=lambda a: a.completed_at, reverse=True)
    completions = list(
        Completion.objects.filter(learner=learner).select_related("course", "session").order_by("-completed_at", "-pk")
    )
    open_assignments = [a for a in assignments if a.completed_at is None]
    return PortalOverview(upcoming, past, open_assignments, met, completions, live_feed(learner))


def live_feed(learner: Learner) -> LearnerCalendarFeed | None:
    return LearnerCalendarFeed.objects.filter(learner=learner, revoked_at__isnull=True).first()


def feed_by_secret(raw: str) -> LearnerCalendarFeed | None:
    """The live feed a raw secret opens (inside the scope of the organization it names), with its learner."""
    return (
        LearnerCalendarFeed.objects.select_related("learner")
        .filter(token_hash=secret_hash(raw), revoked_at__isnull=True)
        .first()
    )


def feed_sessions(learner: Learner) -> list[Session]:
    """The sessions of the learner's seated enrollments; a cancelled session stays, as STATUS:CANCELLED, so a
    subscribed client removes it. A cancelled or waitlisted enrollment is not in the learner's calendar."""
    return list(
        Session.objects.filter(enrollments__learner=learner, enrollments__status__in=SEATED_STATUSES)
        .select_related("course", "room__venue", "engagement")
        .distinct()
        .order_by("starts_at", "pk")
    )
