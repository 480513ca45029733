"""Contracts: engagements with their MSA terms, SoWs with immutable versions, scope, pricing, change requests.

A signed SoW version never changes: its scope rows, service lines and bands refuse writes, and an amendment
is a new version produced by an approved ChangeRequest (SPEC-SLA §7).
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mls.business_days import BusinessCalendar
from mls.models import TenantModel, TracksUpdates
from mls.validators import validate_currency, validate_holiday_country, validate_timezone

from .enums import (
    ChangeRequestStatus,
    DataExportFormat,
    DisputeTier,
    EngagementModel,
    EngagementStatus,
    IpTerms,
    LineBasis,
    MeetingKind,
    OutcomeStatus,
    PricingModel,
    Responsibility,
    Side,
    StandardService,
    UsageKey,
    VendorModel,
    VersionStatus,
)

ZERO = Decimal("0")
NON_NEGATIVE = [MinValueValidator(ZERO)]


def _between(low: int, high: int) -> list:
    return [MinValueValidator(low), MaxValueValidator(high)]


def _in_range(field: str, low: int, high: int, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": low, f"{field}__lte": high}), name=name)


class Engagement(TracksUpdates, TenantModel):
    """A client ↔ provider engagement and its MSA terms."""

    # What users edit (and the audit log records): everything but the tenant and bookkeeping.
    EDITABLE_FIELDS = (
        "provider",
        "name",
        "external_id",
        "engagement_model",
        "vendor_model",
        "status",
        "currency",
        "timezone",
        "holiday_country",
        "holiday_subdivision",
        "start_date",
        "end_date",
        "annual_value",
        "annual_budget",
        "liability_cap_multiple",
        "termination_notice_days",
        "auto_renewal",
        "renewal_notice_days",
        "transition_period_days",
        "cr_response_business_days",
        "dispute_escalation_days",
        "ip_terms",
        "data_export_format",
        "data_export_days",
    )
    audited_fields = EDITABLE_FIELDS

    provider = models.ForeignKey("mls.Provider", on_delete=models.PROTECT, related_name="engagements")
    name = models.CharField(max_length=200)
    # A stable key for integrators: sessions and tickets refer to it, so renaming the engagement breaks nothing.
    external_id = models.CharField(max_length=100, blank=True)
    engagement_model = models.CharField(max_length=30, choices=EngagementModel.choices)
    vendor_model = models.CharField(max_length=30, choices=VendorModel.choices)
    status = models.CharField(max_length=20, choices=EngagementStatus.choices, default=EngagementStatus.DRAFT)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    holiday_country = models.CharField(max_length=3, validators=[validate_holiday_country])
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(help_text=_("Renewal date: the engagement ends or renews on this date."))
    # MSA terms
    annual_value = models.DecimalField(max_digits=14, decimal_places=2, validators=NON_NEGATIVE)
    # The client's own budget line for the engagement; spend is reported against it, or the MSA value if blank.
    annual_budget = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text=_("The client's yearly L&D budget for this engagement. Blank: the annual contract value."),
    )
    liability_cap_multiple = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(Decimal("0.01"))]
    )
    termination_notice_days = models.PositiveSmallIntegerField(default=90, validators=_between(60, 90))
    auto_renewal = models.BooleanField(default=True)
    renewal_notice_days = models.PositiveSmallIntegerField(default=90, validators=_between(60, 90))
    transition_period_days = models.PositiveSmallIntegerField(default=90, validators=_between(60, 120))
    cr_response_business_days = models.PositiveSmallIntegerField(default=10, validators=_between(1, 30))
    dispute_escalation_days = models.PositiveSmallIntegerField(default=30, validators=_between(1, 90))
    ip_terms = models.CharField(max_length=30, choices=IpTerms.choices, default=IpTerms.BESPOKE_CLIENT_OWNED)
    data_export_format = models.CharField(
        max_length=10, choices=DataExportFormat.choices, default=DataExportFormat.CSV_AND_JSON
    )
    data_export_days = models.PositiveSmallIntegerField(default=30, validators=_between(1, 90))
    created_at = models.DateTimeField(default=now)

    @property
    def budget(self) -> Decimal:
        """What spend is compared with on the dashboard and in the QBR (per year)."""
        return self.annual_value if self.annual_budget is None else self.annual_budget

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "name"], name="engagements_engagement_unique_name"),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="engagements_engagement_external_id",
                violation_error_message=_("Another engagement of this organization has this external_id."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")), name="engagements_engagement_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(annual_value__gte=0), name="engagements_engagement_value_gte_0"),
            _in_range("termination_notice_days", 60, 90, "engagements_engagement_termination_notice_60_90"),
            _in_range("renewal_notice_days", 60, 90, "engagements_engagement_renewal_notice_60_90"),
            _in_range("transition_period_days", 60, 120, "engagements_engagement_transition_60_120"),
            _in_range("cr_response_business_days", 1, 30, "engagements_engagement_cr_response_1_30"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("engagements:detail", kwargs={"organization_slug": self.organization.slug, "pk": self.pk})

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": gettext("The end date must be after the start date.")})

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.timezone, self.holiday_country, self.holiday_subdivision)

    @property
    def liability_cap(self) -> Decimal:
        return (self.annual_value * self.liability_cap_multiple).quantize(Decimal("0.01"))

    @property
    def renewal_notice_deadline(self) -> date:
        """Last day to give notice before the contract auto-renews."""
        return self.end_date - timedelta(days=self.renewal_notice_days)

    @property
    def termination_notice_deadline(self) -> date:
        """Last day to give notice of termination for convenience so the contract ends on its end date."""
        return self.end_date - timedelta(days=self.termination_notice_days)

    @property
    def transition_end(self) -> date:
        return self.end_date + timedelta(days=self.transition_period_days)


class IndexSeries(TenantModel):
    """A price index (e.g. UK CPI) whose monthly values procurement enters for annual adjustments."""

    audited_fields = ("name", "description")

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        verbose_name_plural = _("index series")
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "name"], name="engagements_indexseries_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class IndexValue(TenantModel):
    audited_fields = ("series", "month", "value")

    series = models.ForeignKey(IndexSeries, on_delete=models.CASCADE, related_name="values")
    month = models.DateField(help_text=_("First day of the month."))
    value = models.DecimalField(max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0.0001"))])

    class Meta(TenantModel.Meta):
        ordering = ["series", "month"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "series", "month"], name="engagements_indexvalue_month"),
            models.CheckConstraint(condition=Q(value__gt=0), name="engagements_indexvalue_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.month:%Y-%m}: {self.value}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": gettext("Use the first day of the month.")})


class Sow(TracksUpdates, TenantModel):
    """A statement of work under the engagement's MSA. Its content lives in versions."""

    audited_fields = ("engagement", "reference", "title")

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="sows")
    reference = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["engagement", "reference"]
        verbose_name = _("SoW")
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "engagement", "reference"], name="engagements_sow_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class SignedVersionError(ValidationError):
    """Raised on any attempt to change a signed (or superseded) SoW version or its rows."""


