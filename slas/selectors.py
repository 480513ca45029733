"""Reads of the SLA engine: what a period's fee was (the base of the at-risk amount) and what the pages show."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, DurationField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, ngettext

from engagements import pricing
from engagements.enums import Side
from engagements.models import Engagement
from engagements.selectors import engagements_for, fee_for_period
from engagements.services import acting_side
from mls.models import Membership
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.models import Completion, Enrollment, Session
from scheduling.selectors import billable_learners, delivered_under

from . import arithmetic
from .catalog import METRICS, RECOMMENDED_TARGET_COUNT, Kind
from .enums import CreditStatus, MeasurementStatus, ReliefStatus
from .models import (
    Breach,
    Escalation,
    ManualMeasurement,
    Measurement,
    ReliefEvent,
    ServiceCredit,
    SlaPeriod,
    SlaSchedule,
    SlaTarget,
)
from .periods import Period

HOUR = timedelta(hours=1)


def engagement_completions(engagement: Engagement, period: Period) -> QuerySet[Completion]:
    """Completions in the period delivered under the engagement (scheduling.selectors.delivered_under: of its
    sessions, or self-paced of a course it delivers)."""
    return Completion.objects.filter(completed_at__gte=period.start, completed_at__lt=period.end).filter(
        delivered_under(Engagement.objects.filter(pk=engagement.pk))
    )


def delivery_usage(engagement: Engagement, period: Period) -> pricing.Usage:
    """SPEC-SLA §6 usage of a month: billable learners (present at a session starting in the month, or a
    completion in it), delivered session hours, completions and live enrollments requested in the month."""
    sessions = Session.objects.filter(engagement=engagement, starts_at__gte=period.start, starts_at__lt=period.end)
    completions = engagement_completions(engagement, period)
    billable = billable_learners(engagement, period.start, period.end).count()
    delivered = sessions.filter(status=SessionStatus.DELIVERED).aggregate(
        duration=Sum(ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField()))
    )["duration"]
    hours = Decimal((delivered or timedelta()) / HOUR).quantize(Decimal("0.01"))
    enrollments = (
        Enrollment.objects.filter(
            session__engagement=engagement, requested_at__gte=period.start, requested_at__lt=period.end
        )
        .exclude(status=EnrollmentStatus.CANCELLED)
        .count()
    )
    return pricing.Usage(
        billable_learners=billable,
        delivered_session_hours=hours,
        completions=completions.count(),
        enrollments=enrollments,
    )


def monthly_fee(engagement: Engagement, period: Period) -> tuple[Decimal, list[pricing.FeeLine]]:
    """The engagement's fee for the month: every SoW's itemized lines for the month's usage (SPEC-SLA §6)."""
    usage = delivery_usage(engagement, period)
    lines = [line for sow in engagement.sows.order_by("reference") for line in fee_for_period(sow, period.month, usage)]
    return sum((line.amount for line in lines), Decimal("0.00")), lines


def target_count_warning(schedule: SlaSchedule, on: date) -> str:
    """Too few or too many targets is allowed but flagged (seed 003: five to eight measures that matter)."""
    active = sum(1 for target in schedule.targets.all() if target.active_from <= on and (target.active_to or on) >= on)
    if active in RECOMMENDED_TARGET_COUNT:
        return ""
    message = ngettext(
        '%(count)s active target. Apply the "three M\'s" (meaningful, measurable, modifiable) and focus on the '
        "five to eight measures that decide whether training runs at the level the organization needs.",
        '%(count)s active targets. Apply the "three M\'s" (meaningful, measurable, modifiable) and focus on the '
        "five to eight measures that decide whether training runs at the level the organization needs.",
        active,
    )
    return message % {"count": active}


def sla_engagements_for(membership: Membership) -> QuerySet[Engagement]:
    return engagements_for(membership).prefetch_related("sla_schedules")


def schedule_of(engagement: Engagement) -> SlaSchedule | None:
    """The engagement's SLA schedule with its targets (one per engagement, a database constraint)."""
    return SlaSchedule.objects.filter(engagement=engagement).prefetch_related("targets").first()


def targets_of(schedule: SlaSchedule) -> list[SlaTarget]:
    return sorted(schedule.targets.all(), key=lambda target: (list(METRICS).index(target.metric), target.active_from))


@dataclass(frozen=True)
class Scorecard:
    """Metrics × months of one engagement, for the SLA page."""

    months: list[SlaPeriod]
    rows: list[tuple[str, list[Measurement | None]]]


