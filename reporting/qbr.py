"""Reads for one engagement's quarterly business review (QBR): every section of the PDF for one calendar quarter.

A quarter is three SLA periods (calendar months in the engagement's timezone). The SLA figures, breaches,
credits and fees are the ones the SLA engine stored when it finalized each month; nothing here recomputes them,
so the QBR agrees with the SLA pages and the fee statements to the cent. A draft of the running quarter shows
provisional months as they stand. Each section is one or two aggregate queries, whatever the volume of delivery.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, DateField, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from engagements import pricing
from engagements.enums import ChangeRequestStatus
from engagements.models import ChangeRequest, Engagement, GovernanceMeeting, MeetingAction
from engagements.selectors import engagements_for, version_in_force
from mls.models import Membership
from scheduling.enums import SessionStatus
from scheduling.models import Attendance, ComplianceAssignment, Session
from slas.catalog import METRICS, Direction, Metric
from slas.enums import EscalationLevel, MeasurementStatus, PeriodStatus
from slas.models import Escalation, Measurement, ServiceCredit, SlaPeriod, SlaTarget
from slas.periods import Period, first_of_next_month
from slas.selectors import delivery_usage, monthly_fee, schedule_of, targets_of
from vendors.models import Supplier

from .charts import bar_chart
from .models import QuarterlyReview, quarter_label
from .quarters import Quarter as DashboardQuarter
from .quarters import ShownMonth
from .selectors import engagement_overview, escalations_at, scheduled_sessions

ZERO = Decimal("0.00")
DEFAULT_VARIANCE = pricing.DEFAULT_VARIANCE_THRESHOLD_PERCENT
FORWARD_DAYS = 90  # the forward plan looks this far ahead
FORWARD_SESSIONS = 15
OPEN_CHANGE_REQUEST = [
    ChangeRequestStatus.SUBMITTED,
    ChangeRequestStatus.APPROVED_BY_CLIENT,
    ChangeRequestStatus.APPROVED_BY_PROVIDER,
]


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter in the engagement's timezone: its three SLA periods and their UTC bounds."""

    first_month: date
    timezone: str

    @classmethod
    def containing(cls, day: date, timezone: str) -> "Quarter":
        return cls(quarter_start(day), timezone)

    @property
    def periods(self) -> list[Period]:
        month, periods = self.first_month, []
        for _month in range(3):
            periods.append(Period(month, self.timezone))
            month = first_of_next_month(month)
        return periods

    @property
    def months(self) -> list[date]:
        return [period.month for period in self.periods]

    @property
    def start(self) -> datetime:
        return self.periods[0].start

    @property
    def end(self) -> datetime:
        return self.periods[-1].end

    @property
    def last_day(self) -> date:
        return self.periods[-1].last_day

    @property
    def label(self) -> str:
        return quarter_label(self.first_month)


@dataclass(frozen=True)
class MetricResults:
    """One SLA target's quarter: the measurement and the credit of each month, and a chart against the target."""

    metric: Metric
    target: Decimal
    cells: list[Measurement | None]
    credits: list[Decimal | None]
    chart: SafeString

    @property
    def months(self) -> list[tuple[Measurement | None, Decimal | None]]:
        return list(zip(self.cells, self.credits, strict=True))

    @property
    def breaches(self) -> int:
        return sum(1 for cell in self.cells if cell is not None and cell.status == MeasurementStatus.BREACHED)

    @property
    def credited(self) -> Decimal:
        return sum((credit for credit in self.credits if credit is not None), ZERO)


@dataclass(frozen=True)
class MonthlyVolume:
    month: date
    usage: pricing.Usage
    sessions_delivered: int
    sessions_cancelled: int
    seats: int
    attended: int

    @property
    def utilization(self) -> Decimal | None:
        """Attended seats over capacity of delivered sessions (sums, not a mean of ratios — SPEC-SLA §3)."""
        return pricing.round_half_up(Decimal(100) * self.attended / self.seats) if self.seats else None


@dataclass(frozen=True)
class MonthlySpend:
    """A month's itemized fee: stored at finalization, computed as it stands for a provisional month."""

    month: date
    final: bool
    lines: list[dict]
    fee: Decimal
    credits_issued: Decimal
    earned_back: Decimal


@dataclass(frozen=True)
class ComplianceStatus:
    """Mandatory-training assignments falling due in the quarter (organization-wide: assignments belong to
    learners, not to an engagement)."""

    due: int
    on_time: int
    late: int
    open: int

    @property
    def on_time_percent(self) -> Decimal | None:
        return pricing.round_half_up(Decimal(100) * self.on_time / self.due) if self.due else None