class SowVersion(TenantModel):
    """One version of a SoW. Drafts are edited; a signed version is immutable evidence of what was agreed."""

    audited_fields = (
        "number",
        "status",
        "effective_from",
        "pricing_model",
        "forecast_learners",
        "variance_threshold_percent",
        "index_series",
        "index_cap_percent",
        "notes",
    )

    sow = models.ForeignKey(Sow, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    effective_from = models.DateField()
    pricing_model = models.CharField(max_length=20, choices=PricingModel.choices)
    forecast_learners = models.PositiveIntegerField(default=0, help_text=_("Billable learners expected per month."))
    variance_threshold_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("20"), validators=[MinValueValidator(ZERO)]
    )
    index_series = models.ForeignKey(IndexSeries, on_delete=models.PROTECT, null=True, blank=True)
    index_cap_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )
    notes = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["sow", "number"]
        verbose_name = _("SoW version")
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "sow", "number"], name="engagements_sowversion_number"),
            models.UniqueConstraint(
                fields=["organization", "sow"],
                condition=Q(status=VersionStatus.SIGNED),
                name="engagements_sowversion_one_signed",
            ),
            models.CheckConstraint(
                condition=Q(index_series__isnull=True) | Q(index_cap_percent__isnull=False),
                name="engagements_sowversion_index_needs_cap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sow.reference} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()
            status_change_only = set(kwargs.get("update_fields") or ()) == {"status"}
            if stored != VersionStatus.DRAFT and not status_change_only:
                message = gettext("Version %(number)s is %(status)s; amend it with a change request instead.")
                raise SignedVersionError(
                    message % {"number": self.number, "status": VersionStatus(stored).label.lower()}
                )
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if not self.is_editable:
            message = gettext("Version %(number)s is %(status)s and cannot be deleted.")
            raise SignedVersionError(message % {"number": self.number, "status": self.get_status_display().lower()})
        return super().delete(*args, **kwargs)


class VersionContent(TenantModel):
    """Rows that belong to a SoW version: writable only while that version is a draft."""

    class Meta(TenantModel.Meta):
        abstract = True

    def owning_version_filter(self) -> Q:
        return Q(pk=self.version_id)

    def _refuse_if_signed(self) -> None:
        # Read the stored status: an in-memory version object may be stale (signed since it was loaded).
        stored = SowVersion._base_manager.filter(self.owning_version_filter()).values_list("number", "status").first()
        if stored is not None and stored[1] != VersionStatus.DRAFT:
            message = gettext(
                "Version %(number)s is %(status)s; its scope and pricing can only change through a change request."
            )
            raise SignedVersionError(message % {"number": stored[0], "status": VersionStatus(stored[1]).label.lower()})

    def save(self, *args: object, **kwargs: object) -> None:
        self._refuse_if_signed()
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        self._refuse_if_signed()
        return super().delete(*args, **kwargs)


class ScopeItem(VersionContent):
    """One row of the scope matrix: who is responsible for a service."""

    audited_fields = ("version", "service", "custom_name", "responsibility", "notes")

    version = models.ForeignKey(SowVersion, on_delete=models.CASCADE, related_name="scope_items")
    service = models.CharField(max_length=30, choices=StandardService.choices)
    custom_name = models.CharField(max_length=120, blank=True)
    responsibility = models.CharField(max_length=20, choices=Responsibility.choices)
    notes = models.CharField(max_length=500, blank=True)

    class Meta(VersionContent.Meta):
        ordering = ["version", "id"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "version", "service", "custom_name"], name="engagements_scopeitem_unique"
            ),
            models.CheckConstraint(
                condition=(Q(service=StandardService.CUSTOM) & ~Q(custom_name=""))
                | (~Q(service=StandardService.CUSTOM) & Q(custom_name="")),
                name="engagements_scopeitem_custom_name_iff_custom",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.custom_name or self.get_service_display()


class ServiceLine(VersionContent):
    """An itemized, priced service of a SoW version (never bundled into one figure)."""

    PRICE_FIELDS = (
        "basis",
        "amount",
        "included_learners",
        "unit_price",
        "usage_key",
        "gain_share_percent",
        "baseline",
        "required_uplift",
    )
    audited_fields = ("version", "name", *PRICE_FIELDS)

    version = models.ForeignKey(SowVersion, on_delete=models.CASCADE, related_name="service_lines")
    name = models.CharField(max_length=120)
    basis = models.CharField(max_length=20, choices=LineBasis.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, validators=NON_NEGATIVE)
    included_learners = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, validators=NON_NEGATIVE)
    usage_key = models.CharField(max_length=30, choices=UsageKey.choices, blank=True)
    gain_share_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO), MaxValueValidator(100)]
    )
    baseline = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    required_uplift = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, validators=NON_NEGATIVE)

    class Meta(VersionContent.Meta):
        ordering = ["version", "id"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "version", "name"], name="engagements_serviceline_name"),
            models.CheckConstraint(
                condition=Q(amount__gte=0, unit_price__gte=0, required_uplift__gte=0),
                name="engagements_serviceline_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(gain_share_percent__gte=0, gain_share_percent__lte=100),
                name="engagements_serviceline_gain_share_0_100",
            ),
            models.CheckConstraint(
                condition=(Q(basis=LineBasis.UNIT) & ~Q(usage_key="")) | (~Q(basis=LineBasis.UNIT) & Q(usage_key="")),
                name="engagements_serviceline_usage_iff_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class VolumeBand(VersionContent):
    """A graduated per-learner band: learners up to `up_to` (inclusive) at `rate`; the last band is open."""

    line = models.ForeignKey(ServiceLine, on_delete=models.CASCADE, related_name="bands")
    up_to = models.PositiveIntegerField(null=True, blank=True)
    rate = models.DecimalField(max_digits=12, decimal_places=2, validators=NON_NEGATIVE)

    class Meta(VersionContent.Meta):
        ordering = ["line", models.F("up_to").asc(nulls_last=True)]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "line", "up_to"], name="engagements_volumeband_edge"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="engagements_volumeband_rate_non_negative"),
        ]

    def __str__(self) -> str:
        return gettext("≤ %(up_to)s at %(rate)s") % {"up_to": self.up_to or "∞", "rate": self.rate}

    def owning_version_filter(self) -> Q:
        return Q(service_lines=self.line_id)


