"""How each metric of SPEC-SLA §3 is measured: one set-based query per metric and period.

Every percentage metric is an `ItemRule`: the population (items anchored in the period, minus approved relief),
a `met` condition and a `pending` condition (unresolved and not yet due at `as_of`); everything else failed.
The database classifies the items and returns their ids per outcome in a single aggregate query (on PostgreSQL as
a bitmap, one word per block of 64 ids, which parallel workers build together); Python only turns the counts into
a value. Deadlines in business days are precomputed per local day of the period by the
one `BusinessCalendar` (the change-request deadlines use the same), so the SQL never needs a holiday table.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Aggregate,
    BigIntegerField,
    Case,
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
    TextField,
    Value,
    When,
)
from django.db.models.functions import Least
from django.db.models.lookups import GreaterThanOrEqual, LessThan

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
from .fields import IdBitmap
from .models import ManualMeasurement, ReliefEvent
from .periods import Period
from .selectors import engagement_completions

NEVER = Q(pk__isnull=True)


class ItemIds(Aggregate):
    """The ids of the aggregated rows: ARRAY_AGG on PostgreSQL, GROUP_CONCAT on SQLite."""

    function = "ARRAY_AGG"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):  # noqa: ANN001, ANN201 - Django's signature
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def _ids(value: list[int] | str | None) -> list[int]:
    if not value:
        return []
    if isinstance(value, str):
        return sorted(int(part) for part in value.split(","))
    return sorted(value)


class IdBlock(Func):
    """The block of 64 ids an id is in (PostgreSQL): the number of an `IdBitmap` word."""

    template = "(%(expressions)s >> 6)"
    output_field = BigIntegerField()


class BlockWord(Aggregate):
    """The `IdBitmap` word of a block of ids (PostgreSQL): the OR of each id's bit. Grouped by `IdBlock`, a month's
    items come back as one word per 64 ids, aggregated by all parallel workers (`bit_or` combines), instead of
    an array of every id that one process builds and Python parses, sorts and packs again (bench/slas.py)."""

    function = "BIT_OR"
    template = "%(function)s(1::bigint << (%(expressions)s & 63)::integer)"
    output_field = BigIntegerField()


@dataclass(frozen=True)
class MetricContext:
    engagement: Engagement
    period: Period
    as_of: datetime
    relief: tuple[ReliefEvent, ...] = ()
    manual: dict[str, ManualMeasurement] = field(default_factory=dict)

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
    inputs: dict = field(default_factory=dict)  # lists of ids, or IdBitmaps (slas.fields), by outcome
    awaiting_verification: bool = False


@dataclass(frozen=True)
class ItemRule:
    population: QuerySet
    anchor: str  # the timestamp (or date) that places an item in a period and inside relief
    met: Q
    pending: Q = NEVER


def _relief_exclusion(context: MetricContext, metric: str, anchor: str, *, is_date: bool = False) -> Q:
    excluded = Q()
    for event in context.relief_for(metric):
        if is_date:
            excluded |= Q(**{f"{anchor}__gte": event.starts_on, f"{anchor}__lte": event.ends_on})
        else:
            start, end = context.period.midnight(event.starts_on), context.period.midnight(event.ends_on + timedelta(1))
            excluded |= Q(**{f"{anchor}__gte": start, f"{anchor}__lt": end})
    return ~excluded if excluded else Q()


def _by_block(items: QuerySet, **aggregates: Aggregate) -> list[tuple]:
    """PostgreSQL: a row (block, *aggregates) per block of 64 ids of the items (IdBlock), sorted by block. Fetched
    as plain integers: the ORM would convert every value of thousands of rows one by one."""
    grouped = items.order_by().values(block=IdBlock("pk")).annotate(**aggregates)
    try:
        sql, params = grouped.query.sql_with_params()
    except EmptyResultSet:  # e.g. `.none()`: no items, nothing to ask
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall())


def _classify(metric: str, rule: ItemRule, context: MetricContext, *, anchor_is_date: bool = False) -> MetricResult:
    outcome = Case(
        When(rule.met, then=Value(ItemOutcome.MET)),
        When(rule.pending, then=Value(ItemOutcome.PENDING)),
        default=Value(ItemOutcome.FAILED),
    )
    items = rule.population.filter(_relief_exclusion(context, metric, rule.anchor, is_date=anchor_is_date)).alias(
        outcome=outcome
    )
    keys = ItemOutcome.values
    if connection.vendor == "postgresql":
        rows = _by_block(items, **{key: BlockWord("pk", filter=Q(outcome=key)) for key in keys})
        ids = {key: IdBitmap.from_rows(rows, column) for column, key in enumerate(keys, 1)}
    else:
        row = items.aggregate(**{key: ItemIds("pk", filter=Q(outcome=key)) for key in keys})
        ids = {key: _ids(row[key]) for key in keys}
    met, failed, pending = (len(ids[key]) for key in keys)
    sample = met + failed
    return MetricResult(
        metric=metric,
        value=percentage(met, sample) if sample else None,
        numerator=Decimal(met),
        denominator=Decimal(sample),
        sample=sample,
        pending=pending,
        inputs=ids,
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


def session_confirmation_turnaround(context: MetricContext, hours: int) -> MetricResult:
    population, met, pending = _resolved_by(
        _sessions(context, "requested_at"), "confirmed_at", _hours_after("requested_at", hours), context.as_of
    )
    return _classify("session_confirmation_turnaround", ItemRule(population, "requested_at", met, pending), context)


def scheduling_lead_time(context: MetricContext, days: int) -> MetricResult:
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
    return _classify("scheduling_lead_time", ItemRule(population, "requested_at", met, pending), context)


def reschedule_within_window(context: MetricContext, business_days: int) -> MetricResult:
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
    return _classify("reschedule_within_window", ItemRule(population, "cancelled_at", met, pending), context)


def session_delivery_rate(context: MetricContext) -> MetricResult:
    """Delivered sessions are met, provider cancellations failed; a session not yet ended at as_of is pending."""
    population = _sessions(context, "starts_at").exclude(cancelled_by=Side.CLIENT)
    met = Q(status=SessionStatus.DELIVERED)
    pending = Q(status__in=[SessionStatus.REQUESTED, SessionStatus.CONFIRMED], ends_at__gt=context.as_of)
    return _classify("session_delivery_rate", ItemRule(population, "starts_at", met, pending), context)


def _tickets(context: MetricContext) -> QuerySet:
    return SupportTicket.objects.filter(context.in_period("opened_at"), engagement=context.engagement)


def support_first_response(context: MetricContext, hours: int) -> MetricResult:
    population, met, pending = _resolved_by(
        _tickets(context), "first_response_at", _hours_after("opened_at", hours), context.as_of
    )
    return _classify("support_first_response", ItemRule(population, "opened_at", met, pending), context)


def audit_report_turnaround(context: MetricContext, hours: int) -> MetricResult:
    population, met, pending = _resolved_by(
        _tickets(context).filter(category=TicketCategory.AUDIT_REQUEST),
        "resolved_at",
        _hours_after("opened_at", hours),
        context.as_of,
    )
    return _classify("audit_report_turnaround", ItemRule(population, "opened_at", met, pending), context)


def enrollment_processing(context: MetricContext, business_days: int) -> MetricResult:
    enrollments = Enrollment.objects.filter(context.in_period("requested_at"), session__engagement=context.engagement)
    population, met, pending = _resolved_by(
        enrollments, "processed_at", _business_days_after("requested_at", business_days, context), context.as_of
    )
    return _classify("enrollment_processing", ItemRule(population, "requested_at", met, pending), context)


def completion_reporting_timeliness(context: MetricContext, business_days: int) -> MetricResult:
    """Completions of the engagement's sessions, or (self-paced, no session) of courses it delivers."""
    completions = engagement_completions(context.engagement, context.period)
    population, met, pending = _resolved_by(
        completions, "recorded_at", _business_days_after("completed_at", business_days, context), context.as_of
    )
    return _classify("completion_reporting_timeliness", ItemRule(population, "completed_at", met, pending), context)


def mandatory_training_on_time(context: MetricContext) -> MetricResult:
    """Assignments due in the period for requirements met by a course the engagement delivers."""
    delivered_here = RequirementCourse.objects.filter(
        requirement=OuterRef("requirement"), course_id__in=context.engagement_courses()
    )
    assignments = ComplianceAssignment.objects.filter(
        due_on__gte=context.period.month, due_on__lt=context.period.next_month
    ).filter(Exists(delivered_here))
    population, met, pending = _resolved_by(assignments, "completed_at", _end_of_due_day(context), context.as_of)
    rule = ItemRule(population, "due_on", met, pending)
    return _classify("mandatory_training_on_time", rule, context, anchor_is_date=True)


def assessment_pass_rate(context: MetricContext) -> MetricResult:
    attempts = AssessmentAttempt.objects.filter(
        context.in_period("attempted_at"), attempt_number=1, course_id__in=context.engagement_courses()
    )
    return _classify("assessment_pass_rate", ItemRule(attempts, "attempted_at", Q(passed=True)), context)


class DaysAfter(Func):
    """A date plus a number of days, as a date: `date + integer` on PostgreSQL, date() on SQLite."""

    arg_joiner = " + "
    template = "(%(expressions)s)"
    output_field = DateField()

    def as_sqlite(self, compiler, connection, **extra_context):  # noqa: ANN001, ANN201 - Django's signature
        return super().as_sql(
            compiler, connection, template="date(%(expressions)s || ' days')", arg_joiner=", '+' || ", **extra_context
        )


def content_freshness(context: MetricContext, days: int) -> MetricResult:
    """Regulated courses the engagement delivers, judged at period end; relief on the last day excludes all.

    A course is fresh when reviewed within its own review interval, never longer than the target's R days: a
    course that must be reviewed every 180 days is judged by 180, and a longer interval (which course keepers,
    the provider's among them, may set) cannot loosen the contract's R.

    The anchor of every course is the period end, so relief is decided here alone: `_classify` gets no relief,
    otherwise it would also drop a course whose `last_reviewed_on` happens to fall on a relief day.
    """
    courses = Course.objects.filter(regulated=True, pk__in=context.engagement_courses())
    last_day = context.period.last_day
    if any(event.starts_on <= last_day <= event.ends_on for event in context.relief_for("content_freshness")):
        courses = courses.none()
    window = Least(Value(days), F("review_interval_days"))
    met = Q(GreaterThanOrEqual(DaysAfter(F("last_reviewed_on"), window), Value(context.period.next_month)))
    rule = ItemRule(courses, "last_reviewed_on", met)
    return _classify("content_freshness", rule, replace(context, relief=()), anchor_is_date=True)


def change_request_response(context: MetricContext, business_days: int) -> MetricResult:
    requests = ChangeRequest.objects.filter(context.in_period("submitted_at"), sow__engagement=context.engagement)
    population, met, pending = _resolved_by(
        requests, "responded_at", _business_days_after("submitted_at", business_days, context), context.as_of
    )
    return _classify("change_request_response", ItemRule(population, "submitted_at", met, pending), context)


def _feedback_mean(metric: str, score: str, context: MetricContext) -> MetricResult:
    feedback = Feedback.objects.filter(
        context.in_period("session__starts_at"),
        session__engagement=context.engagement,
        session__status=SessionStatus.DELIVERED,
        submitted_at__lte=context.as_of,
    ).filter(_relief_exclusion(context, metric, "session__starts_at"))
    if connection.vendor == "postgresql":
        rows = _by_block(feedback, scored=BlockWord("pk"), count=Count("pk"), total=Sum(score))
        scored, count, total = IdBitmap.from_rows(rows, 1), sum(row[2] for row in rows), sum(row[3] for row in rows)
    else:
        row = feedback.aggregate(count=Count("pk"), total=Sum(score), ids=ItemIds("pk"))
        scored, count, total = _ids(row["ids"]), row["count"], row["total"] or 0
    total = Decimal(total)
    return MetricResult(
        metric=metric,
        value=mean(total, count) if count else None,
        numerator=total,
        denominator=Decimal(count),
        sample=count,
        inputs={"scored": scored},
    )


def instructor_rating(context: MetricContext) -> MetricResult:
    return _feedback_mean("instructor_rating", "instructor_score", context)


def learner_satisfaction(context: MetricContext) -> MetricResult:
    return _feedback_mean("learner_satisfaction", "overall_score", context)


