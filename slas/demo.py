"""The demo engagements' SLA schedules (used by seed_demo), measured on the delivery the demo seeds.

Each schedule's targets are in force from the engagement's start. Every month whose grace days are over is then
finalized in order (breaches, credits, earn-backs, escalations) at the moment the daily job would have done it, and
the open months recomputed, as the hourly job does. Nothing here writes a measurement, breach or credit: the engine
finds them in the delivery. What the people involved do about the results goes through their services too: relief
asked for by the provider and approved by the client before the month closed, the provider's answer to a notice
and its remediation plan for a formal review, and the client closing an escalation once the metric has been met
for three finalized months in a row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from engagements.models import Engagement
from mls.models import Membership

from . import escalations, services
from .enums import EscalationLevel, EscalationStatus, MeasurementStatus
from .models import Escalation, Measurement, ReliefEvent, ServiceCredit, SlaPeriod, SlaSchedule

# metric, target, threshold (H hours / N business days), allocation of the at-risk amount (%)
Target = tuple[str, str, int | None, str]
NORTHWIND_TARGETS: list[Target] = [
    ("support_first_response", "80", 8, "40"),
    ("session_delivery_rate", "98", None, "35"),
    ("mandatory_training_on_time", "90", None, "30"),
    ("instructor_rating", "4.2", None, "25"),
    ("enrollment_processing", "90", 2, "20"),
    ("platform_uptime", "99.5", None, "20"),
]
KESTREL_TARGETS: list[Target] = [
    ("session_delivery_rate", "95", None, "40"),
    ("instructor_rating", "4.0", None, "30"),
    ("support_first_response", "85", 8, "30"),
]
MET_TO_CLOSE = 3  # finalized months met after an escalation before the client closes it


@dataclass(frozen=True)
class Relief:
    """Relief the provider asks for while the month is open and the client approves."""

    day: date
    kind: str
    metrics: list[str]
    reason: str


@dataclass(frozen=True)
class DemoSlas:
    targets: int
    finalized: int
    breaches: int
    credits: Decimal
    earned_back: int
    escalations: int


def seed_demo_slas(
    engagement: Engagement,
    director: Membership,
    provider_manager: Membership,
    targets: Sequence[Target],
    now: datetime,
    relief: Relief | None = None,
) -> DemoSlas:
    """Idempotent: the schedule, targets and relief are created once; months that have become due are finalized
    and the open ones recomputed on every run (finalized months never change)."""
    schedule = SlaSchedule.objects.filter(engagement=engagement).first()
    if schedule is None:
        schedule = _schedule(engagement, director, targets)
        if relief is not None:
            _relief(engagement, director, provider_manager, relief)
    # Each month is finalized when its grace days ended, so breaches, credits, escalations (and the notices'
    # response deadlines and review meetings) carry the dates the daily job would have given them.
    for period in services.sla_months(engagement, schedule, now):
        closes_at = period.closes_at(schedule.grace_days)
        if closes_at <= now:
            services.finalize_due_periods(engagement=engagement, now=closes_at)
    services.recompute_open_periods(engagement=engagement, now=now)
    _answer_escalations(engagement, director, provider_manager, now)
    credits = ServiceCredit.objects.filter(engagement=engagement)
    return DemoSlas(
        targets=schedule.targets.count(),
        finalized=SlaPeriod.objects.filter(engagement=engagement, finalized_at__isnull=False).count(),
        breaches=engagement.breaches.count(),
        credits=sum((credit.amount for credit in credits), Decimal("0.00")),
        earned_back=credits.filter(earned_back_period__isnull=False).count(),
        escalations=Escalation.objects.filter(engagement=engagement).count(),
    )


def _schedule(engagement: Engagement, director: Membership, targets: Sequence[Target]) -> SlaSchedule:
    schedule = services.create_schedule(
        engagement=engagement,
        actor=director.user,
        at_risk_percent=Decimal("12"),
        grace_days=5,
        earn_back_enabled=True,
        earn_back_periods=3,
    )
    for metric, target, threshold, allocation in targets:
        services.save_target(
            schedule=schedule,
            actor=director.user,
            metric=metric,
            target=Decimal(target),
            threshold=threshold,
            allocation_percent=Decimal(allocation),
            active_from=engagement.start_date,
        )
    return schedule


def _relief(engagement: Engagement, director: Membership, provider_manager: Membership, relief: Relief) -> None:
    if ReliefEvent.objects.filter(engagement=engagement).exists():
        return
    asked = datetime.combine(relief.day + timedelta(days=1), time(9), tzinfo=engagement.calendar.zone)
    event = services.request_relief(
        engagement=engagement,
        membership=provider_manager,
        kind=relief.kind,
        starts_on=relief.day,
        ends_on=relief.day,
        metrics=relief.metrics,
        reason=relief.reason,
        requested_at=asked,
    )
    services.decide_relief(relief=event, membership=director, approve=True, now=asked + timedelta(days=2))


def _answer_escalations(engagement: Engagement, director: Membership, provider_manager: Membership, now: datetime):
    """The provider answers each notice the next day and plans remediation for each formal review; the client
    closes a notice or review once its metric has been met in the next MET_TO_CLOSE finalized months. An exit
    right stays open: terminating or not is the client's decision, outside the demo."""
    open_ones = Escalation.objects.filter(engagement=engagement, status=EscalationStatus.OPEN).select_related(
        "period", "engagement"
    )
    for escalation in open_ones.order_by("created_at"):
        answered_at = escalation.created_at + timedelta(days=1)
        if answered_at > now:
            continue
        if escalation.level == EscalationLevel.NOTICE and escalation.responded_at is None:
            escalations.respond_to_notice(
                escalation=escalation,
                membership=provider_manager,
                response="Root cause found and staffing adjusted; we expect to be back on target next month.",
                now=answered_at,
            )
        elif escalation.level == EscalationLevel.FORMAL_REVIEW and not escalation.remediation_plan:
            escalations.record_remediation_plan(
                escalation=escalation,
                membership=provider_manager,
                plan="Two more support agents at peak hours, a daily backlog check and weekly reporting to Acme.",
                due_on=answered_at.date() + timedelta(days=60),
                now=answered_at,
            )
        closes_at = _met_since(escalation) if escalation.level != EscalationLevel.EXIT_RIGHT else None
        if closes_at is not None:
            escalations.close_escalation(escalation=escalation, membership=director, now=closes_at)


def _met_since(escalation: Escalation) -> datetime | None:
    """When the metric's MET_TO_CLOSE-th finalized month after the escalation was finalized, if all were met."""
    if not escalation.metric:
        return None
    later = (
        Measurement.objects.filter(
            engagement=escalation.engagement,
            metric=escalation.metric,
            finalized=True,
            period__month__gt=escalation.period.month,
        )
        .select_related("period")
        .order_by("period__month")[:MET_TO_CLOSE]
    )
    later = list(later)
    if len(later) < MET_TO_CLOSE or any(measurement.status != MeasurementStatus.MET for measurement in later):
        return None
    return later[-1].period.finalized_at