class ChangeRequest(TracksUpdates, TenantModel):
    """A written request to amend a SoW; approved by both sides it becomes the SoW's next version."""

    audited_fields = (
        "title",
        "proposed_by_side",
        "status",
        "submitted_at",
        "respond_by",
        "responded_at",
        "client_approved_at",
        "provider_approved_at",
        "rejection_reason",
    )

    sow = models.ForeignKey(Sow, on_delete=models.PROTECT, related_name="change_requests")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField()
    proposed_by_side = models.CharField(max_length=10, choices=Side.choices)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    base_version = models.ForeignKey(SowVersion, on_delete=models.PROTECT, related_name="+")
    proposed_version = models.ForeignKey(SowVersion, on_delete=models.PROTECT, related_name="change_requests")
    status = models.CharField(max_length=30, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.DRAFT)
    created_at = models.DateTimeField(default=now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    respond_by = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True, help_text=_("First decision by the receiving side."))
    client_approved_at = models.DateTimeField(null=True, blank=True)
    client_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    provider_approved_at = models.DateTimeField(null=True, blank=True)
    provider_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "sow", "number"], name="engagements_cr_number"),
            models.UniqueConstraint(fields=["organization", "proposed_version"], name="engagements_cr_one_per_version"),
            models.CheckConstraint(
                condition=~Q(status=ChangeRequestStatus.REJECTED) | ~Q(rejection_reason=""),
                name="engagements_cr_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status=ChangeRequestStatus.DRAFT) | Q(submitted_at__isnull=False, respond_by__isnull=False),
                name="engagements_cr_submitted_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"CR-{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in {
            ChangeRequestStatus.DRAFT,
            ChangeRequestStatus.SUBMITTED,
            ChangeRequestStatus.APPROVED_BY_CLIENT,
            ChangeRequestStatus.APPROVED_BY_PROVIDER,
        }

    @property
    def receiving_side(self) -> str:
        return Side.PROVIDER if self.proposed_by_side == Side.CLIENT else Side.CLIENT


class ContractMilestone(models.TextChoices):
    RENEWAL_NOTICE_DEADLINE = "renewal_notice_deadline", _("Auto-renewal notice deadline")
    TERMINATION_NOTICE_DEADLINE = "termination_notice_deadline", _("Last day to give termination notice")
    RENEWAL_DATE = "renewal_date", _("Renewal / end date")
    TRANSITION_END = "transition_end", _("Transition period ends")


class ContractReminder(TenantModel):
    """Ledger of reminders sent: the unique constraint is what makes the daily task send each one once."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="reminders")
    milestone = models.CharField(max_length=40, choices=ContractMilestone.choices)
    milestone_date = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["-sent_at"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "engagement", "milestone", "milestone_date", "days_before"],
                name="engagements_contractreminder_once",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(milestone)s %(date)s (−%(days)s days)") % {
            "milestone": self.get_milestone_display(),
            "date": self.milestone_date,
            "days": self.days_before,
        }


class GovernanceMeeting(TenantModel):
    """A governance meeting of the engagement (operational, QBR, annual, performance review)."""

    audited_fields = ("engagement", "kind", "scheduled_for", "agenda", "minutes", "held_at")

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="meetings")
    kind = models.CharField(max_length=40, choices=MeetingKind.choices)
    scheduled_for = models.DateTimeField()
    agenda = models.TextField()
    minutes = models.TextField(blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["-scheduled_for"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {date_format(self.scheduled_for, 'd M Y')}"


class MeetingAction(TenantModel):
    """An action agreed in a meeting: who does what by when."""

    audited_fields = ("meeting", "description", "owner_side", "owner_name", "due_on", "done_at")

    meeting = models.ForeignKey(GovernanceMeeting, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=500)
    owner_side = models.CharField(max_length=10, choices=Side.choices)
    owner_name = models.CharField(max_length=120)
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.description


class Dispute(TenantModel):
    """A dispute climbing the tiers of SPEC-SLA §7; each step is dated (DisputeStep) and audited."""

    audited_fields = ("engagement", "title", "raised_by_side", "tier", "executive_due_on", "closed_at", "resolution")

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="disputes")
    title = models.CharField(max_length=200)
    description = models.TextField()
    raised_by_side = models.CharField(max_length=10, choices=Side.choices)
    tier = models.CharField(max_length=30, choices=DisputeTier.choices, default=DisputeTier.ACCOUNT_MANAGEMENT)
    opened_at = models.DateTimeField(default=now)
    executive_due_on = models.DateField(help_text=_("Executive sponsors must be involved by then if still unresolved."))
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-opened_at"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.CheckConstraint(
                condition=~Q(tier=DisputeTier.CLOSED) | (Q(closed_at__isnull=False) & ~Q(resolution="")),
                name="engagements_dispute_closed_has_resolution",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue_for_executives(self, today: date) -> bool:
        return self.tier == DisputeTier.ACCOUNT_MANAGEMENT and today > self.executive_due_on


class DisputeStep(TenantModel):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="steps")
    tier = models.CharField(max_length=30, choices=DisputeTier.choices)
    at = models.DateTimeField(default=now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.TextField()

    class Meta(TenantModel.Meta):
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} {date_format(self.at, 'd M Y')}"


class OutcomeMeasurement(TracksUpdates, TenantModel):
    """The value of a gain-share line's outcome metric for one month, with its evidence (SPEC-SLA §6).

    Submitted by one side and verified by the other, like a manual SLA value: the fee is computed from a verified
    value only, so neither side can earn or withhold a gain share alone. A rejected value stays on record and the
    submitter may send a new one; at most one value per line and month is live (submitted or verified).
    """

    audited_fields = (
        "service_line",
        "month",
        "value",
        "evidence",
        "submitted_side",
        "status",
        "rejection_reason",
    )

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="outcome_measurements")
    service_line = models.ForeignKey(ServiceLine, on_delete=models.PROTECT, related_name="outcome_measurements")
    month = models.DateField(help_text=_("First day of the measured month."))
    value = models.DecimalField(max_digits=12, decimal_places=2, help_text=_("In the unit of the line's baseline."))
    evidence = models.TextField(help_text=_("Where the value comes from: a report, a query, a link to the source."))
    submitted_side = models.CharField(max_length=10, choices=Side.choices)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField(default=now)
    status = models.CharField(max_length=20, choices=OutcomeStatus.choices, default=OutcomeStatus.SUBMITTED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-month", "service_line", "-submitted_at"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "service_line", "month"],
                condition=~Q(status=OutcomeStatus.REJECTED),
                name="engagements_outcome_one_live_per_month",
            ),
            models.CheckConstraint(
                condition=~Q(status=OutcomeStatus.REJECTED) | ~Q(rejection_reason=""),
                name="engagements_outcome_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_line} {self.month:%Y-%m}: {self.value} ({self.status})"

    @property
    def target(self) -> Decimal | None:
        """The value that earns the gain share (SPEC-SLA §6: baseline + required uplift); None without a baseline."""
        line = self.service_line
        return None if line.baseline is None else line.baseline + line.required_uplift

    @property
    def beats_target(self) -> bool | None:
        return None if self.target is None else self.value >= self.target


class EngagementTemplate(TenantModel):
    """An organization's own engagement template, saved from one of its engagements (`template_content` has the
    shape of `content` and the built-in templates every organization also sees)."""

    audited_fields = ("name", "content")

    name = models.CharField(max_length=200)
    content = models.JSONField(help_text=_("A TemplateContent as JSON: scope, pricing skeleton, SLA targets, cadence."))
    saved_from = models.ForeignKey(
        Engagement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Where it came from."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "name"], name="engagements_template_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name
