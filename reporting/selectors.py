"""Reads for the L&D director's dashboard, across the engagements a member sees or for one of them.

Every function takes the engagements to report on (`engagements.selectors.engagements_for`, narrowed to one
engagement on its own dashboard) and answers in a fixed number of queries, whatever the number of engagements,
periods or delivery items: the figures are aggregated in SQL (annotations and correlated subqueries), and Python
only reshapes the few rows that come back.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.safestring import SafeString

from engagements.enums import AWAITING_APPROVAL, EngagementStatus, Side
from engagements.models import ChangeRequest, ContractMilestone, Engagement
from engagements.selectors import change_requests_for, engagements_for
from engagements.services import contract_milestones
from mls.models import Membership
from scheduling.enums import SessionStatus
from scheduling.models import Attendance, Session
from scheduling.selectors import billable_learners, compliance_overview, sessions_for
from slas.catalog import METRICS, Direction, Metric
from slas.enums import CreditStatus, EscalationLevel, ManualStatus, MeasurementStatus, PeriodStatus, ReliefStatus
from slas.models import (
    Breach,
    Escalation,
    ManualMeasurement,
    Measurement,
    ReliefEvent,
    ServiceCredit,
    SlaPeriod,
    SlaTarget,
)
from slas.periods import first_of_next_month
from slas.selectors import Rag, rag_of

from .charts import bar_chart, sparkline
from .quarters import Quarter, ShownMonth

CENT = Decimal("0.01")
TREND_MONTHS = 6
UPCOMING_DAYS = 14
UPCOMING_SESSIONS = 10
DEADLINE_SOON_DAYS = 30
CONTRACT_DATES = 8
SPEND_CHART_WIDTH, SPEND_CHART_HEIGHT = 360, 180  # a third of the page: the labels stay legible unscaled
HOUR = timedelta(hours=1)
ZERO = Decimal("0.00")
NOTICE_DEADLINES = frozenset({ContractMilestone.RENEWAL_NOTICE_DEADLINE, ContractMilestone.TERMINATION_NOTICE_DEADLINE})


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _months_back(month: date, count: int) -> list[date]:
    """`count` first-of-months ending with `month`, oldest first."""
    months = [month]
    while len(months) < count:
        months.insert(0, (months[0] - timedelta(days=1)).replace(day=1))
    return months


def engagements_on_dashboard(membership: Membership, engagement_id: int | None = None) -> QuerySet[Engagement]:
    """What the member may see (a provider manager: its provider's engagements), or that one engagement."""
    engagements = engagements_for(membership)
    return engagements if engagement_id is None else engagements.filter(pk=engagement_id)


# --- SLA status ------------------------------------------------------------------------------------------------


ESCALATION_RAG = {
    EscalationLevel.EXIT_RIGHT: Rag("red", "Exit right open"),
    EscalationLevel.FORMAL_REVIEW: Rag("red", "Formal review open"),
    EscalationLevel.NOTICE: Rag("amber", "Notice open"),
}


@dataclass(frozen=True)
class SlaStatus:
    """The quarter's last measured month of one engagement: how many targets meet, fail or cannot be judged yet,
    and the top escalation still open at that point (which outranks a month on target)."""

    engagement_id: int
    engagement_name: str
    month: date
    finalized: bool
    meeting: int
    failing: int
    unjudged: int
    escalation: str | None = None

    @property
    def rag(self) -> tuple[str, str]:
        """Colour (a badge modifier, blank for grey) and the words that say the same without colour."""
        if self.failing:
            return ("red", "Breached") if self.finalized else ("amber", "At risk")
        if self.escalation:
            escalated = ESCALATION_RAG[self.escalation]
            return (escalated.tone, escalated.label)
        return ("green", "On target") if self.meeting else ("", "Not judged yet")

    @property
    def escalation_label(self) -> str:
        """An open escalation beside a failing month: the badge says the month, this says the run of breaches."""
        return ESCALATION_RAG[self.escalation].label if self.escalation and self.failing else ""


def escalations_at(engagements: QuerySet[Engagement], shown: ShownMonth) -> list[Escalation]:
    """The escalations open at the end of the shown month: what the panel lists and the status and tiles heed."""
    return list(open_escalations(engagements, before=first_of_next_month(shown.month)))


def sla_status(
    engagements: QuerySet[Engagement], shown: ShownMonth, escalations: Iterable[Escalation] | None = None
) -> list[SlaStatus]:
    """One row per engagement with SLA results in the quarter, from its latest period up to the shown month (one
    query), with the most severe escalation open at its end (`escalations_at`, read again unless given)."""
    latest = (
        SlaPeriod.objects.filter(
            engagement=OuterRef("engagement"), month__gte=shown.quarter.start, month__lte=shown.month
        )
        .order_by("-month")
        .values("pk")[:1]
    )
    meeting = Q(status=MeasurementStatus.MET) | Q(status=MeasurementStatus.PROVISIONAL, meets_target=True)
    failing = Q(status=MeasurementStatus.BREACHED) | Q(status=MeasurementStatus.PROVISIONAL, meets_target=False)
    rows = (
        Measurement.objects.filter(engagement__in=engagements, period=Subquery(latest))
        .values("engagement", "engagement__name", "period__month", "period__status")
        .annotate(meeting=Count("pk", filter=meeting), failing=Count("pk", filter=failing), total=Count("pk"))
        .order_by("engagement__name")
    )
    escalated: dict[int, str] = {}
    for escalation in escalations_at(engagements, shown) if escalations is None else escalations:
        escalated.setdefault(escalation.engagement_id, escalation.level)  # ordered most severe first
    return [
        SlaStatus(
            engagement_id=row["engagement"],
            engagement_name=row["engagement__name"],
            month=row["period__month"],
            finalized=row["period__status"] == PeriodStatus.FINALIZED,
            meeting=row["meeting"],
            failing=row["failing"],
            unjudged=row["total"] - row["meeting"] - row["failing"],
            escalation=escalated.get(row["engagement"]),
        )
        for row in rows
    ]


NOT_MEASURED = Rag("grey", "Not measured yet")


@dataclass(frozen=True)
class SlaTile:
    """One target of one engagement: its latest value in the quarter against the target, the escalation of that
    metric still open then (an engagement-level formal review is the status column's and the panel's, not every
    tile's), and the trend of the six months up to the shown month."""

    engagement: Engagement
    metric: Metric
    target: Decimal
    latest: Measurement | None
    trend: list[Decimal | None]
    months: list[date]
    shown: ShownMonth
    escalation: str | None = None

    @property
    def rag(self) -> Rag:
        if self.latest is None:
            return Rag("grey", f"Not measured in {self.shown.quarter.label}")
        rag = rag_of(self.latest)
        if self.escalation and rag.tone not in ("red", "amber"):
            return ESCALATION_RAG[self.escalation]
        return rag

    @property
    def month(self) -> date:
        """The month the tile's value is of: the latest result's, else the shown month."""
        return self.latest.period.month if self.latest else self.shown.month

    @property
    def sparkline(self) -> SafeString:
        return sparkline(
            self.trend,
            label=f"{self.metric.name}, last {len(self.trend)} months",
            target=self.target,
            higher_is_better=self.metric.direction == Direction.HIGHER_IS_BETTER,
            months=[f"{month:%b}" for month in self.months],
        )


def _latest_result(history: dict[date, Measurement], shown: ShownMonth) -> Measurement | None:
    """The latest month of the quarter with a value; the running month often has too few items yet to judge (then
    its predecessor says more), and without any value the latest month still tells why."""
    in_quarter = [month for month in history if month in shown]
    valued = [month for month in in_quarter if history[month].value is not None]
    return history[max(valued or in_quarter)] if in_quarter else None


def sla_tiles(
    engagements: QuerySet[Engagement],
    today: date,
    shown: ShownMonth | None = None,
    escalations: Iterable[Escalation] | None = None,
) -> list[SlaTile]:
    """Each target in force at the shown month's end (or today, if sooner), by engagement and catalog order, with
    the measurements of the six months up to the shown month (three queries: the targets, the measurements without
    their item snapshots, and `escalations_at` unless given)."""
    shown = shown or ShownMonth.of(Quarter.containing(today, "UTC"), today)
    months = _months_back(shown.month, TREND_MONTHS)
    on = min(today, first_of_next_month(shown.month) - timedelta(days=1))
    targets = (
        SlaTarget.objects.filter(schedule__engagement__in=engagements, active_from__lte=on)
        .filter(Q(active_to__isnull=True) | Q(active_to__gte=on))
        .select_related("schedule__engagement")
    )
    measured = (
        Measurement.objects.filter(
            engagement__in=engagements, period__month__gte=months[0], period__month__lte=shown.month
        )
        .select_related("period")
        .defer("inputs")
    )
    by_cell: dict[tuple[int, str], dict[date, Measurement]] = defaultdict(dict)
    for measurement in measured:
        by_cell[measurement.engagement_id, measurement.metric][measurement.period.month] = measurement
    escalated: dict[tuple[int, str], str] = {}
    for escalation in escalations_at(engagements, shown) if escalations is None else escalations:
        escalated.setdefault((escalation.engagement_id, escalation.metric), escalation.level)
    order = list(METRICS)
    tiles = []
    for target in sorted(
        targets, key=lambda t: (t.schedule.engagement.name, t.schedule.engagement_id, order.index(t.metric))
    ):
        engagement_id = target.schedule.engagement_id
        history = by_cell[engagement_id, target.metric]
        tiles.append(
            SlaTile(
                engagement=target.schedule.engagement,
                metric=METRICS[target.metric],
                target=target.target,
                latest=_latest_result(history, shown),
                trend=[history[month].value if month in history else None for month in months],
                months=months,
                shown=shown,
                escalation=escalated.get((engagement_id, target.metric)),
            )
        )
    return tiles


def open_escalations(engagements: QuerySet[Engagement], before: date | None = None) -> QuerySet[Escalation]:
    """The top rung each breach streak has reached and not yet left (SPEC-SLA §5): a metric's escalation stays open
    until a later period of that metric is met; the engagement-level formal review until a later period closes
    without any breach. Exit rights first. With `before` (a first of month), as things stood before that month:
    what was open at the end of a quarter."""
    upto = Q() if before is None else Q(period__month__lt=before)
    met_later = Measurement.objects.filter(
        upto,
        engagement=OuterRef("engagement"),
        metric=OuterRef("metric"),
        period__month__gt=OuterRef("period__month"),
        status=MeasurementStatus.MET,
    )
    clean_later = SlaPeriod.objects.filter(
        Q() if before is None else Q(month__lt=before),
        engagement=OuterRef("engagement"),
        month__gt=OuterRef("period__month"),
        status=PeriodStatus.FINALIZED,
    ).exclude(Exists(Breach.objects.filter(period=OuterRef("pk"))))
    # A streak climbs notice → formal review → exit right in successive periods: the latest rung stands for it.
    next_rung = Escalation.objects.filter(upto, engagement=OuterRef("engagement"), metric=OuterRef("metric")).filter(
        Q(period__month__gt=OuterRef("period__month")) | Q(period=OuterRef("period"), pk__gt=OuterRef("pk"))
    )
    severity = Case(
        When(level=EscalationLevel.EXIT_RIGHT, then=Value(0)),
        When(level=EscalationLevel.FORMAL_REVIEW, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        Escalation.objects.filter(upto, engagement__in=engagements)
        .exclude(Q(metric="") & Exists(clean_later))
        .exclude(~Q(metric="") & Exists(met_later))
        .exclude(Exists(next_rung))
        .select_related("engagement", "period")
        .order_by(severity, "-period__month", "engagement__name", "metric")
    )


# --- Per engagement: quarter results, spend, volume ------------------------------------------------------------


def _total(queryset: QuerySet, expression: object, output: object) -> Subquery:
    """A correlated aggregate with no GROUP BY key: the subquery answers one number (or NULL) per outer row."""
    return Subquery(queryset.order_by().values(n=Func(expression, function="SUM", output_field=output)))


def _count(queryset: QuerySet, expression: str, *, distinct: bool = False) -> Coalesce:
    template = "COUNT(DISTINCT %(expressions)s)" if distinct else "COUNT(%(expressions)s)"
    counted = queryset.order_by().values(n=Func(F(expression), function="COUNT", template=template))
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _present_in(quarter: Quarter, engagement: OuterRef) -> QuerySet[Attendance]:
    """Present learners' attendance at the engagement's sessions starting in the quarter."""
    return Attendance.objects.filter(
        present=True,
        enrollment__session__engagement=engagement,
        enrollment__session__starts_at__gte=quarter.starts_at,
        enrollment__session__starts_at__lt=quarter.ends_at,
    )


@dataclass(frozen=True)
class EngagementOverview:
    """One engagement's quarter and year: SLA breaches and credits, spend against budget, delivery volume."""

    engagement: Engagement
    breaches: int
    credits: Decimal
    fees: Decimal
    credits_deducted: Decimal
    earned_back: Decimal
    fee_months: int
    sessions: int
    delivered_hours: Decimal
    seats: int
    attended_seats: int
    learners: int

    @property
    def spend(self) -> Decimal:
        """Fees of the year's statements, less the credits issued on them, plus the credits earned back."""
        return self.fees - self.credits_deducted + self.earned_back

    @property
    def budget_to_date(self) -> Decimal:
        """The yearly budget pro-rated over the months that have a statement, so both sides cover the same months."""
        return _money(self.engagement.budget * self.fee_months / 12)

    @property
    def over_budget(self) -> bool:
        return self.spend > self.budget_to_date

    @property
    def utilization(self) -> Decimal | None:
        """SPEC-SLA §3 training utilization: attended seats ÷ capacity of delivered sessions (sums, not a mean)."""
        return _money(Decimal(100 * self.attended_seats) / self.seats) if self.seats else None


def engagement_overview(engagements: QuerySet[Engagement], quarter: Quarter, today: date) -> list[EngagementOverview]:
    """Per engagement in one query. Breaches and credits of the quarter's periods; spend of the year to date from
    the fee the SLA engine stored with each finalized month (SlaPeriod.monthly_fee, the SoWs' statement lines);
    the quarter's volume with SPEC-SLA §6's definitions (slas.selectors.delivery_usage): billable learners are
    those present at a session of the quarter or with a completion in it, hours are those of delivered
    sessions, utilization is attended seats over the capacity of the delivered sessions."""
    in_quarter = {"period__month__gte": quarter.start, "period__month__lt": quarter.end}
    year = {"period__month__gte": date(today.year, 1, 1), "period__month__lte": today}
    money = DecimalField(max_digits=14, decimal_places=2)
    credits = ServiceCredit.objects.filter(engagement=OuterRef("pk"))
    billed = SlaPeriod.objects.filter(
        engagement=OuterRef("pk"), monthly_fee__isnull=False, month__gte=date(today.year, 1, 1), month__lte=today
    )
    sessions = Session.objects.filter(
        engagement=OuterRef("pk"), starts_at__gte=quarter.starts_at, starts_at__lt=quarter.ends_at
    ).filter(status=SessionStatus.DELIVERED)
    present = _present_in(quarter, OuterRef("pk"))
    duration = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
    rows = engagements.annotate(
        quarter_breaches=_count(Breach.objects.filter(engagement=OuterRef("pk"), **in_quarter), "pk"),
        quarter_credits=_total(credits.filter(**in_quarter), F("amount"), money),
        ytd_fees=_total(billed, F("monthly_fee"), money),
        ytd_fee_months=_count(billed, "pk"),
        ytd_credits=_total(credits.filter(**year), F("amount"), money),
        ytd_earned_back=_total(
            credits.filter(
                status=CreditStatus.EARNED_BACK,
                earned_back_period__month__gte=date(today.year, 1, 1),
                earned_back_period__month__lte=today,
            ),
            F("amount"),
            money,
        ),
        quarter_sessions=_count(sessions, "pk"),
        quarter_hours=_total(sessions, duration, DurationField()),
        quarter_seats=_total(sessions, F("capacity"), IntegerField()),
        quarter_attended=_count(present.filter(enrollment__session__status=SessionStatus.DELIVERED), "pk"),
        quarter_learners=_count(billable_learners(OuterRef("pk"), quarter.starts_at, quarter.ends_at), "pk"),
    ).order_by("name", "pk")
    return [
        EngagementOverview(
            engagement=row,
            breaches=row.quarter_breaches,
            credits=row.quarter_credits or ZERO,
            fees=row.ytd_fees or ZERO,
            credits_deducted=row.ytd_credits or ZERO,
            earned_back=row.ytd_earned_back or ZERO,
            fee_months=row.ytd_fee_months,
            sessions=row.quarter_sessions,
            delivered_hours=_money(Decimal((row.quarter_hours or timedelta()) / HOUR)),
            seats=row.quarter_seats or 0,
            attended_seats=row.quarter_attended,
            learners=row.quarter_learners,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Totals:
    """The overview rows added up; money only over the engagements billed in the organization's currency."""

    currency: str
    breaches: int = 0
    credits: Decimal = ZERO
    spend: Decimal = ZERO
    budget: Decimal = ZERO  # per year
    budget_to_date: Decimal = ZERO
    learners: int = 0  # summed per engagement: a learner trained under two engagements counts in both
    sessions: int = 0
    delivered_hours: Decimal = ZERO
    seats: int = 0
    attended_seats: int = 0
    other_currencies: list[str] = field(default_factory=list)

    @property
    def utilization(self) -> Decimal | None:
        return _money(Decimal(100 * self.attended_seats) / self.seats) if self.seats else None

    @property
    def over_budget(self) -> bool:
        return self.spend > self.budget_to_date


def totals(rows: list[EngagementOverview], currency: str) -> Totals:
    same = [row for row in rows if row.engagement.currency == currency]
    return Totals(
        currency=currency,
        breaches=sum(row.breaches for row in rows),
        credits=sum((row.credits for row in same), ZERO),
        spend=sum((row.spend for row in same), ZERO),
        budget=sum((row.engagement.budget for row in same), ZERO),
        budget_to_date=sum((row.budget_to_date for row in same), ZERO),
        learners=sum(row.learners for row in rows),
        sessions=sum(row.sessions for row in rows),
        delivered_hours=sum((row.delivered_hours for row in rows), ZERO),
        seats=sum(row.seats for row in rows),
        attended_seats=sum(row.attended_seats for row in rows),
        other_currencies=sorted({row.engagement.currency for row in rows} - {currency}),
    )


def spend_chart(engagements: QuerySet[Engagement], currency: str, today: date, budget: Decimal) -> SafeString:
    """This year's spend per month (fee less the credits of that month plus the credits earned back in it) of the
    engagements billed in `currency`, against a twelfth of their yearly `budget`. Three grouped queries."""
    engagements = engagements.filter(currency=currency)
    months = _months_back(today.replace(day=1), today.month)
    year = {"period__month__gte": months[0], "period__month__lte": today}
    fees = dict(
        SlaPeriod.objects.filter(engagement__in=engagements, month__gte=months[0], month__lte=today)
        .values("month")
        .annotate(total=Sum("monthly_fee"))
        .values_list("month", "total")
    )
    deducted = dict(
        ServiceCredit.objects.filter(engagement__in=engagements, **year)
        .values("period__month")
        .annotate(total=Sum("amount"))
        .values_list("period__month", "total")
    )
    returned = dict(
        ServiceCredit.objects.filter(
            engagement__in=engagements,
            status=CreditStatus.EARNED_BACK,
            earned_back_period__month__gte=months[0],
            earned_back_period__month__lte=today,
        )
        .values("earned_back_period__month")
        .annotate(total=Sum("amount"))
        .values_list("earned_back_period__month", "total")
    )
    values = [
        None if fees.get(month) is None else fees[month] - deducted.get(month, ZERO) + returned.get(month, ZERO)
        for month in months
    ]
    return bar_chart(
        [f"{month:%b}" for month in months],
        values,
        title=f"Spend per month in {today.year} ({currency})",
        unit=currency,
        target=_money(budget / 12),
        width=SPEND_CHART_WIDTH,
        height=SPEND_CHART_HEIGHT,
        target_label="monthly budget",
        higher_is_better=False,
    )


# --- Delivery, compliance, contract and what waits for the member ---------------------------------------------


@dataclass(frozen=True)
class ComplianceStatus:
    due: int
    on_time: int
    overdue: int

    @property
    def percent_compliant(self) -> Decimal | None:
        return _money(Decimal(100 * self.on_time) / self.due) if self.due else None


def compliance_status(today: date) -> ComplianceStatus:
    """The organization's mandatory training (scheduling.selectors.compliance_overview) added up in one query."""
    row = compliance_overview(today).aggregate(
        due=Sum("due_count"), on_time=Sum("on_time_count"), overdue=Sum("overdue_count")
    )
    return ComplianceStatus(due=row["due"] or 0, on_time=row["on_time"] or 0, overdue=row["overdue"] or 0)


def scheduled_sessions(sessions: QuerySet[Session], start: datetime, end: datetime) -> QuerySet[Session]:
    """Sessions starting in [start, end) that still take place, soonest first: the dashboard's list and the QBR's
    forward plan count the same way."""
    return (
        sessions.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("starts_at", "pk")
    )


def upcoming_sessions(membership: Membership, engagements: QuerySet[Engagement], now: datetime) -> QuerySet[Session]:
    """Sessions of the next two weeks that still take place, soonest first."""
    return scheduled_sessions(
        sessions_for(membership).filter(engagement__in=engagements), now, now + timedelta(days=UPCOMING_DAYS)
    )


@dataclass(frozen=True)
class ContractDate:
    engagement: Engagement
    milestone: str
    on: date
    days_left: int

    @property
    def soon(self) -> bool:
        return self.days_left <= DEADLINE_SOON_DAYS

    @property
    def label(self) -> str:
        return ContractMilestone(self.milestone).label

    @property
    def is_deadline(self) -> bool:
        """A notice deadline missed cannot be made good: the contract renews or runs on."""
        return self.milestone in NOTICE_DEADLINES


def contract_dates(engagements: QuerySet[Engagement], today: date) -> list[ContractDate]:
    """The coming renewal/end dates and notice deadlines of live engagements (engagements.services'
    contract_milestones), soonest first. One query."""
    live = engagements.exclude(status__in=[EngagementStatus.DRAFT, EngagementStatus.ENDED])
    dates = [
        ContractDate(engagement, milestone, on, (on - today).days)
        for engagement in live
        for milestone, on in contract_milestones(engagement)
        if on >= today
    ]
    return sorted(dates, key=lambda item: (item.on, item.engagement.name))


def member_side(membership: Membership) -> str:
    """A provider manager acts for the provider; every other member reads the client's side."""
    return Side.PROVIDER if membership.is_provider_side else Side.CLIENT


def pending_change_requests(membership: Membership, engagements: QuerySet[Engagement]) -> QuerySet[ChangeRequest]:
    """Submitted change requests still waiting for the member's side to approve or reject, by deadline."""
    side = member_side(membership)
    waiting = [status for status, sides in AWAITING_APPROVAL.items() if side in sides]
    return (
        change_requests_for(membership)
        .filter(sow__engagement__in=engagements, status__in=waiting)
        .order_by("respond_by", "pk")
    )


def pending_manual_values(membership: Membership, engagements: QuerySet[Engagement]) -> QuerySet[ManualMeasurement]:
    """Manual SLA values the other side submitted, for the member's side to verify or dispute."""
    return (
        ManualMeasurement.objects.filter(engagement__in=engagements, status=ManualStatus.SUBMITTED)
        .exclude(submitted_side=member_side(membership))
        .select_related("engagement")
        .order_by("submitted_at", "pk")
    )


def pending_relief(engagements: QuerySet[Engagement]) -> QuerySet[ReliefEvent]:
    """Relief requests awaiting the client's decision (a provider manager sees those of its engagements)."""
    return (
        ReliefEvent.objects.filter(engagement__in=engagements, status=ReliefStatus.REQUESTED)
        .select_related("engagement")
        .order_by("requested_at", "pk")
    )
