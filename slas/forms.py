"""Input validation for the SLA pages. Forms validate; services write (and have the last word)."""

from decimal import Decimal

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from mls.validators import validate_sane_date

from .catalog import METRICS, Category, Kind
from .enums import EscalationStatus, ReliefKind
from .models import SlaSchedule

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
EVIDENCE_EXTENSIONS = ["pdf", "csv", "xlsx", "xls", "docx", "txt", "png", "jpg", "jpeg", "zip"]
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def _evidence_help() -> str:
    message = gettext("The audit working file: %(extensions)s; up to 10 MB. Only members see it.")
    return message % {"extensions": ", ".join(EVIDENCE_EXTENSIONS)}


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
            self.add_error(self.ends_field, _("The end must not come before the start."))
        return cleaned


class ScheduleForm(forms.ModelForm):
    """The SLA terms. Bound to a fresh instance, never the stored one: the service compares before and after."""

    class Meta:
        model = SlaSchedule
        fields = list(SlaSchedule.EDITABLE_FIELDS)
        labels = {
            "at_risk_percent": _("At-risk percent"),
            "grace_days": _("Grace days"),
            "earn_back_enabled": _("Earn-back"),
            "earn_back_periods": _("Earn-back periods (K)"),
            "earn_back_margin": _("Earn-back margin"),
            "formal_review_after": _("Formal review after"),
            "exit_right_after": _("Exit right after"),
            "critical_breach_count": _("Targets breached in one period for a formal review"),
        }
        help_texts = {
            "earn_back_enabled": _("A credit is earned back when its metric is met in the next K measured periods."),
            "formal_review_after": _("Breached periods in a row before a formal performance review."),
            "exit_right_after": _("Breached periods in a row before the client may terminate without penalty."),
        }


class TargetForm(EndsAfterStartsMixin, forms.Form):
    starts_field, ends_field = "active_from", "active_to"

    metric = forms.ChoiceField(
        choices=metric_choices, label=_("Metric"), help_text=_("What each metric measures is listed below.")
    )
    target = forms.DecimalField(
        label=_("Target"),
        max_digits=7,
        decimal_places=2,
        help_text=_("Percent (0–100), or a mean score (1–5) for ratings."),
    )
    threshold = forms.IntegerField(
        label=_("Threshold"),
        min_value=1,
        required=False,
        help_text=_("The metric's H hours / D days / N business days / R days; empty: the catalog default."),
    )
    min_sample = forms.IntegerField(
        min_value=1, initial=5, label=_("Minimum sample"), help_text=_("Fewer items than this is insufficient data.")
    )
    allocation_percent = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        label=_("Allocation percent"),
        help_text=_("Share of the at-risk amount a breach of this metric costs."),
    )
    active_from = forms.DateField(label=_("Active from"), widget=DATE, validators=[validate_sane_date])
    active_to = forms.DateField(
        label=_("Active to"),
        widget=DATE,
        required=False,
        help_text=_("Empty: until further notice."),
        validators=[validate_sane_date],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        chosen = METRICS.get(self.data.get("metric") or self.initial.get("metric") or "")
        if chosen:
            self.fields["metric"].help_text = chosen.description


class ReliefForm(EndsAfterStartsMixin, forms.Form):
    kind = forms.ChoiceField(choices=ReliefKind.choices, label=_("Kind"))
    starts_on = forms.DateField(
        label=_("Starts on"), widget=DATE, help_text=_("In the engagement's timezone."), validators=[validate_sane_date]
    )
    ends_on = forms.DateField(
        label=_("Ends on"), widget=DATE, help_text=_("Inclusive."), validators=[validate_sane_date]
    )
    metrics = forms.MultipleChoiceField(
        choices=metric_choices,
        label=_("Metrics"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("None selected: every metric."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}))


class ManualMeasurementForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        widget=MONTH,
        input_formats=["%Y-%m"],
        help_text=_("The measured month (YYYY-MM)."),
        validators=[validate_sane_date],
    )
    metric = forms.ChoiceField(choices=lambda: metric_choices(kind=Kind.MANUAL), label=_("Metric"))
    value = forms.DecimalField(
        label=pgettext_lazy("measured", "Value"),
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        help_text=_("Percent."),
    )
    sample_size = forms.IntegerField(min_value=1, label=_("Sample size"), help_text=_("Records audited."))
    evidence = forms.FileField(
        label=_("Evidence"),
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS)],
        help_text=lazy(_evidence_help, str)(),
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean_evidence(self) -> object:
        evidence = self.cleaned_data["evidence"]
        if evidence.size > EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(_("The evidence file is larger than 10 MB."))
        return evidence


class DisputeReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Opens a dispute at account management level."),
    )


class EscalationResponseForm(forms.Form):
    response = forms.CharField(
        label=_("Response"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What caused the breach and what you are doing about it."),
    )


class RemediationPlanForm(forms.Form):
    plan = forms.CharField(
        label=_("Remediation plan"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The actions that bring the metric back to target, with who does what."),
    )
    due_on = forms.DateField(
        label=_("Due date"),
        widget=DATE,
        validators=[validate_sane_date],
        help_text=_("When the plan should have worked."),
    )


class EscalationFilterForm(forms.Form):
    """The list's filters; invalid input is ignored rather than an error, as on every list page."""

    status = forms.ChoiceField(
        choices=[("", _("Open and closed")), *EscalationStatus.choices], required=False, label=_("Status")
    )
    engagement = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Engagement"), empty_label=_("Every engagement")
    )

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements
