"""Reads of the delivery domain. Provider managers see only their provider's engagements (DESIGN.md §3)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from engagements.selectors import engagements_for
from mls.models import Membership

from .enums import SEATED_STATUSES, EnrollmentStatus
from .models import Enrollment, Session


def sessions_for(membership: Membership) -> QuerySet[Session]:
    return Session.objects.filter(engagement__in=engagements_for(membership)).select_related(
        "course", "engagement", "room__venue"
    )


def session_list(
    membership: Membership,
    *,
    engagement_id: int | None = None,
    status: str = "",
    course: str = "",
    starts_from: date | None = None,
    starts_until: date | None = None,
) -> QuerySet[Session]:
    """Filtered sessions with their seat and waitlist counts in the same query."""
    sessions = sessions_for(membership).annotate(
        seats_taken=Count("enrollments", filter=Q(enrollments__status__in=SEATED_STATUSES)),
        waitlisted=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.WAITLISTED)),
    )
    if engagement_id:
        sessions = sessions.filter(engagement=engagement_id)
    if status:
        sessions = sessions.filter(status=status)
    if course:
        sessions = sessions.filter(Q(course__code__icontains=course) | Q(course__title__icontains=course))
    zone = ZoneInfo(timezone.get_current_timezone_name())
    if starts_from:
        sessions = sessions.filter(starts_at__gte=datetime.combine(starts_from, time.min, tzinfo=zone))
    if starts_until:
        sessions = sessions.filter(starts_at__lt=datetime.combine(starts_until, time.max, tzinfo=zone))
    return sessions.order_by("starts_at", "pk")


def roster(session: Session) -> QuerySet[Enrollment]:
    """Seated learners first, then the waitlist in FIFO order, then cancellations."""
    return session.enrollments.select_related("learner").prefetch_related("attendances").order_by("requested_at", "pk")
