"""The demo engagement's SLA schedule (used by seed_demo), measured on the delivery the demo seeds.

The targets are those of SPEC-SLA §4's worked example plus enrollment processing and platform uptime, in force
from the engagement's start. Every month whose grace days are over is then finalized in order (breaches,
credits, earn-backs, escalations) and the open months recomputed, as the daily and hourly jobs would have
done all year: Northwind misses its support, compliance and enrollment targets over the summer, so the SLA
page shows capped credits and the whole escalation ladder next to the months and metrics it met.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from engagements.models import Engagement
from mls.models import User

from . import services
from .models import Escalation, ServiceCredit, SlaPeriod, SlaSchedule

# metric, target, threshold (H hours / N business days), allocation of the at-risk amount (%)
TARGETS = [
    ("support_first_response", "80", 8, "40"),
    ("session_delivery_rate", "98", None, "35"),
    ("mandatory_training_on_time", "90", None, "30"),
    ("instructor_rating", "4.2", None, "25"),
    ("enrollment_processing", "90", 2, "20"),
    ("platform_uptime", "99.5", None, "20"),
]


@dataclass(frozen=True)
class DemoSlas:
    targets: int
    finalized: int
    breaches: int
    credits: Decimal
    escalations: int


def seed_demo_slas(engagement: Engagement, actor: User, now: datetime | None = None) -> DemoSlas:
    """Idempotent: the schedule and targets are created once; months that have become due are finalized and
    the open ones recomputed on every run (finalized months never change)."""
    now = now or timezone.now()
    schedule = SlaSchedule.objects.filter(engagement=engagement).first()
    if schedule is None:
        schedule = services.create_schedule(
            engagement=engagement,
            actor=actor,
            at_risk_percent=Decimal("12"),
            grace_days=5,
            earn_back_enabled=True,
            earn_back_periods=3,
        )
        for metric, target, threshold, allocation in TARGETS:
            services.save_target(
                schedule=schedule,
                actor=actor,
                metric=metric,
                target=Decimal(target),
                threshold=threshold,
                allocation_percent=Decimal(allocation),
                active_from=engagement.start_date,
            )
    # Each month is finalized when its grace days ended, so breaches, credits, escalations (and the notices'
    # response deadlines and review meetings) carry the dates the daily job would have given them.
    for period in services.sla_months(engagement, schedule, now):
        closes_at = period.closes_at(schedule.grace_days)
        if closes_at <= now:
            services.finalize_due_periods(engagement=engagement, now=closes_at)
    services.recompute_open_periods(engagement=engagement, now=now)
    credits = ServiceCredit.objects.filter(engagement=engagement)
    return DemoSlas(
        targets=schedule.targets.count(),
        finalized=SlaPeriod.objects.filter(engagement=engagement, finalized_at__isnull=False).count(),
        breaches=engagement.breaches.count(),
        credits=sum((credit.amount for credit in credits), Decimal("0.00")),
        escalations=Escalation.objects.filter(engagement=engagement).count(),
    )
