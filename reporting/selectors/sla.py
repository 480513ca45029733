"""The dashboard's SLA reads: each engagement's status in the shown month, a tile per target with its trend, and
the escalations still open (SPEC-SLA §5)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.models import Engagement
from reporting.charts import sparkline
from reporting.quarters import Quarter, ShownMonth
from slas.catalog import METRICS, Direction, Metric
from slas.enums import EscalationLevel, MeasurementStatus, PeriodStatus
from slas.models import Breach, Escalation, Measurement, SlaPeriod, SlaTarget
from slas.periods import first_of_next_month
from slas.selectors import Rag, rag_of

from ._common import _months_back

TREND_MONTHS = 6


ESCALATION_RAG = {
    EscalationLevel.EXIT_RIGHT: Rag("red", gettext_lazy("Exit right open")),
    EscalationLevel.FORMAL_REVIEW: Rag("red", gettext_lazy("Formal review open")),
    EscalationLevel.NOTICE: Rag("amber", gettext_lazy("Notice open")),
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
            return ("red", _("Breached")) if self.finalized else ("amber", _("At risk"))
        if self.escalation:
            escalated = ESCALATION_RAG[self.escalation]
            return (escalated.tone, escalated.label)
        return ("green", _("On target")) if self.meeting else ("", _("Not judged yet"))

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


NOT_MEASURED = Rag("grey", gettext_lazy("Not measured yet"))


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
            return Rag("grey", _("Not measured in %(quarter)s") % {"quarter": self.shown.quarter.label})
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
    """The latest month of the quarter whose value is judged against the target; the running month often has too
    few items yet to judge (then its predecessor says more: a value of two sessions is no result), else the latest
    with a value, and without any value the latest month still tells why."""
    in_quarter = [month for month in history if month in shown]
    valued = [month for month in in_quarter if history[month].value is not None]
    judged = [month for month in valued if history[month].meets_target is not None]
    return history[max(judged or valued or in_quarter)] if in_quarter else None


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
