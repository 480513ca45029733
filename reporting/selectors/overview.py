"""Per engagement: the quarter's SLA breaches and credits, the year's spend against budget and the quarter's
delivery volume, each a correlated subquery of one query; their totals and the spend chart."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from engagements.models import Engagement
from reporting.charts import bar_chart
from reporting.quarters import Quarter
from scheduling.enums import SessionStatus
from scheduling.models import Attendance, Session
from scheduling.selectors import billable_learners
from slas.enums import CreditStatus
from slas.models import Breach, ServiceCredit, SlaPeriod

from ._common import ZERO, _money, _months_back

SPEND_CHART_WIDTH, SPEND_CHART_HEIGHT = 360, 180  # a third of the page: the labels stay legible unscaled
HOUR = timedelta(hours=1)


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
        [date_format(month, "M") for month in months],
        values,
        title=_("Spend per month in %(year)s (%(currency)s)") % {"year": today.year, "currency": currency},
        unit=currency,
        target=_money(budget / 12),
        width=SPEND_CHART_WIDTH,
        height=SPEND_CHART_HEIGHT,
        target_label="monthly budget",
        higher_is_better=False,
    )