@dataclass(frozen=True)
class QbrContent:
    engagement: Engagement
    quarter: Quarter
    as_of: datetime
    draft: bool
    metrics: list[MetricResults]
    periods: list[SlaPeriod]
    escalations: list[Escalation]
    actions: list[MeetingAction]
    volume: list[MonthlyVolume]
    compliance: ComplianceStatus
    spend: list[MonthlySpend]
    line_names: list[str]
    spend_chart: SafeString
    spend_year: Decimal
    change_requests: list[ChangeRequest]
    suppliers: list[Supplier]
    upcoming_sessions: list[Session]
    upcoming_session_count: int
    upcoming_meetings: list[GovernanceMeeting]
    definitions: list[SlaTarget]
    forecast_learners: int
    variance_threshold: Decimal
    open_escalations: list[Escalation]
    billable_learners: int

    @property
    def exit_right_open(self) -> bool:
        return any(escalation.level == EscalationLevel.EXIT_RIGHT for escalation in self.open_escalations)

    @property
    def forecast_ceiling(self) -> Decimal | None:
        """The most billable learners a month may have before a change order is recommended (pricing's rule)."""
        if not self.forecast_learners:
            return None
        return Decimal(self.forecast_learners) * (1 + self.variance_threshold / 100)

    @property
    def credits_issued(self) -> Decimal:
        return sum((month.credits_issued for month in self.spend), ZERO)

    @property
    def credits_earned_back(self) -> Decimal:
        return sum((month.earned_back for month in self.spend), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((month.fee for month in self.spend), ZERO)

    @property
    def budget_quarter(self) -> Decimal:
        return pricing.round_half_up(self.engagement.budget / 4)

    @property
    def budget_month(self) -> Decimal:
        return pricing.round_half_up(self.engagement.budget / 12)

    @property
    def results_met(self) -> int:
        return sum(1 for m in self.metrics for c in m.cells if c is not None and c.status == MeasurementStatus.MET)

    @property
    def results_breached(self) -> int:
        return sum(metric.breaches for metric in self.metrics)

    @property
    def sessions_delivered(self) -> int:
        return sum(month.sessions_delivered for month in self.volume)

    @property
    def variance_months(self) -> list[date]:
        """Months whose billable learners ran above the SoWs' forecast by more than their threshold (SPEC-SLA §6:
        "change order recommended")."""
        if not self.forecast_learners:
            return []
        return [
            row.month
            for row in self.volume
            if pricing.variance_flag(row.usage.billable_learners, self.forecast_learners, self.variance_threshold)
        ]

    def snapshot(self) -> dict:
        """What the PDF was made from: the SLA periods (and when each was finalized) and the totals it shows."""
        return {
            "quarter": self.quarter.label,
            "as_of": self.as_of.isoformat(),
            "periods": [
                {
                    "id": period.pk,
                    "month": f"{period.month:%Y-%m}",
                    "status": period.status,
                    "finalized_at": period.finalized_at.isoformat() if period.finalized_at else None,
                }
                for period in self.periods
            ],
            "fees": str(self.fees),
            "credits_issued": str(self.credits_issued),
            "credits_earned_back": str(self.credits_earned_back),
        }


def qbrs_for(membership: Membership) -> QuerySet[QuarterlyReview]:
    """QBR revisions of the engagements the member sees."""
    return QuarterlyReview.objects.filter(engagement__in=engagements_for(membership)).select_related("engagement")


def due_quarters(engagement: Engagement) -> list[Quarter]:
    """Quarters whose last period is finalized and that have no QBR yet: what the daily job generates."""
    last_months = SlaPeriod.objects.filter(
        engagement=engagement, status=PeriodStatus.FINALIZED, month__month__in=[3, 6, 9, 12]
    ).values_list("month", flat=True)
    generated = set(QuarterlyReview.objects.filter(engagement=engagement).values_list("quarter", flat=True))
    quarters = (Quarter.containing(month, engagement.timezone) for month in sorted(last_months))
    return [quarter for quarter in quarters if quarter.first_month not in generated]


def is_complete(engagement: Engagement, quarter: Quarter) -> bool:
    """A final QBR needs the quarter's last period finalized (periods finalize in order, so all three are)."""
    return SlaPeriod.objects.filter(
        engagement=engagement, month=quarter.months[-1], status=PeriodStatus.FINALIZED
    ).exists()


def qbr_content(engagement: Engagement, quarter: Quarter, *, as_of: datetime, draft: bool) -> QbrContent:
    periods = list(SlaPeriod.objects.filter(engagement=engagement, month__in=quarter.months).order_by("month"))
    credits = list(
        ServiceCredit.objects.filter(engagement=engagement, period__month__in=quarter.months).select_related("period")
    )
    earned_back = list(
        ServiceCredit.objects.filter(
            engagement=engagement, earned_back_period__month__in=quarter.months
        ).select_related("earned_back_period")
    )
    spend = _spend(engagement, quarter, periods, credits, earned_back)
    line_names = list(dict.fromkeys(line["name"] for month in spend for line in month.lines))
    horizon = max(as_of, quarter.end)
    upcoming = scheduled_sessions(
        Session.objects.filter(engagement=engagement), as_of, as_of + timedelta(days=FORWARD_DAYS)
    )
    one = Engagement.objects.filter(pk=engagement.pk)
    # The dashboard's quarter is of the organization's timezone (reporting.views): the summary's figures use it too.
    dashboard_quarter = DashboardQuarter.containing(quarter.first_month, engagement.organization.timezone)
    schedule = schedule_of(engagement)
    versions = [v for v in (version_in_force(sow, quarter.last_day) for sow in engagement.sows.all()) if v]
    return QbrContent(
        engagement=engagement,
        quarter=quarter,
        as_of=as_of,
        draft=draft,
        metrics=_metric_results(engagement, quarter, credits),
        periods=periods,
        escalations=list(
            Escalation.objects.filter(engagement=engagement, period__month__in=quarter.months)
            .select_related("period", "meeting")
            .order_by("period__month", "metric", "level")
        ),
        actions=list(
            MeetingAction.objects.filter(meeting__engagement=engagement)
            .filter(
                Q(due_on__gte=quarter.first_month, due_on__lte=quarter.last_day)
                | Q(done_at__isnull=True, due_on__lte=quarter.last_day)
            )
            .select_related("meeting")
            .order_by("due_on", "pk")
        ),
        volume=_volume(engagement, quarter),
        compliance=_compliance(quarter),
        spend=spend,
        line_names=line_names,
        spend_chart=bar_chart(
            [date_format(month.month, "M Y") for month in spend],
            [month.fee for month in spend],
            title=_("Monthly fee against budget"),
            unit=engagement.currency,
            target=pricing.round_half_up(engagement.budget / 12),
            target_label=_("budget / month"),
            higher_is_better=False,
            height=170,
        ),
        spend_year=SlaPeriod.objects.filter(
            engagement=engagement,
            status=PeriodStatus.FINALIZED,
            month__year=quarter.first_month.year,
            month__lte=quarter.months[-1],
        ).aggregate(total=Sum("monthly_fee"))["total"]
        or ZERO,
        change_requests=list(
            ChangeRequest.objects.filter(sow__engagement=engagement, submitted_at__lt=quarter.end)
            .filter(Q(submitted_at__gte=quarter.start) | Q(status__in=OPEN_CHANGE_REQUEST))
            .select_related("sow")
            .order_by("submitted_at", "pk")
        ),
        suppliers=_suppliers(engagement, quarter),
        upcoming_sessions=list(upcoming.select_related("course")[:FORWARD_SESSIONS]),
        upcoming_session_count=upcoming.count(),
        upcoming_meetings=list(
            GovernanceMeeting.objects.filter(
                engagement=engagement, scheduled_for__gte=horizon, held_at__isnull=True
            ).order_by("scheduled_for")[:10]
        ),
        definitions=targets_of(schedule) if schedule else [],
        forecast_learners=sum(version.forecast_learners for version in versions),
        variance_threshold=min((v.variance_threshold_percent for v in versions), default=DEFAULT_VARIANCE),
        open_escalations=escalations_at(one, ShownMonth.of(dashboard_quarter, quarter.months[-1])),
        billable_learners=engagement_overview(one, dashboard_quarter, quarter.last_day)[0].learners,
    )


def _metric_results(engagement: Engagement, quarter: Quarter, credits: list[ServiceCredit]) -> list[MetricResults]:
    measurements = (
        Measurement.objects.filter(engagement=engagement, period__month__in=quarter.months)
        .select_related("period")
        .defer("inputs")
    )
    by_cell = {(m.metric, m.period.month): m for m in measurements}
    credit_of = {(c.metric, c.period.month): c.amount for c in credits}
    labels = [f"{month:%b %Y}" for month in quarter.months]
    results = []
    for key, metric in METRICS.items():
        cells = [by_cell.get((key, month)) for month in quarter.months]
        measured = [cell for cell in cells if cell is not None]
        if not measured:
            continue
        target = measured[-1].target_value
        results.append(
            MetricResults(
                metric=metric,
                target=target,
                cells=cells,
                credits=[credit_of.get((key, month)) for month in quarter.months],
                chart=bar_chart(
                    labels,
                    [cell.value if cell else None for cell in cells],
                    title=metric.name,
                    unit=metric.unit,
                    target=target,
                    higher_is_better=metric.direction == Direction.HIGHER_IS_BETTER,
                    width=300,
                    height=110,
                ),
            )
        )
    return results


def _spend(
    engagement: Engagement,
    quarter: Quarter,
    periods: list[SlaPeriod],
    credits: list[ServiceCredit],
    earned_back: list[ServiceCredit],
) -> list[MonthlySpend]:
    stored = {period.month: period for period in periods}
    issued, returned = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    for credit in credits:
        issued[credit.period.month] += credit.amount
    for credit in earned_back:
        returned[credit.earned_back_period.month] += credit.amount
    spend = []
    for period in quarter.periods:
        row = stored.get(period.month)
        if row is not None and row.is_finalized:
            fee, lines = row.monthly_fee, row.fee_lines
        else:  # a draft's running month: the fee as the month stands
            fee, fee_lines = monthly_fee(engagement, period)
            lines = [{"name": line.name, "basis": line.basis, "amount": str(line.amount)} for line in fee_lines]
        spend.append(
            MonthlySpend(
                month=period.month,
                final=row is not None and row.is_finalized,
                lines=[{**line, "amount": Decimal(line["amount"])} for line in lines],
                fee=fee,
                credits_issued=issued[period.month],
                earned_back=returned[period.month],
            )
        )
    return spend


def _volume(engagement: Engagement, quarter: Quarter) -> list[MonthlyVolume]:
    zone = quarter.periods[0].zone
    sessions = Session.objects.filter(engagement=engagement, starts_at__gte=quarter.start, starts_at__lt=quarter.end)
    delivered = Q(status=SessionStatus.DELIVERED)
    by_month = {
        row["month"]: row
        for row in sessions.annotate(month=TruncMonth("starts_at", tzinfo=zone, output_field=DateField()))
        .values("month")
        .annotate(
            delivered=Count("pk", filter=delivered),
            cancelled=Count("pk", filter=Q(status=SessionStatus.CANCELLED)),
            seats=Sum("capacity", filter=delivered),
        )
    }
    attended = {
        row["month"]: row["attended"]
        for row in Attendance.objects.filter(present=True, enrollment__session__in=sessions.filter(delivered))
        .annotate(month=TruncMonth("enrollment__session__starts_at", tzinfo=zone, output_field=DateField()))
        .values("month")
        .annotate(attended=Count("pk"))
    }
    return [
        MonthlyVolume(
            month=period.month,
            usage=delivery_usage(engagement, period),
            sessions_delivered=by_month.get(period.month, {}).get("delivered", 0),
            sessions_cancelled=by_month.get(period.month, {}).get("cancelled", 0),
            seats=by_month.get(period.month, {}).get("seats") or 0,
            attended=attended.get(period.month, 0),
        )
        for period in quarter.periods
    ]


def _compliance(quarter: Quarter) -> ComplianceStatus:
    counts = (
        ComplianceAssignment.objects.filter(due_on__gte=quarter.first_month, due_on__lte=quarter.last_day)
        .annotate(done_on=TruncDate("completed_at", tzinfo=quarter.periods[0].zone))
        .aggregate(
            due=Count("pk"),
            on_time=Count("pk", filter=Q(done_on__lte=F("due_on"))),
            late=Count("pk", filter=Q(done_on__gt=F("due_on"))),
            open=Count("pk", filter=Q(completed_at__isnull=True)),
        )
    )
    return ComplianceStatus(**counts)


def _suppliers(engagement: Engagement, quarter: Quarter) -> list[Supplier]:
    """The provider's suppliers with the engagement's sessions their instructors delivered in the quarter and
    the learners' average instructor rating of those sessions."""
    prefix = "instructors__session_slots__session__"
    in_quarter = Q(
        **{
            f"{prefix}engagement": engagement,
            f"{prefix}status": SessionStatus.DELIVERED,
            f"{prefix}starts_at__gte": quarter.start,
            f"{prefix}starts_at__lt": quarter.end,
        }
    )
    return list(
        Supplier.objects.filter(provider=engagement.provider_id)
        .annotate(
            sessions=Count(f"{prefix}pk", filter=in_quarter, distinct=True),
            rating=Avg(f"{prefix}feedback__instructor_score", filter=in_quarter),
        )
        .order_by("-sessions", "name")
    )


def render_html(content: QbrContent, *, revision: int | None = None) -> str:
    return render_to_string(
        "reporting/qbr/document.html", {"qbr": content, "revision": revision, "forward_days": FORWARD_DAYS}
    )
