"""SLA schedules, targets and what the engine derives from delivery data (SPEC-SLA §2–5).

Finalized measurements, breaches and credits are immutable: the model refuses the write and, on PostgreSQL, a
trigger (migration 0002) refuses it in the database too. A credit may only move from issued to earned back.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.timezone import now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mls.formatting import metric_label, money
from mls.models import TenantModel, TracksUpdates

from .catalog import METRICS, Metric, MetricKey
from .enums import (
    CreditStatus,
    EscalationLevel,
    EscalationStatus,
    ManualStatus,
    MeasurementStatus,
    PeriodStatus,
    ReliefKind,
    ReliefStatus,
)
from .fields import ItemSnapshotField

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class ImmutableRecordError(ValidationError):
    """A finalized SLA record was about to change (SPEC-SLA §2: corrections are explicit adjustments)."""


class SlaSchedule(TracksUpdates, TenantModel):
    """The SLA terms of an engagement: money at risk, grace, earn-back and the escalation ladder."""

    EDITABLE_FIELDS = (
        "at_risk_percent",
        "grace_days",
        "earn_back_enabled",
        "earn_back_periods",
        "earn_back_margin",
        "formal_review_after",
        "exit_right_after",
        "critical_breach_count",
    )
    audited_fields = EDITABLE_FIELDS

    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="sla_schedules")
    at_risk_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text=_("Share of the monthly fee at risk for service credits (typically 5–15 %)."),
    )
    grace_days = models.PositiveSmallIntegerField(
        default=5, validators=[MaxValueValidator(31)], help_text=_("Calendar days after the month before it is final.")
    )
    earn_back_enabled = models.BooleanField(default=True)
    earn_back_periods = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(12)], help_text=_("K periods met in a row.")
    )
    earn_back_margin = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("How far the value must beat the target in those periods."),
    )
    # The escalation ladder of SPEC-SLA §5: it lives here only, where the engine reads it (engagements 0011 moved
    # the MSA's copy onto the schedule).
    formal_review_after = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Consecutive breached periods before a formal review."),
    )
    exit_right_after = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Consecutive breached periods before the client may exit."),
    )
    critical_breach_count = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(17)],
        help_text=_("Targets breached in one period that force a formal review."),
    )
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "engagement"], name="slas_schedule_one_per_engagement"),
            models.CheckConstraint(
                condition=Q(at_risk_percent__gt=0, at_risk_percent__lte=100), name="slas_schedule_at_risk_0_100"
            ),
            models.CheckConstraint(
                condition=Q(exit_right_after__gte=models.F("formal_review_after")),
                name="slas_schedule_exit_after_review",
            ),
        ]

    def __str__(self) -> str:
        return gettext("SLA schedule of %(engagement)s") % {"engagement": self.engagement}

    def clean(self) -> None:
        if self.formal_review_after and self.exit_right_after and self.exit_right_after < self.formal_review_after:
            raise ValidationError({"exit_right_after": gettext("The exit right cannot come before the formal review.")})


class SlaTarget(TracksUpdates, TenantModel):
    """One metric's target in a schedule, with its threshold parameter, sample floor and credit allocation."""

    EDITABLE_FIELDS = (
        "metric",
        "target",
        "threshold",
        "min_sample",
        "allocation_percent",
        "active_from",
        "active_to",
    )
    audited_fields = EDITABLE_FIELDS

    schedule = models.ForeignKey(SlaSchedule, on_delete=models.PROTECT, related_name="targets")
    metric = models.CharField(max_length=40, choices=MetricKey.choices)
    target = models.DecimalField(max_digits=7, decimal_places=2)
    threshold = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("The metric's H hours / D days / N business days / R days.")
    )
    min_sample = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    allocation_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text=_("Share of the at-risk amount this metric's breach costs."),
    )
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["metric", "active_from"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.CheckConstraint(condition=Q(allocation_percent__gt=0), name="slas_target_allocation_positive"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="slas_target_active_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} ≥ {self.target}"

    @property
    def definition(self) -> Metric:
        return METRICS[self.metric]

    def clean(self) -> None:
        metric = METRICS.get(self.metric)
        if metric is None:
            return
        low, high = metric.value_range
        if self.target is not None and not low <= self.target <= high:
            raise ValidationError(
                {
                    "target": gettext("The target of this metric must be between %(low)s and %(high)s.")
                    % {"low": low, "high": high}
                }
            )
        if metric.threshold_unit and not self.threshold:
            raise ValidationError(
                {
                    "threshold": gettext("This metric needs a threshold in %(unit)s.")
                    % {"unit": metric.threshold_unit_label}
                }
            )
        if not metric.threshold_unit and self.threshold:
            raise ValidationError({"threshold": gettext("This metric has no threshold parameter.")})
        if self.active_from and self.active_to and self.active_to < self.active_from:
            raise ValidationError({"active_to": gettext("The end must not come before the start.")})

    def applies_to(self, month: date, next_month: date) -> bool:
        return self.active_from < next_month and (self.active_to is None or self.active_to >= month)


class SlaPeriod(TenantModel):
    """A calendar month of an engagement (its timezone): provisional until month end + grace, then finalized."""

    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="sla_periods")
    month = models.DateField(help_text=_("First day of the month."))
    status = models.CharField(max_length=20, choices=PeriodStatus.choices, default=PeriodStatus.PROVISIONAL)
    as_of = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    monthly_fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    at_risk = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    at_risk_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text=_("The schedule's at-risk percent when final.")
    )
    fee_lines = models.JSONField(default=list, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["engagement", "month"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "engagement", "month"], name="slas_period_once"),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} {self.month:%Y-%m}"

    @property
    def is_finalized(self) -> bool:
        return self.status == PeriodStatus.FINALIZED


class FinalizedRecord(TenantModel):
    """Refuses to change a row whose stored state is final (reading the database, not the instance)."""

    class Meta(TenantModel.Meta):
        abstract = True

    def stored_is_final(self) -> bool:
        raise NotImplementedError

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk and self.stored_is_final():
            raise ImmutableRecordError(f"This {self._meta.verbose_name} is finalized and cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError(f"{self._meta.verbose_name} records are kept.")


class Measurement(FinalizedRecord):
    """A metric's value for one period, with the inputs it was computed from (item ids and their outcome)."""

    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="measurements")
    period = models.ForeignKey(SlaPeriod, on_delete=models.PROTECT, related_name="measurements")
    metric = models.CharField(max_length=40, choices=MetricKey.choices)
    target = models.ForeignKey(SlaTarget, on_delete=models.PROTECT, related_name="measurements")
    target_value = models.DecimalField(max_digits=7, decimal_places=2)
    value = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    numerator = models.DecimalField(max_digits=16, decimal_places=4, default=Decimal("0"))
    denominator = models.DecimalField(max_digits=16, decimal_places=4, default=Decimal("0"))
    pending = models.PositiveIntegerField(default=0, help_text=_("Items not yet due at as_of (excluded)."))
    status = models.CharField(max_length=30, choices=MeasurementStatus.choices)
    meets_target = models.BooleanField(null=True, help_text=_("Whether the value meets the target (None: no value)."))
    as_of = models.DateTimeField()
    inputs = ItemSnapshotField(default=dict, blank=True, help_text=_("Item ids by outcome (met / failed / pending)."))
    finalized = models.BooleanField(default=False)
    computed_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["period__month", "metric"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "engagement", "period", "metric"], name="slas_measurement_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period.month:%Y-%m}: {self.value} ({self.status})"

    def stored_is_final(self) -> bool:
        return Measurement.objects.filter(pk=self.pk, finalized=True).exists()


class Breach(FinalizedRecord):
    """A finalized measurement that missed its target."""

    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="breaches")
    period = models.ForeignKey(SlaPeriod, on_delete=models.PROTECT, related_name="breaches")
    metric = models.CharField(max_length=40, choices=MetricKey.choices)
    measurement = models.ForeignKey(Measurement, on_delete=models.PROTECT, related_name="breaches")
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        verbose_name_plural = _("breaches")
        ordering = ["-period__month", "metric"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "engagement", "period", "metric"], name="slas_breach_once"),
            models.UniqueConstraint(fields=["organization", "measurement"], name="slas_breach_per_measurement"),
        ]

    def __str__(self) -> str:
        return gettext("Breach of %(metric)s in %(month)s") % {
            "metric": metric_label(self.metric),
            "month": date_format(self.period.month, "F Y"),
        }

    def stored_is_final(self) -> bool:
        return True


class ServiceCredit(FinalizedRecord):
    """Money the provider owes back for a breach (SPEC-SLA §4); earned back after K good periods (§5)."""

    audited_fields = (
        "period",
        "metric",
        "allocation_percent",
        "amount",
        "currency",
        "capped",
        "status",
        "earned_back_period",
    )

    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="credits")
    period = models.ForeignKey(SlaPeriod, on_delete=models.PROTECT, related_name="credits")
    metric = models.CharField(max_length=40, choices=MetricKey.choices)
    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="credits")
    allocation_percent = models.DecimalField(max_digits=5, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    capped = models.BooleanField(default=False, help_text=_("The period's credits hit the at-risk cap."))
    status = models.CharField(max_length=20, choices=CreditStatus.choices, default=CreditStatus.ISSUED)
    issued_at = models.DateTimeField(default=now)
    earned_back_period = models.ForeignKey(
        SlaPeriod, on_delete=models.PROTECT, null=True, blank=True, related_name="earned_back_credits"
    )
    earned_back_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-period__month", "metric"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "engagement", "period", "metric"], name="slas_credit_once"),
            models.UniqueConstraint(fields=["organization", "breach"], name="slas_credit_per_breach"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="slas_credit_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(status=CreditStatus.ISSUED, earned_back_at__isnull=True)
                | Q(status=CreditStatus.EARNED_BACK, earned_back_at__isnull=False),
                name="slas_credit_earned_back_dated",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(amount)s credit for %(metric)s in %(month)s") % {
            "amount": money(self.amount, self.currency),
            "metric": metric_label(self.metric),
            "month": date_format(self.period.month, "F Y"),
        }

    def stored_is_final(self) -> bool:
        # Issued credits may still be earned back (a status change); earned-back ones are done.
        return ServiceCredit.objects.filter(pk=self.pk, status=CreditStatus.EARNED_BACK).exists()


class Escalation(TracksUpdates, TenantModel):
    """A rung of the escalation ladder reached in a period (SPEC-SLA §5). `metric` is blank for the
    engagement-level formal review caused by too many breaches in one period."""

    audited_fields = (
        "period",
        "metric",
        "level",
        "breaches",
        "respond_by",
        "status",
        "response",
        "remediation_plan",
        "remediation_due_on",
    )

    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="escalations")
    period = models.ForeignKey(SlaPeriod, on_delete=models.PROTECT, related_name="escalations")
    metric = models.CharField(max_length=40, choices=MetricKey.choices, blank=True)
    level = models.CharField(max_length=20, choices=EscalationLevel.choices)
    breaches = models.PositiveSmallIntegerField(
        help_text=_("Consecutive breached periods of the metric, or targets breached in the period.")
    )
    created_at = models.DateTimeField(default=now)
    respond_by = models.DateTimeField(null=True, blank=True, help_text=_("Provider's response deadline (notice)."))
    meeting = models.ForeignKey(
        "engagements.GovernanceMeeting", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    response = models.TextField(blank=True, help_text=_("The provider's answer to the notice."))
    responded_at = models.DateTimeField(null=True, blank=True)
    remediation_plan = models.TextField(blank=True, help_text=_("What the provider will do to return to target."))
    remediation_due_on = models.DateField(null=True, blank=True, help_text=_("When the plan should have worked."))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-period__month", "metric", "level"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "engagement", "metric", "level", "period"], name="slas_escalation_once"
            ),
        ]

    def __str__(self) -> str:
        subject = metric_label(self.metric) if self.metric else gettext("the engagement")
        return gettext("%(level)s on %(subject)s (%(month)s)") % {
            "level": self.get_level_display(),
            "subject": subject,
            "month": date_format(self.period.month, "F Y"),
        }

    @property
    def is_open(self) -> bool:
        return self.status == EscalationStatus.OPEN


class ReliefEvent(TracksUpdates, TenantModel):
    """Days when the provider is not measured (client-caused or force majeure) — counts once the client approves."""

    audited_fields = ("kind", "starts_on", "ends_on", "metrics", "reason", "status")

    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="relief_events")
    kind = models.CharField(max_length=20, choices=ReliefKind.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text=_("Inclusive, in the engagement's timezone."))
    metrics = models.JSONField(default=list, blank=True, help_text=_("Metric keys; empty means every metric."))
    reason = models.TextField()
    status = models.CharField(max_length=20, choices=ReliefStatus.choices, default=ReliefStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    requested_at = models.DateTimeField(default=now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-starts_on"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="slas_relief_range"),
        ]

    def __str__(self) -> str:
        return gettext("%(kind)s relief %(starts)s–%(ends)s") % {
            "kind": self.get_kind_display(),
            "starts": self.starts_on,
            "ends": self.ends_on,
        }

    def covers(self, metric: str) -> bool:
        return not self.metrics or metric in self.metrics


class ManualMeasurement(TenantModel):
    """A manually audited metric value with evidence; it counts only once the other side verifies it."""

    audited_fields = ("month", "metric", "value", "sample_size", "status")

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.PROTECT, related_name="manual_measurements"
    )
    month = models.DateField(help_text=_("First day of the measured month."))
    metric = models.CharField(max_length=40, choices=MetricKey.choices)
    value = models.DecimalField(max_digits=7, decimal_places=2, validators=PERCENT)
    sample_size = models.PositiveIntegerField(help_text=_("Records audited."))
    evidence = models.FileField(upload_to="evidence/%Y/%m/")
    note = models.TextField(blank=True)
    submitted_side = models.CharField(max_length=10)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField(default=now)
    status = models.CharField(max_length=20, choices=ManualStatus.choices, default=ManualStatus.SUBMITTED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    dispute = models.ForeignKey(
        "engagements.Dispute", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        ordering = ["-month", "metric", "-submitted_at"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "engagement", "month", "metric"],
                condition=~Q(status=ManualStatus.DISPUTED),
                name="slas_manual_one_live_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.month:%Y-%m}: {self.value} ({self.status})"
