"""Input validation for the SLA pages. Forms validate; services write (and have the last word)."""

from decimal import Decimal

from django import forms
from django.core.validators import FileExtensionValidator

from mls.validators import validate_sane_date

from .catalog import METRICS, Category, Kind
from .enums import EscalationStatus, ReliefKind
from .models import SlaSchedule

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
EVIDENCE_EXTENSIONS = ["pdf", "csv", "xlsx", "xls", "docx", "txt", "png", "jpg", "jpeg", "zip"]
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def metric_choices(*, kind: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Catalog metrics grouped by category (optgroups), optionally only those of one kind."""
    metrics = [m for m in METRICS.values() if kind in (None, m.kind)]
    return [
        (category.label, [(m.key, m.name) for m in metrics if m.category == category])
        for category in Category
        if any(m.category == category for m in metrics)
    ]


class EndsAfterStartsMixin:
    """`starts_field`/`ends_field` dates: the end must not come before the start."""

    starts_field, ends_field = "starts_on", "ends_on"

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get(self.starts_field), cleaned.get(self.ends_field)
        if starts and ends and ends < starts:
            self.add_error(self.ends_field, "The end must not come before the start.")
        return cleaned


class ScheduleForm(forms.ModelForm):
    """The SLA terms. Bound to a fresh instance, never the stored one: the service compares before and after."""

    class Meta:
        model = SlaSchedule
        fields = list(SlaSchedule.EDITABLE_FIELDS)
        labels = {
            "at_risk_percent": "At-risk percent",
            "earn_back_enabled": "Earn-back",
            "earn_back_periods": "Earn-back periods (K)",
            "critical_breach_count": "Targets breached in one period for a formal review",
        }
        help_texts = {
            "earn_back_enabled": "A credit is earned back when its metric is met in the next K measured periods.",
            "formal_review_after": "Breached periods in a row before a formal performance review.",
            "exit_right_after": "Breached periods in a row before the client may terminate without penalty.",
        }


class TargetForm(EndsAfterStartsMixin, forms.Form):
    starts_field, ends_field = "active_from", "active_to"

    metric = forms.ChoiceField(choices=metric_choices, help_text="What each metric measures is listed below.")
    target = forms.DecimalField(
        max_digits=7, decimal_places=2, help_text="Percent (0–100), or a mean score (1–5) for ratings."
    )
    threshold = forms.IntegerField(
        min_value=1,
        required=False,
        help_text="The metric's H hours / D days / N business days / R days; empty: the catalog default.",
    )
    min_sample = forms.IntegerField(
        min_value=1, initial=5, label="Minimum sample", help_text="Fewer items than this is insufficient data."
    )
    allocation_percent = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        label="Allocation percent",
        help_text="Share of the at-risk amount a breach of this metric costs.",
    )
    active_from = forms.DateField(widget=DATE, validators=[validate_sane_date])
    active_to = forms.DateField(
        widget=DATE, required=False, help_text="Empty: until further notice.", validators=[validate_sane_date]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        chosen = METRICS.get(self.data.get("metric") or self.initial.get("metric") or "")
        if chosen:
            self.fields["metric"].help_text = chosen.description


class ReliefForm(EndsAfterStartsMixin, forms.Form):
    kind = forms.ChoiceField(choices=ReliefKind.choices)
    starts_on = forms.DateField(widget=DATE, help_text="In the engagement's timezone.", validators=[validate_sane_date])
    ends_on = forms.DateField(widget=DATE, help_text="Inclusive.", validators=[validate_sane_date])
    metrics = forms.MultipleChoiceField(
        choices=metric_choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="None selected: every metric.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))


class ManualMeasurementForm(forms.Form):
    month = forms.DateField(
        widget=MONTH,
        input_formats=["%Y-%m"],
        help_text="The measured month (YYYY-MM).",
        validators=[validate_sane_date],
    )
    metric = forms.ChoiceField(choices=lambda: metric_choices(kind=Kind.MANUAL))
    value = forms.DecimalField(
        max_digits=7, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), help_text="Percent."
    )
    sample_size = forms.IntegerField(min_value=1, label="Sample size", help_text="Records audited.")
    evidence = forms.FileField(
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS)],
        help_text=f"The audit working file: {', '.join(EVIDENCE_EXTENSIONS)}; up to 10 MB. Only members see it.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean_evidence(self) -> object:
        evidence = self.cleaned_data["evidence"]
        if evidence.size > EVIDENCE_MAX_BYTES:
            raise forms.ValidationError("The evidence file is larger than 10 MB.")
        return evidence


class DisputeReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="Opens a dispute at account management level."
    )


class EscalationResponseForm(forms.Form):
    response = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), help_text="What caused the breach and what you are doing about it."
    )


class RemediationPlanForm(forms.Form):
    plan = forms.CharField(
        label="Remediation plan",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="The actions that bring the metric back to target, with who does what.",
    )
    due_on = forms.DateField(
        label="Due date", widget=DATE, validators=[validate_sane_date], help_text="When the plan should have worked."
    )


class EscalationFilterForm(forms.Form):
    """The list's filters; invalid input is ignored rather than an error, as on every list page."""

    status = forms.ChoiceField(
        choices=[("", "Open and closed"), *EscalationStatus.choices], required=False, label="Status"
    )
    engagement = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every engagement")

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements
