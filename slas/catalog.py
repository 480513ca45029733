"""The metric catalog of SPEC-SLA §3: what each SLA measures, on which items, and its default threshold.

A leaf module (no models): the SLA target form, the engine and the pages read it.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    LEARNER_EXPERIENCE = "learner_experience", _("Learner experience")
    COMPLIANCE = "compliance", _("Compliance")
    QUALITY = "quality", _("Quality")
    PLATFORM = "platform", _("Platform")
    GOVERNANCE = "governance", _("Governance")
    KPI = "kpi", _("KPI")


class Kind(models.TextChoices):
    PERCENT = "percent", _("Percentage of items met")
    MEAN = "mean", _("Mean score (1–5)")
    MANUAL = "manual", _("Manual percentage (verified)")


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher", _("Higher is better")
    LOWER_IS_BETTER = "lower", _("Lower is better")


class ThresholdUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    DAYS = "days", _("calendar days")
    BUSINESS_DAYS = "business_days", _("business days")


def in_sentence(name: str) -> str:
    """A name or label inside a sentence: English lowercases it ("Edit the instructor rating target"), German
    keeps its nouns capitalized ("Ziel „Trainerbewertung“ bearbeiten")."""
    name = str(name)
    return name.lower() if (get_language() or "en").startswith("en") else name


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
        return gettext("score") if self.kind == Kind.MEAN else "%"

    @property
    def value_range(self) -> tuple[Decimal, Decimal]:
        return (Decimal(1), Decimal(5)) if self.kind == Kind.MEAN else (Decimal(0), Decimal(100))

    @property
    def description(self) -> str:
        if not self.threshold_unit:
            return gettext("%(population)s; met when %(met_when)s.") % {
                "population": self.population,
                "met_when": self.met_when,
            }
        return gettext("%(population)s; met when %(met_when)s (threshold: %(threshold)s %(unit)s).") % {
            "population": self.population,
            "met_when": self.met_when,
            "threshold": self.default_threshold,
            "unit": self.threshold_unit_label,
        }

    @property
    def name_in_sentence(self) -> str:
        return in_sentence(self.name)

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
            _("Session confirmation turnaround"),
            Category.OPERATIONAL,
            Kind.PERCENT,
            _("Sessions requested in the period"),
            _("confirmed within H hours of the request"),
            ThresholdUnit.HOURS,
            48,
        ),
        Metric(
            "scheduling_lead_time",
            _("Scheduling lead time"),
            Category.OPERATIONAL,
            Kind.PERCENT,
            _("Sessions requested in the period, not cancelled by the client"),
            _("the session (or its replacement) starts within D days of the request"),
            ThresholdUnit.DAYS,
            30,
        ),
        Metric(
            "reschedule_within_window",
            _("Reschedule within window"),
            Category.OPERATIONAL,
            Kind.PERCENT,
            _("Sessions cancelled by the provider in the period"),
            _("a replacement session starts within N business days of the cancellation"),
            ThresholdUnit.BUSINESS_DAYS,
            10,
        ),
        Metric(
            "session_delivery_rate",
            _("Session delivery rate"),
            Category.OPERATIONAL,
            Kind.PERCENT,
            _("Sessions starting in the period, except client cancellations"),
            _("the session is delivered"),
            default_target=Decimal("98"),
        ),
        Metric(
            "support_first_response",
            _("Support first response"),
            Category.LEARNER_EXPERIENCE,
            Kind.PERCENT,
            _("Support tickets opened in the period"),
            _("first response within H hours"),
            ThresholdUnit.HOURS,
            8,
        ),
        Metric(
            "enrollment_processing",
            _("Enrollment processing"),
            Category.LEARNER_EXPERIENCE,
            Kind.PERCENT,
            _("Enrollments requested in the period"),
            _("processed within N business days"),
            ThresholdUnit.BUSINESS_DAYS,
            2,
        ),
        Metric(
            "completion_reporting_timeliness",
            _("Completion reporting timeliness"),
            Category.LEARNER_EXPERIENCE,
            Kind.PERCENT,
            _("Completions in the period"),
            _("recorded within N business days of completion"),
            ThresholdUnit.BUSINESS_DAYS,
            5,
        ),
        Metric(
            "completion_reporting_accuracy",
            _("Completion reporting accuracy"),
            Category.LEARNER_EXPERIENCE,
            Kind.MANUAL,
            _("Audited sample of completion records for the period"),
            _("the value verified by the other side"),
            default_target=Decimal("98"),
        ),
        Metric(
            "mandatory_training_on_time",
            _("Mandatory training on time"),
            Category.COMPLIANCE,
            Kind.PERCENT,
            _("Compliance assignments due in the period"),
            _("completed on or before the due date"),
        ),
        Metric(
            "audit_report_turnaround",
            _("Audit report turnaround"),
            Category.COMPLIANCE,
            Kind.PERCENT,
            _("Audit-request tickets opened in the period"),
            _("resolved within H hours"),
            ThresholdUnit.HOURS,
            24,
        ),
        Metric(
            "instructor_rating",
            _("Instructor rating"),
            Category.QUALITY,
            Kind.MEAN,
            _("Feedback on delivered sessions starting in the period"),
            _("the mean instructor score reaches the target"),
            default_target=Decimal("4.2"),
        ),
        Metric(
            "learner_satisfaction",
            _("Learner satisfaction"),
            Category.QUALITY,
            Kind.MEAN,
            _("Feedback on delivered sessions starting in the period"),
            _("the mean overall score reaches the target"),
            default_target=Decimal("4.0"),
        ),
        Metric(
            "assessment_pass_rate",
            _("Assessment pass rate"),
            Category.QUALITY,
            Kind.PERCENT,
            _("First assessment attempts in the period"),
            _("the attempt is passed"),
            default_target=Decimal("80"),
        ),
        Metric(
            "content_freshness",
            _("Content freshness"),
            Category.QUALITY,
            Kind.PERCENT,
            _("Regulated courses of the engagement, at the end of the period"),
            _("reviewed within the last R days"),
            ThresholdUnit.DAYS,
            365,
            default_target=Decimal("100"),
        ),
        Metric(
            "platform_uptime",
            _("Platform uptime"),
            Category.PLATFORM,
            Kind.PERCENT,
            _("Minutes of the period, except planned maintenance and relief"),
            _("the minute is outside an unplanned outage"),
            default_target=Decimal("99.5"),
        ),
        Metric(
            "change_request_response",
            _("Change request response"),
            Category.GOVERNANCE,
            Kind.PERCENT,
            _("Change requests submitted in the period"),
            _("answered within N business days"),
            ThresholdUnit.BUSINESS_DAYS,
            10,
        ),
        Metric(
            "training_utilization",
            _("Training utilization"),
            Category.KPI,
            Kind.PERCENT,
            _("Seats of delivered sessions starting in the period"),
            _("the seat is taken by a learner marked present (attended seats ÷ capacity)"),
            default_target=Decimal("75"),
        ),
    )
}

MetricKey = models.TextChoices("MetricKey", [(m.key, (m.key, m.name)) for m in METRICS.values()])

# Seed 003 (Training Industry's "three M's": meaningful, measurable, modifiable): "focus on the five to eight
# measures that directly determine whether your training function is running at the level it needs".
RECOMMENDED_TARGET_COUNT = range(5, 9)
