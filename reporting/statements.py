"""Monthly fee statements per SoW (SPEC-SLA §6): itemized lines − service credits of the previous finalized period
+ credits earned back in it, with the volume variance flag.

Credits are per engagement (the at-risk amount is a share of the engagement's whole monthly fee), while statements
are per SoW. MLS shows an engagement's credits in full on the statement of its lead SoW — the first by reference,
the same order in which the SLA engine adds up the SoWs' lines into the at-risk base — and every other SoW's
statement says where they are. Splitting them pro rata would invent cent roundings the contract never agreed to.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from engagements import pricing
from engagements.enums import LineBasis
from engagements.models import Engagement, Sow, SowVersion
from engagements.selectors import fee_for_period, sows_for, version_in_force
from mls import formatting
from mls.models import Membership
from slas import periods
from slas.enums import PeriodStatus
from slas.models import ServiceCredit, SlaPeriod
from slas.periods import Period
from slas.selectors import delivery_usage

ZERO = Decimal("0.00")
LISTED_MONTHS = 6  # the statements index links this many recent months per SoW


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


@dataclass(frozen=True)
class FeeStatement:
    sow: Sow
    period: Period
    version: SowVersion | None
    usage: pricing.Usage
    lines: list[pricing.FeeLine]
    lead_sow: Sow  # the SoW whose statement carries the engagement's credits
    previous: SlaPeriod | None  # the previous month's SLA period, when it exists
    credits: list[ServiceCredit]  # issued for the previous period: deducted
    earned_back: list[ServiceCredit]  # earned back when the previous period was finalized: returned

    @property
    def carries_credits(self) -> bool:
        return self.sow.pk == self.lead_sow.pk

    @property
    def credits_pending(self) -> bool:
        """The previous month is measured but not yet final: its credits will be on the statement once it is."""
        return self.carries_credits and self.previous is not None and self.previous.status != PeriodStatus.FINALIZED

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def credits_total(self) -> Decimal:
        return sum((credit.amount for credit in self.credits), ZERO)

    @property
    def earned_back_total(self) -> Decimal:
        return sum((credit.amount for credit in self.earned_back), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.credits_total + self.earned_back_total

    @property
    def currency(self) -> str:
        return self.sow.engagement.currency

    @property
    def change_order_recommended(self) -> bool:
        if self.version is None:
            return False
        return pricing.variance_flag(
            self.usage.billable_learners, self.version.forecast_learners, self.version.variance_threshold_percent
        )


def parse_month(text: str) -> date | None:
    """The month of `YYYY-MM` (slas.periods' rule: its years have UTC bounds), or None."""
    try:
        return periods.parse_month(text)
    except ValueError:
        return None


def lead_sow(engagement: Engagement) -> Sow:
    return engagement.sows.order_by("reference", "pk").first()


def fee_statement(sow: Sow, month: date) -> FeeStatement:
    engagement = sow.engagement
    period = Period(month, engagement.timezone)
    usage = delivery_usage(engagement, period)
    lead = lead_sow(engagement)
    previous = SlaPeriod.objects.filter(engagement=engagement, month=previous_month(month)).first()
    final = previous is not None and previous.is_finalized and sow.pk == lead.pk
    credits = list(ServiceCredit.objects.filter(period=previous).order_by("metric")) if final else []
    earned_back = (
        list(ServiceCredit.objects.filter(earned_back_period=previous).select_related("period").order_by("metric"))
        if final
        else []
    )
    return FeeStatement(
        sow=sow,
        period=period,
        version=version_in_force(sow, month),
        usage=usage,
        lines=fee_for_period(sow, month, usage),
        lead_sow=lead,
        previous=previous,
        credits=credits,
        earned_back=earned_back,
    )


STATEMENT_CSV_HEADER = ("SoW", "Month", "Kind", "Item", "Basis", "Quantity", "Calculation", "Amount", "Currency")


def statement_rows(statement: FeeStatement) -> list[list[object]]:
    """The statement as CSV rows (STATEMENT_CSV_HEADER): one per fee line, deducted credit and returned credit, then
    the total. Amounts stay numbers, so the CSV writer never mistakes a deduction for a formula."""
    currency, sow, month = statement.currency, statement.sow.reference, statement.period.label
    rows: list[list[object]] = [
        [
            sow,
            month,
            "fee",
            line.name,
            formatting.label(line.basis, LineBasis),
            line.quantity,
            line.detail,
            line.amount,
            currency,
        ]
        for line in statement.lines
    ]
    rows += [
        [
            sow,
            month,
            "service_credit",
            credit.get_metric_display(),
            "",
            "",
            f"credit for {statement.previous.month:%Y-%m}",
            -credit.amount,
            currency,
        ]
        for credit in statement.credits
    ]
    rows += [
        [
            sow,
            month,
            "earned_back",
            credit.get_metric_display(),
            "",
            "",
            f"credit of {credit.period.month:%Y-%m} earned back",
            credit.amount,
            currency,
        ]
        for credit in statement.earned_back
    ]
    rows.append([sow, month, "total", "Amount due", "", "", "", statement.total, currency])
    return rows


def statement_index(membership: Membership) -> QuerySet[Sow]:
    """The SoWs whose statements the member may read, with their engagement (one query)."""
    return sows_for(membership).order_by("engagement__name", "reference", "pk")


def recent_months(engagement: Engagement, today: date, count: int = LISTED_MONTHS) -> list[date]:
    """The engagement's latest months up to `today` (its timezone), newest first, within its term."""
    last = min(today, engagement.end_date).replace(day=1)
    months = []
    month = last
    while month >= engagement.start_date.replace(day=1) and len(months) < count:
        months.append(month)
        month = previous_month(month)
    return months