def scorecard(engagement: Engagement, months: int = 6) -> Scorecard:
    periods = list(engagement.sla_periods.order_by("-month")[:months])[::-1]
    # The item snapshot can hold a million ids; the table needs the figures only.
    measurements = (
        Measurement.objects.filter(engagement=engagement, period__in=periods).select_related("period").defer("inputs")
    )
    by_cell = {(m.metric, m.period_id): m for m in measurements}
    metrics = [key for key in METRICS if any((key, p.pk) in by_cell for p in periods)]
    return Scorecard(periods, [(key, [by_cell.get((key, p.pk)) for p in periods]) for key in metrics])


def credits_of(engagement: Engagement) -> QuerySet[ServiceCredit]:
    return ServiceCredit.objects.filter(engagement=engagement).select_related("period", "earned_back_period")


def approved_relief(engagement: Engagement, period: Period) -> QuerySet:
    return engagement.relief_events.filter(
        status=ReliefStatus.APPROVED, starts_on__lte=period.last_day, ends_on__gte=period.month
    )


def engagements_with_sla() -> QuerySet[Engagement]:
    """Engagements of the current scope that have an SLA schedule: what the hourly and daily jobs visit."""
    return Engagement.objects.filter(sla_schedules__isnull=False).order_by("pk")


# --- The SLA pages -----------------------------------------------------------------------------------


