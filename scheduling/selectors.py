"""Reads of the delivery domain. Provider managers see only their provider's engagements (DESIGN.md §3)."""

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from engagements.models import Engagement
from engagements.selectors import engagements_for
from mls.enums import Permission, roles_with
from mls.models import Membership

from .enums import SEATED_STATUSES, UNRESOLVED_TICKET_STATUSES, EnrollmentStatus, TicketStatus
from .models import (
    Attendance,
    Completion,
    ComplianceAssignment,
    ComplianceRequirement,
    ContentReview,
    Course,
    Enrollment,
    ImportJob,
    Learner,
    Room,
    Session,
    SupportTicket,
    TicketReply,
    Venue,
)


def sessions_for(membership: Membership) -> QuerySet[Session]:
    return Session.objects.filter(engagement__in=engagements_for(membership)).select_related(
        "course", "engagement", "room__venue"
    )


def attempt_courses(membership: Membership) -> QuerySet[Course]:
    """Courses this member may record assessment attempts at. An attempt belongs to a learner and a course, not an
    engagement, so a provider's account manager has the courses of the sessions it sees (those its provider
    delivers); the client side has every course."""
    courses = Course.objects.order_by("code")
    if membership.is_provider_side:
        return courses.filter(pk__in=sessions_for(membership).values("course"))
    return courses