def training_utilization(context: MetricContext) -> MetricResult:
    """Attended seats over capacity, summed over the delivered sessions (not a mean of ratios)."""
    sessions = (
        _sessions(context, "starts_at")
        .filter(status=SessionStatus.DELIVERED)
        .filter(_relief_exclusion(context, "training_utilization", "starts_at"))
    )
    # One count of the present seats of all those sessions, uncorrelated so the database runs it once (Max only
    # lifts it into the aggregate); a count per session costs an index probe per enrollment (bench/slas.py).
    present = (
        Attendance.objects.filter(present=True, enrollment__session__in=sessions)
        .order_by()
        .values(n=Func("pk", function="COUNT"))
    )
    row = sessions.aggregate(
        seats=Sum("capacity"), attended_seats=Max(Subquery(present, output_field=IntegerField())), ids=ItemIds("pk")
    )
    seats, attended = row["seats"] or 0, row["attended_seats"] or 0
    return MetricResult(
        metric="training_utilization",
        value=percentage(attended, seats) if seats else None,
        numerator=Decimal(attended),
        denominator=Decimal(seats),
        sample=seats,
        inputs={"sessions": _ids(row["ids"])},
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


def platform_uptime(context: MetricContext) -> MetricResult:
    """Minutes of the period up to as_of, less planned maintenance and relief; down = unplanned outage minutes.

    The population is minutes, not rows: one query fetches the period's outages, the interval arithmetic
    (overlaps merged, so a minute is never counted twice) runs here. The value uses exact seconds.
    """
    window_start, window_end = context.period.start, min(context.period.end, context.as_of)
    if window_end <= window_start:
        return MetricResult("platform_uptime", None, Decimal(0), Decimal(0), sample=0)
    outages = list(
        Outage.objects.filter(
            engagement=context.engagement, starts_at__lt=window_end, ends_at__gt=window_start
        ).values_list("pk", "starts_at", "ends_at", "planned")
    )

    def clip(start: datetime, end: datetime) -> Interval:
        return max(start, window_start), min(end, window_end)

    excluded = [clip(start, end) for _, start, end, planned in outages if planned]
    excluded += [
        clip(context.period.midnight(event.starts_on), context.period.midnight(event.ends_on + timedelta(1)))
        for event in context.relief_for("platform_uptime")
    ]
    excluded = _merge(interval for interval in excluded if interval[0] < interval[1])
    eligible = _subtract([(window_start, window_end)], excluded)
    down = _subtract(_merge(clip(start, end) for _, start, end, planned in outages if not planned), excluded)
    eligible_seconds, down_seconds = _seconds(eligible), _seconds(down)
    up_seconds = eligible_seconds - down_seconds
    return MetricResult(
        metric="platform_uptime",
        value=percentage(up_seconds, eligible_seconds) if eligible_seconds else None,
        numerator=_minutes(up_seconds),
        denominator=_minutes(eligible_seconds),
        sample=eligible_seconds // 60,
        inputs={
            "unplanned_outages": sorted(pk for pk, *_, planned in outages if not planned),
            "planned_outages": sorted(pk for pk, *_, planned in outages if planned),
            "down_minutes": str(_minutes(down_seconds)),
        },
    )


def completion_reporting_accuracy(context: MetricContext) -> MetricResult:
    """A manual metric: the submitted audit value, which counts only once the other side has verified it."""
    submitted = context.manual.get("completion_reporting_accuracy")
    if submitted is None:
        return MetricResult("completion_reporting_accuracy", None, Decimal(0), Decimal(0), sample=0)
    return MetricResult(
        metric="completion_reporting_accuracy",
        value=submitted.value,
        numerator=submitted.value,
        denominator=Decimal(100),
        sample=submitted.sample_size,
        inputs={"manual_measurement": submitted.pk, "status": submitted.status},
        awaiting_verification=submitted.status != ManualStatus.VERIFIED,
    )


MEASURES: dict[str, Callable[..., MetricResult]] = {
    "session_confirmation_turnaround": session_confirmation_turnaround,
    "scheduling_lead_time": scheduling_lead_time,
    "reschedule_within_window": reschedule_within_window,
    "session_delivery_rate": session_delivery_rate,
    "support_first_response": support_first_response,
    "enrollment_processing": enrollment_processing,
    "completion_reporting_timeliness": completion_reporting_timeliness,
    "completion_reporting_accuracy": completion_reporting_accuracy,
    "mandatory_training_on_time": mandatory_training_on_time,
    "audit_report_turnaround": audit_report_turnaround,
    "instructor_rating": instructor_rating,
    "learner_satisfaction": learner_satisfaction,
    "assessment_pass_rate": assessment_pass_rate,
    "content_freshness": content_freshness,
    "platform_uptime": platform_uptime,
    "change_request_response": change_request_response,
    "training_utilization": training_utilization,
}
assert set(MEASURES) == set(METRICS)  # noqa: S101 - every catalog metric is measured


def measure(metric: str, context: MetricContext, threshold: int | None) -> MetricResult:
    """The metric's result for the context's period; `threshold` is the target's H/D/N/R parameter."""
    if METRICS[metric].threshold_unit:
        return MEASURES[metric](context, threshold)
    return MEASURES[metric](context)