def sla_engagement_list(membership: Membership) -> QuerySet[Engagement]:
    """The SLAs area's index: each engagement the member sees with its schedule and targets, its breaches so far
    and the credits still issued (not earned back), in a constant number of queries."""
    issued = (
        ServiceCredit.objects.filter(engagement=OuterRef("pk"), status=CreditStatus.ISSUED)
        .values("engagement")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    breaches = Breach.objects.filter(engagement=OuterRef("pk")).values("engagement").annotate(n=Count("pk")).values("n")
    return (
        sla_engagements_for(membership)
        .prefetch_related("sla_schedules__targets")
        .annotate(credits_issued=Subquery(issued), breach_count=Coalesce(Subquery(breaches), 0))
        .order_by("name", "pk")
    )


def side_of(membership: Membership, engagement: Engagement, *, approving: bool = False) -> str | None:
    """The side a member acts for on the engagement (engagements.services.acting_side), or None when their role
    cannot act: the pages offer a form or button only to members whose post the service would accept."""
    try:
        return acting_side(membership, engagement, approving=approving)
    except ValidationError:
        return None


def may_decide_relief(membership: Membership, engagement: Engagement) -> bool:
    """The client approves relief: an approving client-side member (owner, L&D director), as decide_relief wants."""
    return side_of(membership, engagement, approving=True) == Side.CLIENT


def may_review_manual(membership: Membership, manual: ManualMeasurement) -> bool:
    """The other side verifies or disputes a submitted value (slas.services._reviewable)."""
    side = side_of(membership, manual.engagement, approving=True)
    return side is not None and side != manual.submitted_side


@dataclass(frozen=True)
class Rag:
    """How a scorecard cell reads: a colour tone for the eye and a status text, so colour is never the only cue."""

    tone: str  # green, red, amber, neutral, grey
    label: str


def rag_of(measurement: Measurement) -> Rag:
    """Final results are green or red; a provisional value on target is neutral, below target amber; a cell
    without a judgeable value (too few items, awaiting verification) is grey."""
    if measurement.status == MeasurementStatus.MET:
        return Rag("green", gettext("Met"))
    if measurement.status == MeasurementStatus.BREACHED:
        return Rag("red", gettext("Breached"))
    if measurement.status == MeasurementStatus.INSUFFICIENT_DATA:
        return Rag("grey", gettext("Insufficient data"))
    if measurement.status == MeasurementStatus.PENDING_VERIFICATION:
        return Rag("grey", gettext("Awaiting verification"))
    if measurement.meets_target is True:
        return Rag("neutral", gettext("On target (provisional)"))
    if measurement.meets_target is False:
        return Rag("amber", gettext("Below target (provisional)"))
    return Rag("grey", gettext("Too few items yet (provisional)"))


def sample_label(measurement: Measurement) -> str:
    """The measurement's base in the metric's own unit: items, scores, seats or minutes."""
    metric = METRICS[measurement.metric]
    if metric.key == "platform_uptime":  # a running month ends mid-minute: whole minutes read better
        return gettext("%(minutes)s min") % {"minutes": f"{measurement.denominator:,.0f}"}
    if metric.kind == Kind.MANUAL:
        return gettext("audited sample")
    count = measurement.denominator.normalize()
    figure, n = {"count": f"{count:,f}"}, int(count) if count == count.to_integral_value() else 2
    if metric.key == "training_utilization":
        return ngettext("%(count)s seat", "%(count)s seats", n) % figure
    if metric.kind == Kind.MEAN:
        return ngettext("%(count)s score", "%(count)s scores", n) % figure
    return ngettext("%(count)s item", "%(count)s items", n) % figure


@dataclass(frozen=True)
class CreditLine:
    credit: ServiceCredit
    uncapped: Decimal  # at_risk × allocation / 100, before the cap


@dataclass(frozen=True)
class PeriodCredits:
    """One finalized period's credits with the cap arithmetic of SPEC-SLA §4 spelled out."""

    period: SlaPeriod
    lines: list[CreditLine]
    uncapped_total: Decimal
    total: Decimal
    capped: bool


def credit_statement(engagement: Engagement) -> list[PeriodCredits]:
    """Credits by period, newest first: each breach's uncapped share of the at-risk amount (re-derived from the
    stored at-risk amount and allocations), their sum against the cap, and what was credited. One query."""
    by_period: dict[int, list[ServiceCredit]] = defaultdict(list)
    for credit in credits_of(engagement).order_by("-period__month", "metric"):
        by_period[credit.period_id].append(credit)
    statement = []
    for credits in by_period.values():
        period = credits[0].period
        split = arithmetic.service_credits(period.at_risk, {c.metric: c.allocation_percent for c in credits})
        statement.append(
            PeriodCredits(
                period=period,
                lines=[CreditLine(c, split.uncapped[c.metric]) for c in credits],
                uncapped_total=sum(split.uncapped.values(), Decimal("0.00")),
                total=sum((c.amount for c in credits), Decimal("0.00")),
                capped=any(c.capped for c in credits),
            )
        )
    return statement


def escalations_of(engagement: Engagement) -> QuerySet[Escalation]:
    return Escalation.objects.filter(engagement=engagement).select_related("period", "meeting")


def relief_of(engagement: Engagement) -> QuerySet[ReliefEvent]:
    return ReliefEvent.objects.filter(engagement=engagement).select_related("requested_by", "decided_by")


def manual_measurements_of(engagement: Engagement) -> QuerySet[ManualMeasurement]:
    return ManualMeasurement.objects.filter(engagement=engagement).select_related(
        "engagement", "submitted_by", "reviewed_by", "dispute"
    )


def measurements_for(membership: Membership) -> QuerySet[Measurement]:
    """Measurements of the engagements the member sees (a provider manager: its provider's only)."""
    return Measurement.objects.filter(engagement__in=engagements_for(membership)).select_related(
        "engagement", "period", "target"
    )


def periods_for(membership: Membership) -> QuerySet[SlaPeriod]:
    return SlaPeriod.objects.filter(engagement__in=engagements_for(membership))


def credits_for(membership: Membership) -> QuerySet[ServiceCredit]:
    return ServiceCredit.objects.filter(engagement__in=engagements_for(membership))


def schedules_for(membership: Membership) -> QuerySet[SlaSchedule]:
    return SlaSchedule.objects.filter(engagement__in=engagements_for(membership)).select_related("engagement")


def targets_for(membership: Membership) -> QuerySet[SlaTarget]:
    return SlaTarget.objects.filter(schedule__engagement__in=engagements_for(membership)).select_related(
        "schedule__engagement"
    )


def relief_for(membership: Membership) -> QuerySet[ReliefEvent]:
    return ReliefEvent.objects.filter(engagement__in=engagements_for(membership)).select_related("engagement")


def manual_for(membership: Membership) -> QuerySet[ManualMeasurement]:
    return ManualMeasurement.objects.filter(engagement__in=engagements_for(membership)).select_related("engagement")


def escalations_for(
    membership: Membership, *, status: str = "", engagement_id: int | None = None
) -> QuerySet[Escalation]:
    """The escalations a member may see (a provider manager: its provider's engagements), newest period first."""
    rows = Escalation.objects.filter(engagement__in=engagements_for(membership))
    if status:
        rows = rows.filter(status=status)
    if engagement_id is not None:
        rows = rows.filter(engagement_id=engagement_id)
    return rows.select_related("engagement", "period").order_by("-period__month", "engagement__name", "level", "pk")


def may_answer_escalation(membership: Membership, escalation: Escalation) -> bool:
    """The provider answers an open escalation: its own account manager, as slas.escalations requires."""
    return escalation.is_open and side_of(membership, escalation.engagement) == Side.PROVIDER


def may_close_escalation(membership: Membership, escalation: Escalation) -> bool:
    """The client closes an open escalation: an approving client-side member (owner, L&D director)."""
    return escalation.is_open and side_of(membership, escalation.engagement, approving=True) == Side.CLIENT