def session_list(
    membership: Membership,
    *,
    engagement_id: int | None = None,
    status: str = "",
    course: str = "",
    language: str = "",
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
    if language:
        sessions = sessions.filter(language=language)
    zone = ZoneInfo(timezone.get_current_timezone_name())
    if starts_from:
        sessions = sessions.filter(starts_at__gte=datetime.combine(starts_from, time.min, tzinfo=zone))
    if starts_until:
        sessions = sessions.filter(starts_at__lt=datetime.combine(starts_until, time.max, tzinfo=zone))
    return sessions.order_by("starts_at", "pk")


def sessions_starting_between(
    membership: Membership, start: datetime, end: datetime, *, engagement_id: int | None = None
) -> QuerySet[Session]:
    """The sessions a member sees that start in [start, end), in start order, with their course, engagement and
    venue: one query for a calendar page however many sessions it shows."""
    sessions = sessions_for(membership).filter(starts_at__gte=start, starts_at__lt=end)
    if engagement_id:
        sessions = sessions.filter(engagement=engagement_id)
    return sessions.order_by("starts_at", "pk")


def roster(session: Session) -> QuerySet[Enrollment]:
    """Seated learners first, then the waitlist in FIFO order, then cancellations."""
    return session.enrollments.select_related("learner").prefetch_related("attendances").order_by("requested_at", "pk")


def learner_list(search: str = "") -> QuerySet[Learner]:
    learners = Learner.objects.all()
    if search:
        learners = learners.filter(
            Q(name__icontains=search) | Q(email__icontains=search) | Q(external_id__icontains=search)
        )
    return learners.annotate(sessions=Count("enrollments", filter=Q(enrollments__status__in=SEATED_STATUSES))).order_by(
        "name", "pk"
    )


PICKER_LIMIT = 20


def enrollable_learners(
    session: Session, search: str = "", *, chosen: Sequence[int] = (), limit: int = PICKER_LIMIT
) -> tuple[list[Learner], list[Learner], bool]:
    """What the learner picker offers for `session`: the learners already ticked (`chosen` ids, kept across
    searches), then up to `limit` others matching `search` by name, email or external id, and whether there were
    more (then: type more). Nobody already on the session (a cancelled enrollment may come back)."""
    learners = Learner.objects.exclude(
        pk__in=session.enrollments.exclude(status=EnrollmentStatus.CANCELLED).values("learner")
    ).order_by("name", "email", "pk")
    picked = list(learners.filter(pk__in=chosen)) if chosen else []
    if search:
        learners = learners.filter(
            Q(name__icontains=search) | Q(email__icontains=search) | Q(external_id__icontains=search)
        )
    found = list(learners.exclude(pk__in=[learner.pk for learner in picked])[: limit + 1])
    return picked, found[:limit], len(found) > limit


def enrollments_for(membership: Membership) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(session__engagement__in=engagements_for(membership))


def delivered_under(engagements: QuerySet[Engagement] | OuterRef) -> Q:
    """Completions of the engagements' sessions, or self-paced (no session) of a course they deliver: the rule
    the SLA completion metrics use (slas.selectors.engagement_completions). `engagements` is a queryset, or the
    reference to one engagement of an enclosing query (`OuterRef("pk")` in a per-engagement annotation)."""
    if isinstance(engagements, OuterRef):
        delivered_courses = Session.objects.filter(engagement=OuterRef(engagements)).values("course_id")
        return Q(session__engagement=engagements) | Q(session__isnull=True, course_id__in=delivered_courses)
    delivered_courses = Session.objects.filter(engagement__in=engagements).values("course_id")
    return Q(session__engagement__in=engagements) | Q(session__isnull=True, course_id__in=delivered_courses)


def billable_learners(engagement: Engagement | OuterRef, starts_at: datetime, ends_at: datetime) -> QuerySet[Learner]:
    """SPEC-SLA §6 billable learners of a window: present at a session of the engagement starting in it, or with
    a completion in it delivered under the engagement. The one definition the fee (slas.selectors.delivery_usage)
    and the dashboard's volume (reporting.selectors.engagement_overview, per engagement) count."""
    if isinstance(engagement, OuterRef):  # one more query level between the learner and the engagement
        engagement = OuterRef(engagement)
    present = Attendance.objects.filter(
        enrollment__learner=OuterRef("pk"),
        present=True,
        enrollment__session__engagement=engagement,
        enrollment__session__starts_at__gte=starts_at,
        enrollment__session__starts_at__lt=ends_at,
    )
    engagements = engagement if isinstance(engagement, OuterRef) else Engagement.objects.filter(pk=engagement.pk)
    completed = Completion.objects.filter(
        delivered_under(engagements), learner=OuterRef("pk"), completed_at__gte=starts_at, completed_at__lt=ends_at
    )
    return Learner.objects.filter(Exists(present) | Exists(completed))


def completions_for(membership: Membership) -> QuerySet[Completion]:
    """Client roles see every completion (self-paced ones included); a provider manager those of its engagements."""
    if membership.is_provider_side:
        return Completion.objects.filter(delivered_under(engagements_for(membership)))
    return Completion.objects.all()


def import_jobs_for(membership: Membership) -> QuerySet[ImportJob]:
    """The imports of the member's side: a provider manager's provider's, or the client's own. A file of the other
    side (its learners' emails in the preview, a start button) is not theirs to see."""
    return ImportJob.objects.filter(provider=membership.provider_id)


def tickets_for(membership: Membership) -> QuerySet[SupportTicket]:
    return SupportTicket.objects.filter(engagement__in=engagements_for(membership)).select_related(
        "engagement", "learner"
    )


def ticket_list(membership: Membership, *, status: str = "") -> QuerySet[SupportTicket]:
    """The ticket list: whose turn it is, who has it, and when anyone last wrote (the latest reply, or the
    opening), most recent activity first; `status` filters ("unresolved": open or waiting on either side)."""
    latest_reply = TicketReply.objects.filter(ticket=OuterRef("pk")).order_by("-created_at").values("created_at")
    tickets = tickets_for(membership).select_related("assignee__user")
    if status == "unresolved":
        tickets = tickets.filter(status__in=UNRESOLVED_TICKET_STATUSES)
    elif status in TicketStatus.values:
        tickets = tickets.filter(status=status)
    return tickets.annotate(last_activity_at=Coalesce(Subquery(latest_reply[:1]), F("opened_at"))).order_by(
        "-last_activity_at", "-pk"
    )


def ticket_thread(ticket: SupportTicket) -> QuerySet[TicketReply]:
    """The conversation oldest first, with its authors."""
    return ticket.replies.select_related("author").order_by("created_at", "pk")


def ticket_assignees(ticket: SupportTicket) -> QuerySet[Membership]:
    """Who a ticket may be given to: client-side members who answer tickets, and the ticket's provider's managers
    (the choices of the assignee control; `services.check_assignee` is the rule)."""
    return (
        Membership.objects.filter(role__in=roles_with(Permission.ANSWER_TICKETS))
        .filter(Q(provider__isnull=True) | Q(provider=ticket.engagement.provider_id))
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__email")
    )


def compliance_overview(today: date) -> QuerySet[ComplianceRequirement]:
    """Per requirement, in one query: assignments due so far, completed on time, overdue, upcoming."""
    due = Q(assignments__due_on__lte=today)
    on_time = (
        due
        & Q(assignments__completed_at__isnull=False)
        & Q(assignments__completed_at__date__lte=F("assignments__due_on"))
    )
    return ComplianceRequirement.objects.annotate(
        due_count=Count("assignments", filter=due),
        on_time_count=Count("assignments", filter=on_time),
        overdue_count=Count("assignments", filter=Q(assignments__due_on__lt=today, assignments__completed_at=None)),
        upcoming_count=Count("assignments", filter=Q(assignments__due_on__gt=today, assignments__completed_at=None)),
    ).order_by("name")


def overdue_assignments(today: date) -> QuerySet[ComplianceAssignment]:
    return (
        ComplianceAssignment.objects.filter(due_on__lt=today, completed_at=None)
        .select_related("learner", "requirement")
        .order_by("due_on", "pk")
    )


def compliance_report(requirement: ComplianceRequirement) -> QuerySet[ComplianceAssignment]:
    """Who is (or was) compliant, when, and the evidence: the completion and the session it came from."""
    return requirement.assignments.select_related("learner", "completion__course", "completion__session").order_by(
        "learner__name", "due_on"
    )


AUDIENCE_HINT_SIZE = 20


def learner_audiences() -> tuple[list[str], list[str]]:
    """The business units and regions on learner records (the first few), so requirements name them exactly."""
    units = Learner.objects.exclude(business_unit="").order_by("business_unit").values_list("business_unit", flat=True)
    regions = Learner.objects.exclude(region="").order_by("region").values_list("region", flat=True)
    return (
        list(units.distinct()[:AUDIENCE_HINT_SIZE]),
        list(regions.distinct()[:AUDIENCE_HINT_SIZE]),
    )


def venue_list() -> QuerySet[Venue]:
    """Venues with their rooms and total seats: one query for the venues, one for all their rooms."""
    return (
        Venue.objects.annotate(room_count=Count("rooms"), seats=Sum("rooms__capacity"))
        .prefetch_related(Prefetch("rooms", queryset=Room.objects.order_by("name")))
        .order_by("name", "pk")
    )


def course_list(*, language: str = "") -> QuerySet[Course]:
    """The course catalogue, optionally only the courses delivered in `language`."""
    courses = Course.objects.all()
    if language:
        courses = courses.filter(language=language)
    return courses.order_by("code", "pk")


def content_reviews(course: Course) -> QuerySet[ContentReview]:
    """The course's review history, latest first, with who recorded each review: one query."""
    return course.reviews.select_related("recorded_by").order_by("-reviewed_on", "-id")
