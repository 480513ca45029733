"""How each metric of SPEC-SLA §3 is measured: one set-based query per metric and period, and which items it
counted, read from the same definition.

Every metric is a `MetricDefinition` in `DEFINITIONS`: its `items` (the population of the period, minus approved
relief, each row annotated with its `outcome`, and with its `deadline` where the metric has one) and how the
result follows from them. A percentage metric's outcome is `met`, `pending` (unresolved and not yet due at
`as_of`) or `failed`; a provisional recompute only counts them (GROUP BY outcome), the final measurement also
keeps each outcome's ids as its snapshot (SPEC-SLA §2). The drill-down of an open period reads the same `items`.
Deadlines in business days are precomputed per local day of the period by the one `BusinessCalendar` (the
change-request deadlines use the same), so the SQL never needs a holiday table.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Least
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils.translation import gettext_lazy as _

from engagements.enums import Side
from engagements.models import ChangeRequest, Engagement
from mls.business_days import END_OF_DAY, BusinessCalendar
from scheduling.enums import SessionStatus, TicketCategory
from scheduling.models import (
    AssessmentAttempt,
    Attendance,
    ComplianceAssignment,
    Course,
    Enrollment,
    Feedback,
    Outage,
    RequirementCourse,
    Session,
    SupportTicket,
)

from .arithmetic import mean, percentage
from .catalog import METRICS
from .enums import ItemOutcome, ManualStatus
from .models import ManualMeasurement, ReliefEvent
from .periods import Period
from .selectors import engagement_completions

NEVER = Q(pk__isnull=True)


@dataclass(frozen=True)
class MetricContext:
    engagement: Engagement
    period: Period
    as_of: datetime
    relief: tuple[ReliefEvent, ...] = ()
    manual: dict[str, ManualMeasurement] = field(default_factory=dict)
    with_items: bool = False  # keep every item's id by outcome: the final measurement's snapshot

    @property
    def calendar(self) -> BusinessCalendar:
        return self.engagement.calendar

    def relief_for(self, metric: str) -> list[ReliefEvent]:
        return [event for event in self.relief if event.covers(metric)]

    def in_period(self, anchor: str) -> Q:
        return Q(**{f"{anchor}__gte": self.period.start, f"{anchor}__lt": self.period.end})

    def engagement_courses(self) -> QuerySet:
        """Courses delivered in this engagement: what completions, assessments and compliance count against."""
        return Session.objects.filter(engagement=self.engagement).values("course_id")


@dataclass(frozen=True)
class MetricResult:
    metric: str
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    sample: int  # items met + failed, scores, seats or minutes: compared with the target's min_sample
    pending: int = 0
    inputs: dict = field(default_factory=dict)  # the snapshot: sorted ids by outcome (final only), figures
    awaiting_verification: bool = False


def _relief_exclusion(context: MetricContext, metric: str, anchor: str, *, is_date: bool = False) -> Q:
    excluded = Q()
    for event in context.relief_for(metric):
        if is_date:
            excluded |= Q(**{f"{anchor}__gte": event.starts_on, f"{anchor}__lte": event.ends_on})
        else:
            start, end = context.period.midnight(event.starts_on), context.period.midnight(event.ends_on + timedelta(1))
            excluded |= Q(**{f"{anchor}__gte": start, f"{anchor}__lt": end})
    return ~excluded if excluded else Q()


def _classified(
    metric: str, population: QuerySet, anchor: str, context: MetricContext, met: Q, pending: Q = NEVER, **options: bool
) -> QuerySet:
    """The population outside relief (by its `anchor` timestamp or date), each item with its outcome."""
    outcome = Case(
        When(met, then=Value(ItemOutcome.MET)),
        When(pending, then=Value(ItemOutcome.PENDING)),
        default=Value(ItemOutcome.FAILED),
        output_field=CharField(),
    )
    return population.filter(_relief_exclusion(context, metric, anchor, **options)).annotate(outcome=outcome)


def ids_by_outcome(items: QuerySet, outcomes: Iterable[str]) -> dict[str, list[int]]:
    """Each outcome's item ids, ascending (the final snapshot). PostgreSQL returns one array per outcome, which
    psycopg reads several times faster than the ORM iterates a million rows (bench/slas.py)."""
    ids: dict[str, list[int]] = {outcome: [] for outcome in outcomes}
    if connection.vendor == "postgresql":
        grouped = items.order_by().values_list("outcome").annotate(ids=ArrayAgg("pk", order_by="pk"))
        return ids | {outcome: pks or [] for outcome, pks in grouped}  # a group of none: NULL
    for outcome, pk in items.order_by("pk").values_list("outcome", "pk").iterator(chunk_size=20_000):
        ids[outcome].append(pk)
    return ids


def _percent_result(metric: str, items: QuerySet, context: MetricContext) -> MetricResult:
    keys = ItemOutcome.values
    if context.with_items:
        inputs = ids_by_outcome(items, keys)
        counts = {key: len(inputs[key]) for key in keys}
    else:
        inputs = {}
        counts = dict(items.order_by().values_list("outcome").annotate(n=Count("pk")))
    met, failed, pending = (counts.get(key, 0) for key in keys)
    sample = met + failed
    return MetricResult(
        metric=metric,
        value=percentage(met, sample) if sample else None,
        numerator=Decimal(met),
        denominator=Decimal(sample),
        sample=sample,
        pending=pending,
        inputs=inputs,
    )


def _resolved_by(population: QuerySet, resolved: str, deadline: object, as_of: datetime) -> tuple[QuerySet, Q, Q]:
    """Items resolved (at `resolved`, no later than `as_of`) by the deadline are met; unresolved items whose
    deadline is still after `as_of` are pending; the rest failed."""
    population = population.alias(deadline=deadline)
    met = Q(**{f"{resolved}__lte": as_of}) & Q(**{f"{resolved}__lte": F("deadline")})
    unresolved = Q(**{f"{resolved}__isnull": True}) | Q(**{f"{resolved}__gt": as_of})
    return population, met, unresolved & Q(deadline__gt=as_of)


def _hours_after(anchor: str, hours: int) -> ExpressionWrapper:
    return ExpressionWrapper(F(anchor) + timedelta(hours=hours), output_field=DateTimeField())


class PerDay(Func):
    """The deadline of the local day of the period an anchor falls on (NULL outside the period).

    `days` are (first instant or date, next day's, deadline) in order. On PostgreSQL a binary search over the
    days' starts (`width_bucket`) indexes an array of the deadlines: a few comparisons per row and a short
    statement. Elsewhere the same lookup is a CASE with a branch per day, which PostgreSQL would evaluate branch
    by branch for every row and JIT-compile at great cost on large months (bench/slas.py). The CASE is built only
    when compiled for another database: as a source expression its 31 branches of lookups were resolved and copied
    with every clone of the query, for nothing on PostgreSQL.
    """

    output_field = DateTimeField()

    def __init__(self, anchor: str, days: list[tuple[date, date, datetime]]) -> None:
        self.days = days
        self.starts = [start for start, _, _ in days] + [days[-1][1]]
        self.deadlines = [deadline for _, _, deadline in days]
        self.start_type = "timestamptz" if isinstance(self.starts[0], datetime) else "date"
        super().__init__(F(anchor))

    def as_sql(self, compiler, connection, **extra_context):  # noqa: ANN001, ANN201 - Django's signature
        anchor = self.source_expressions[0]
        by_case = Case(
            *(
                When(Q(GreaterThanOrEqual(anchor, start), LessThan(anchor, end)), then=Value(deadline, DateTimeField()))
                for start, end, deadline in self.days
            ),
            output_field=DateTimeField(),
        )
        return compiler.compile(by_case.resolve_expression(compiler.query))

    def as_postgresql(self, compiler, connection, **extra_context):  # noqa: ANN001, ANN201 - Django's signature
        anchor, params = compiler.compile(self.source_expressions[0])
        sql = f"(%s::timestamptz[])[width_bucket({anchor}, %s::{self.start_type}[])]"
        return sql, (self.deadlines, *params, self.starts)


def _business_days_after(anchor: str, count: int, context: MetricContext) -> PerDay:
    """Deadline of "N business days after the anchor" (SPEC-SLA §1), chosen by the anchor's local day."""
    return PerDay(
        anchor, [(start, end, context.calendar.deadline_after(start, count)) for _, start, end in context.period.days()]
    )


def _end_of_due_day(context: MetricContext) -> PerDay:
    zone = context.period.zone
    days = [day for day, _, _ in context.period.days()]
    return PerDay("due_on", [(day, day + timedelta(1), datetime.combine(day, END_OF_DAY, tzinfo=zone)) for day in days])


def _sessions(context: MetricContext, anchor: str) -> QuerySet:
    return Session.objects.filter(context.in_period(anchor), engagement=context.engagement)


def _first_replacement_start(context: MetricContext) -> Subquery:
    replacements = Session.objects.filter(replaces=OuterRef("pk"), requested_at__lte=context.as_of)
    return Subquery(replacements.order_by("starts_at").values("starts_at")[:1])


# --- The metrics -----------------------------------------------------------------------------------------------


def session_confirmation_turnaround(context: MetricContext, hours: int) -> QuerySet:
    population, met, pending = _resolved_by(
        _sessions(context, "requested_at"), "confirmed_at", _hours_after("requested_at", hours), context.as_of
    )
    return _classified("session_confirmation_turnaround", population, "requested_at", context, met, pending)


def scheduling_lead_time(context: MetricContext, days: int) -> QuerySet:
    """The start that counts is the session's own, or for a cancelled session its first replacement's."""
    population = (
        _sessions(context, "requested_at")
        .exclude(cancelled_by=Side.CLIENT)
        .alias(
            effective_start=Case(
                When(status=SessionStatus.CANCELLED, then=_first_replacement_start(context)),
                default=F("starts_at"),
            ),
            deadline=_hours_after("requested_at", days * 24),
        )
    )
    met = Q(effective_start__isnull=False, effective_start__lte=F("deadline"))
    pending = Q(effective_start__isnull=True, deadline__gt=context.as_of)
    return _classified("scheduling_lead_time", population, "requested_at", context, met, pending)


def reschedule_within_window(context: MetricContext, business_days: int) -> QuerySet:
    population = (
        _sessions(context, "cancelled_at")
        .filter(status=SessionStatus.CANCELLED, cancelled_by=Side.PROVIDER)
        .alias(
            replacement_start=_first_replacement_start(context),
            deadline=_business_days_after("cancelled_at", business_days, context),
        )
    )
    met = Q(replacement_start__isnull=False, replacement_start__lte=F("deadline"))
    pending = Q(replacement_start__isnull=True, deadline__gt=context.as_of)
    return _classified("reschedule_within_window", population, "cancelled_at", context, met, pending)


def session_delivery_rate(context: MetricContext) -> QuerySet:
    """Delivered sessions are met, provider cancellations failed; a session not yet ended at as_of is pending."""
    population = _sessions(context, "starts_at").exclude(cancelled_by=Side.CLIENT)
    met = Q(status=SessionStatus.DELIVERED)
    pending = Q(status__in=[SessionStatus.REQUESTED, SessionStatus.CONFIRMED], ends_at__gt=context.as_of)
    return _classified("session_delivery_rate", population, "starts_at", context, met, pending)


def _tickets(context: MetricContext) -> QuerySet:
    return SupportTicket.objects.filter(context.in_period("opened_at"), engagement=context.engagement)


def support_first_response(context: MetricContext, hours: int) -> QuerySet:
    population, met, pending = _resolved_by(
        _tickets(context), "first_response_at", _hours_after("opened_at", hours), context.as_of
    )
    return _classified("support_first_response", population, "opened_at", context, met, pending)


def audit_report_turnaround(context: MetricContext, hours: int) -> QuerySet:
    population, met, pending = _resolved_by(
        _tickets(context).filter(category=TicketCategory.AUDIT_REQUEST),
        "resolved_at",
        _hours_after("opened_at", hours),
        context.as_of,
    )
    return _classified("audit_report_turnaround", population, "opened_at", context, met, pending)


def enrollment_processing(context: MetricContext, business_days: int) -> QuerySet:
    enrollments = Enrollment.objects.filter(context.in_period("requested_at"), session__engagement=context.engagement)
    population, met, pending = _resolved_by(
        enrollments, "processed_at", _business_days_after("requested_at", business_days, context), context.as_of
    )
    return _classified("enrollment_processing", population, "requested_at", context, met, pending)


def completion_reporting_timeliness(context: MetricContext, business_days: int) -> QuerySet:
    """Completions of the engagement's sessions, or (self-paced, no session) of courses it delivers."""
    completions = engagement_completions(context.engagement, context.period)
    population, met, pending = _resolved_by(
        completions, "recorded_at", _business_days_after("completed_at", business_days, context), context.as_of
    )
    return _classified("completion_reporting_timeliness", population, "completed_at", context, met, pending)


def mandatory_training_on_time(context: MetricContext) -> QuerySet:
    """Assignments due in the period for requirements met by a course the engagement delivers."""
    delivered_here = RequirementCourse.objects.filter(
        requirement=OuterRef("requirement"), course_id__in=context.engagement_courses()
    )
    assignments = ComplianceAssignment.objects.filter(
        due_on__gte=context.period.month, due_on__lt=context.period.next_month
    ).filter(Exists(delivered_here))
    population, met, pending = _resolved_by(assignments, "completed_at", _end_of_due_day(context), context.as_of)
    return _classified("mandatory_training_on_time", population, "due_on", context, met, pending, is_date=True)


def assessment_pass_rate(context: MetricContext) -> QuerySet:
    attempts = AssessmentAttempt.objects.filter(
        context.in_period("attempted_at"), attempt_number=1, course_id__in=context.engagement_courses()
    )
    return _classified("assessment_pass_rate", attempts, "attempted_at", context, Q(passed=True))


class DaysBefore(Func):
    """A date minus a number of days, as a date: `date - integer` on PostgreSQL, date() on SQLite."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = DateField()

    def as_sqlite(self, compiler, connection, **extra_context):  # noqa: ANN001, ANN201 - Django's signature
        return super().as_sql(
            compiler, connection, template="date(%(expressions)s || ' days')", arg_joiner=", '-' || ", **extra_context
        )


def content_freshness(context: MetricContext, days: int) -> QuerySet:
    """Regulated courses the engagement delivers, judged at period end; relief on the last day excludes all.

    A course is fresh when reviewed within its own review interval, never longer than the target's R days: a
    course that must be reviewed every 180 days is judged by 180, and a longer interval (which course keepers,
    the provider's among them, may set) cannot loosen the contract's R.

    The anchor of every course is the period end, so relief is decided here alone: `_classified` gets no relief,
    otherwise it would also drop a course whose `last_reviewed_on` happens to fall on a relief day.
    """
    courses = Course.objects.filter(regulated=True, pk__in=context.engagement_courses())
    last_day = context.period.last_day
    if any(event.starts_on <= last_day <= event.ends_on for event in context.relief_for("content_freshness")):
        courses = courses.none()
    window = Least(Value(days), F("review_interval_days"))
    courses = courses.alias(reviewed_since=DaysBefore(Value(context.period.next_month, DateField()), window))
    met = Q(last_reviewed_on__gte=F("reviewed_since"))
    return _classified("content_freshness", courses, "last_reviewed_on", replace(context, relief=()), met, is_date=True)


def change_request_response(context: MetricContext, business_days: int) -> QuerySet:
    requests = ChangeRequest.objects.filter(context.in_period("submitted_at"), sow__engagement=context.engagement)
    population, met, pending = _resolved_by(
        requests, "responded_at", _business_days_after("submitted_at", business_days, context), context.as_of
    )
    return _classified("change_request_response", population, "submitted_at", context, met, pending)


def _feedback(metric: str, context: MetricContext) -> QuerySet:
    """Feedback submitted by as_of on delivered sessions starting in the period (relief by the session's start)."""
    return (
        Feedback.objects.filter(
            context.in_period("session__starts_at"),
            session__engagement=context.engagement,
            session__status=SessionStatus.DELIVERED,
            submitted_at__lte=context.as_of,
        )
        .filter(_relief_exclusion(context, metric, "session__starts_at"))
        .annotate(outcome=Value("scored", output_field=CharField()))
    )


def instructor_rating(context: MetricContext) -> QuerySet:
    return _feedback("instructor_rating", context)


def learner_satisfaction(context: MetricContext) -> QuerySet:
    return _feedback("learner_satisfaction", context)


def _mean_of(score: str) -> Callable[[str, QuerySet, MetricContext], MetricResult]:
    def result(metric: str, feedback: QuerySet, context: MetricContext) -> MetricResult:
        row = feedback.aggregate(count=Count("pk"), total=Sum(score))
        count, total = row["count"], Decimal(row["total"] or 0)
        return MetricResult(
            metric=metric,
            value=mean(total, count) if count else None,
            numerator=total,
            denominator=Decimal(count),
            sample=count,
            inputs=ids_by_outcome(feedback, ["scored"]) if context.with_items else {},
        )

    return result


def training_utilization(context: MetricContext) -> QuerySet:
    """The delivered sessions starting in the period: their seats are the population."""
    return (
        _sessions(context, "starts_at")
        .filter(status=SessionStatus.DELIVERED)
        .filter(_relief_exclusion(context, "training_utilization", "starts_at"))
        .annotate(outcome=Value("sessions", output_field=CharField()))
    )


def _utilization(metric: str, sessions: QuerySet, context: MetricContext) -> MetricResult:
    """Attended seats over capacity, summed over the delivered sessions (not a mean of ratios)."""
    # One count of the present seats of all those sessions, uncorrelated so the database runs it once (Max only
    # lifts it into the aggregate); a count per session costs an index probe per enrollment (bench/slas.py).
    present = (
        Attendance.objects.filter(present=True, enrollment__session__in=sessions.values("pk"))
        .order_by()
        .values(n=Func("pk", function="COUNT"))
    )
    row = sessions.aggregate(seats=Sum("capacity"), attended_seats=Max(Subquery(present, output_field=IntegerField())))
    seats, attended = row["seats"] or 0, row["attended_seats"] or 0
    return MetricResult(
        metric=metric,
        value=percentage(attended, seats) if seats else None,
        numerator=Decimal(attended),
        denominator=Decimal(seats),
        sample=seats,
        inputs=ids_by_outcome(sessions, ["sessions"]) if context.with_items else {},
    )


Interval = tuple[datetime, datetime]


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _seconds(intervals: Iterable[Interval]) -> int:
    """Elapsed seconds, as UTC instants: two aware datetimes sharing a tzinfo (the period's local midnights)
    subtract as wall-clock times, which would make March 744 h instead of 743 h in Europe/London."""
    return sum(int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()) for start, end in intervals)


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    remaining = []
    for start, end in intervals:
        cursor = start
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                remaining.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
        if cursor < end:
            remaining.append((cursor, end))
    return remaining


def _minutes(seconds: int) -> Decimal:
    return (Decimal(seconds) / 60).quantize(Decimal("0.0001"))


def platform_uptime(context: MetricContext) -> QuerySet:
    """The outages overlapping the period up to as_of: planned maintenance and unplanned outages."""
    window_start, window_end = context.period.start, min(context.period.end, context.as_of)
    return Outage.objects.filter(
        engagement=context.engagement, starts_at__lt=window_end, ends_at__gt=window_start
    ).annotate(
        outcome=Case(
            When(planned=True, then=Value("planned_outages")),
            default=Value("unplanned_outages"),
            output_field=CharField(),
        )
    )


def _uptime(metric: str, outages: QuerySet, context: MetricContext) -> MetricResult:
    """Minutes of the period up to as_of, less planned maintenance and relief; down = unplanned outage minutes.

    The population is minutes, not rows: one query fetches the period's outages, the interval arithmetic
    (overlaps merged, so a minute is never counted twice) runs here. The value uses exact seconds.
    """
    window_start, window_end = context.period.start, min(context.period.end, context.as_of)
    if window_end <= window_start:
        return MetricResult(metric, None, Decimal(0), Decimal(0), sample=0)
    rows = list(outages.order_by("pk").values_list("pk", "starts_at", "ends_at", "planned"))

    def clip(start: datetime, end: datetime) -> Interval:
        return max(start, window_start), min(end, window_end)

    excluded = [clip(start, end) for _, start, end, planned in rows if planned]
    excluded += [
        clip(context.period.midnight(event.starts_on), context.period.midnight(event.ends_on + timedelta(1)))
        for event in context.relief_for(metric)
    ]
    excluded = _merge(interval for interval in excluded if interval[0] < interval[1])
    eligible = _subtract([(window_start, window_end)], excluded)
    down = _subtract(_merge(clip(start, end) for _, start, end, planned in rows if not planned), excluded)
    eligible_seconds, down_seconds = _seconds(eligible), _seconds(down)
    up_seconds = eligible_seconds - down_seconds
    outage_ids = {
        "unplanned_outages": [pk for pk, *_, planned in rows if not planned],
        "planned_outages": [pk for pk, *_, planned in rows if planned],
    }
    return MetricResult(
        metric=metric,
        value=percentage(up_seconds, eligible_seconds) if eligible_seconds else None,
        numerator=_minutes(up_seconds),
        denominator=_minutes(eligible_seconds),
        sample=eligible_seconds // 60,
        inputs={**(outage_ids if context.with_items else {}), "down_minutes": str(_minutes(down_seconds))},
    )


def _manual(metric: str, items: None, context: MetricContext) -> MetricResult:
    """A manual metric: the submitted audit value, which counts only once the other side has verified it."""
    submitted = context.manual.get(metric)
    if submitted is None:
        return MetricResult(metric, None, Decimal(0), Decimal(0), sample=0)
    return MetricResult(
        metric=metric,
        value=submitted.value,
        numerator=submitted.value,
        denominator=Decimal(100),
        sample=submitted.sample_size,
        inputs={"manual_measurement": submitted.pk, "status": submitted.status},
        awaiting_verification=submitted.status != ManualStatus.VERIFIED,
    )


PERCENT_GROUPS = (("failed", _("Failed")), ("pending", _("Pending")), ("met", _("Met")))
SCORED = (("scored", _("Scored feedback")),)


@dataclass(frozen=True)
class MetricDefinition:
    """How a catalog metric (slas.catalog) is measured: its items and how the result follows from them.

    `items(context[, threshold])` is every item of the period outside relief, annotated with its `outcome` (the
    snapshot list it belongs to); `shown` names the rule's own expressions (the deadline, a replacement's start)
    the drill-down shows next to each item, so no deadline is computed a second time; `groups` are the outcome
    lists in the order the drill-down offers them.
    """

    items: Callable[..., QuerySet] | None
    result: Callable[[str, QuerySet | None, MetricContext], MetricResult] = _percent_result
    groups: tuple[tuple[str, str], ...] = PERCENT_GROUPS
    shown: tuple[str, ...] = ("deadline",)


DEFINITIONS: dict[str, MetricDefinition] = {
    "session_confirmation_turnaround": MetricDefinition(session_confirmation_turnaround),
    "scheduling_lead_time": MetricDefinition(scheduling_lead_time, shown=("effective_start", "deadline")),
    "reschedule_within_window": MetricDefinition(reschedule_within_window, shown=("replacement_start", "deadline")),
    "session_delivery_rate": MetricDefinition(session_delivery_rate, shown=()),
    "support_first_response": MetricDefinition(support_first_response),
    "enrollment_processing": MetricDefinition(enrollment_processing),
    "completion_reporting_timeliness": MetricDefinition(completion_reporting_timeliness),
    "completion_reporting_accuracy": MetricDefinition(None, _manual, groups=(), shown=()),
    "mandatory_training_on_time": MetricDefinition(mandatory_training_on_time),
    "audit_report_turnaround": MetricDefinition(audit_report_turnaround),
    "instructor_rating": MetricDefinition(instructor_rating, _mean_of("instructor_score"), SCORED, shown=()),
    "learner_satisfaction": MetricDefinition(learner_satisfaction, _mean_of("overall_score"), SCORED, shown=()),
    "assessment_pass_rate": MetricDefinition(assessment_pass_rate, shown=()),
    "content_freshness": MetricDefinition(content_freshness, shown=("reviewed_since",)),
    "platform_uptime": MetricDefinition(
        platform_uptime,
        _uptime,
        (("unplanned_outages", _("Unplanned outages")), ("planned_outages", _("Planned maintenance"))),
        shown=(),
    ),
    "change_request_response": MetricDefinition(change_request_response),
    "training_utilization": MetricDefinition(
        training_utilization, _utilization, (("sessions", _("Delivered sessions")),), shown=()
    ),
}
assert set(DEFINITIONS) == set(METRICS)  # noqa: S101 - every catalog metric is measured


def items_of(metric: str, context: MetricContext, threshold: int | None) -> QuerySet | None:
    """The metric's items of the context's period with their outcome (None: a manual metric has no items)."""
    items = DEFINITIONS[metric].items
    if items is None:
        return None
    return items(context, threshold) if METRICS[metric].threshold_unit else items(context)


def measure(metric: str, context: MetricContext, threshold: int | None) -> MetricResult:
    """The metric's result for the context's period; `threshold` is the target's H/D/N/R parameter."""
    return DEFINITIONS[metric].result(metric, items_of(metric, context, threshold), context)
