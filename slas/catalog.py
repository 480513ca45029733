"""The metric catalog of SPEC-SLA §3: what each SLA measures, on which items, and its default threshold.

A leaf module (no models): the SLA target form, the engine and the pages read it.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models


class Category(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    LEARNER_EXPERIENCE = "learner_experience", "Learner experience"
    COMPLIANCE = "compliance", "Compliance"
    QUALITY = "quality", "Quality"
    PLATFORM = "platform", "Platform"
    GOVERNANCE = "governance", "Governance"
    KPI = "kpi", "KPI"


class Kind(models.TextChoices):
    PERCENT = "percent", "Percentage of items met"
    MEAN = "mean", "Mean score (1–5)"
    MANUAL = "manual", "Manual percentage (verified)"


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher", "Higher is better"
    LOWER_IS_BETTER = "lower", "Lower is better"


class ThresholdUnit(models.TextChoices):
    HOURS = "hours", "hours"
    DAYS = "days", "calendar days"
    BUSINESS_DAYS = "business_days", "business days"


@dataclass(frozen=True)
class Metric:
    key: str
    name: str
    category: str
    kind: str
    population: str
    met_when: str
    threshold_unit: str | None = None  # None: the metric has no threshold parameter
    default_threshold: int | None = None
    default_target: Decimal = Decimal("95")
    direction: str = Direction.HIGHER_IS_BETTER

    @property
    def unit(self) -> str:
        return "score" if self.kind == Kind.MEAN else "%"

    @property
    def value_range(self) -> tuple[Decimal, Decimal]:
        return (Decimal(1), Decimal(5)) if self.kind == Kind.MEAN else (Decimal(0), Decimal(100))

    @property
    def description(self) -> str:
        threshold = f" (threshold: {self.default_threshold} {self.threshold_unit_label})" if self.threshold_unit else ""
        return f"{self.population}; met when {self.met_when}{threshold}."

    @property
    def threshold_unit_label(self) -> str:
        return ThresholdUnit(self.threshold_unit).label if self.threshold_unit else ""

    def meets(self, value: Decimal, target: Decimal, margin: Decimal = Decimal(0)) -> bool:
        """SPEC-SLA §2 comparison; `margin` is how far the value must beat the target (earn-back, §5)."""
        if self.direction == Direction.HIGHER_IS_BETTER:
            return value >= target + margin
        return value <= target - margin


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "session_confirmation_turnaround",
            "Session confirmation turnaround",
            Category.OPERATIONAL,
            Kind.PERCENT,
            "Sessions requested in the period",
            "confirmed within H hours of the request",
            ThresholdUnit.HOURS,
            48,
        ),
        Metric(
            "scheduling_lead_time",
            "Scheduling lead time",
            Category.OPERATIONAL,
            Kind.PERCENT,
            "Sessions requested in the period, not cancelled by the client",
            "the session (or its replacement) starts within D days of the request",
            ThresholdUnit.DAYS,
            30,
        ),
        Metric(
            "reschedule_within_window",
            "Reschedule within window",
            Category.OPERATIONAL,
            Kind.PERCENT,
            "Sessions cancelled by the provider in the period",
            "a replacement session starts within N business days of the cancellation",
            ThresholdUnit.BUSINESS_DAYS,
            10,
        ),
        Metric(
            "session_delivery_rate",
            "Session delivery rate",
            Category.OPERATIONAL,
            Kind.PERCENT,
            "Sessions starting in the period, except client cancellations",
            "the session is delivered",
            default_target=Decimal("98"),
        ),
        Metric(
            "support_first_response",
            "Support first response",
            Category.LEARNER_EXPERIENCE,
            Kind.PERCENT,
            "Support tickets opened in the period",
            "first response within H hours",
            ThresholdUnit.HOURS,
            8,
        ),
        Metric(
            "enrollment_processing",
            "Enrollment processing",
            Category.LEARNER_EXPERIENCE,
            Kind.PERCENT,
            "Enrollments requested in the period",
            "processed within N business days",
            ThresholdUnit.BUSINESS_DAYS,
            2,
        ),
        Metric(
            "completion_reporting_timeliness",
            "Completion reporting timeliness",
            Category.LEARNER_EXPERIENCE,
            Kind.PERCENT,
            "Completions in the period",
            "recorded within N business days of completion",
            ThresholdUnit.BUSINESS_DAYS,
            5,
        ),
        Metric(
            "completion_reporting_accuracy",
            "Completion reporting accuracy",
            Category.LEARNER_EXPERIENCE,
            Kind.MANUAL,
            "Audited sample of completion records for the period",
            "the value verified by the other side",
            default_target=Decimal("98"),
        ),
        Metric(
            "mandatory_training_on_time",
            "Mandatory training on time",
            Category.COMPLIANCE,
            Kind.PERCENT,
            "Compliance assignments due in the period",
            "completed on or before the due date",
        ),
        Metric(
            "audit_report_turnaround",
            "Audit report turnaround",
            Category.COMPLIANCE,
            Kind.PERCENT,
            "Audit-request tickets opened in the period",
            "resolved within H hours",
            ThresholdUnit.HOURS,
            24,
        ),
        Metric(
            "instructor_rating",
            "Instructor rating",
            Category.QUALITY,
            Kind.MEAN,
            "Feedback on delivered sessions starting in the period",
            "the mean instructor score reaches the target",
            default_target=Decimal("4.2"),
        ),
        Metric(
            "learner_satisfaction",
            "Learner satisfaction",
            Category.QUALITY,
            Kind.MEAN,
            "Feedback on delivered sessions starting in the period",
            "the mean overall score reaches the target",
            default_target=Decimal("4.0"),
        ),
        Metric(
            "assessment_pass_rate",
            "Assessment pass rate",
            Category.QUALITY,
            Kind.PERCENT,
            "First assessment attempts in the period",
            "the attempt is passed",
            default_target=Decimal("80"),
        ),
        Metric(
            "content_freshness",
            "Content freshness",
            Category.QUALITY,
            Kind.PERCENT,
            "Regulated courses of the engagement, at the end of the period",
            "reviewed within the last R days",
            ThresholdUnit.DAYS,
            365,
            default_target=Decimal("100"),
        ),
        Metric(
            "platform_uptime",
            "Platform uptime",
            Category.PLATFORM,
            Kind.PERCENT,
            "Minutes of the period, except planned maintenance and relief",
            "the minute is outside an unplanned outage",
            default_target=Decimal("99.5"),
        ),
        Metric(
            "change_request_response",
            "Change request response",
            Category.GOVERNANCE,
            Kind.PERCENT,
            "Change requests submitted in the period",
            "answered within N business days",
            ThresholdUnit.BUSINESS_DAYS,
            10,
        ),
        Metric(
            "training_utilization",
            "Training utilization",
            Category.KPI,
            Kind.PERCENT,
            "Seats of delivered sessions starting in the period",
            "the seat is taken by a learner marked present (attended seats ÷ capacity)",
            default_target=Decimal("75"),
        ),
    )
}

MetricKey = models.TextChoices("MetricKey", [(m.key, (m.key, m.name)) for m in METRICS.values()])

# Seed 003 (Training Industry's "three M's": meaningful, measurable, modifiable): "focus on the five to eight
# measures that directly determine whether your training function is running at the level it needs".
RECOMMENDED_TARGET_COUNT = range(5, 9)
