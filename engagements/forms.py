"""Input validation for the contract pages. Forms validate; services write."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mls.models import Provider
from mls.validators import validate_sane_date

from .enums import LineBasis, MeetingKind, PricingModel, Responsibility, Side, StandardService, UsageKey
from .models import Engagement, IndexSeries, ServiceLine, SowVersion

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EngagementForm(forms.ModelForm):
    # Declared, not generated: a generated choice field would query Provider at import, outside any tenant scope.
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        queryset=Provider.objects.none(),
        help_text=_("Not in the list? Owners and procurement add it under Providers."),
    )

    class Meta:
        model = Engagement
        fields = [name for name in Engagement.EDITABLE_FIELDS if name != "provider"]  # provider: declared above
        widgets = {"start_date": DATE, "end_date": DATE}
        labels = {
            "name": _("Name"),
            "external_id": _("External ID"),
            "engagement_model": _("Engagement model"),
            "vendor_model": _("Vendor model"),
            "status": _("Status"),
            "currency": _("Currency"),
            "timezone": _("Timezone"),
            "holiday_country": _("Holiday country"),
            "holiday_subdivision": _("Holiday subdivision"),
            "start_date": _("Start date"),
            "end_date": _("End date"),
            "annual_value": _("Annual value"),
            "annual_budget": _("Annual budget"),
            "liability_cap_multiple": _("Liability cap multiple"),
            "termination_notice_days": _("Termination notice days"),
            "auto_renewal": _("Auto renewal"),
            "renewal_notice_days": _("Renewal notice days"),
            "transition_period_days": _("Transition period days"),
            "cr_response_business_days": _("CR response business days"),
            "dispute_escalation_days": _("Dispute escalation days"),
            "ip_terms": _("IP terms"),
            "data_export_format": _("Data export format"),
            "data_export_days": _("Data export days"),
        }
        help_texts = {
            "termination_notice_days": _("Termination for convenience: 60–90 days."),
            "renewal_notice_days": _("Notice before auto-renewal: 60–90 days."),
            "transition_period_days": _("Exit transition support: 60–120 days."),
            "cr_response_business_days": _("Business days the other side has to answer a change request."),
            "liability_cap_multiple": _("Liability cap as a multiple of the annual value."),
            "data_export_days": _("Days the provider has to hand over all data in the agreed format."),
        }

    field_order = ["name", "provider"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.order_by("name")
        if self.instance.pk:
            self.initial.setdefault("provider", self.instance.provider_id)


class SowForm(forms.Form):
    reference = forms.CharField(label=_("Reference"), max_length=30, help_text=_("e.g. SOW-001"))
    title = forms.CharField(label=_("Title"), max_length=200)
    effective_from = forms.DateField(label=_("Effective from"), widget=DATE, validators=[validate_sane_date])
    pricing_model = forms.ChoiceField(label=_("Pricing model"), choices=PricingModel.choices)


class VersionTermsForm(forms.ModelForm):
    index_series = forms.ModelChoiceField(
        label=_("Index series"), queryset=IndexSeries.objects.none(), required=False
    )  # see EngagementForm

    class Meta:
        model = SowVersion
        fields = [
            "effective_from",
            "pricing_model",
            "forecast_learners",
            "variance_threshold_percent",
            "index_cap_percent",
            "notes",
        ]
        widgets = {"effective_from": DATE, "notes": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "effective_from": _("Effective from"),
            "pricing_model": _("Pricing model"),
            "forecast_learners": _("Forecast learners"),
            "variance_threshold_percent": _("Variance threshold percent"),
            "index_cap_percent": _("Index cap percent"),
            "notes": _("Notes"),
        }

    field_order = ["effective_from", "pricing_model", "forecast_learners", "variance_threshold_percent", "index_series"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["index_series"].queryset = IndexSeries.objects.order_by("name")
        self.initial.setdefault("index_series", self.instance.index_series_id)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("index_series") and cleaned.get("index_cap_percent") is None:
            self.add_error("index_cap_percent", _("An index-linked price adjustment needs a cap."))
        return cleaned


class ScopeItemForm(forms.Form):
    service = forms.ChoiceField(label=_("Service"), choices=StandardService.choices)
    custom_name = forms.CharField(
        label=_("Custom name"), max_length=120, required=False, help_text=_("Only for a custom service.")
    )
    responsibility = forms.ChoiceField(label=_("Responsibility"), choices=Responsibility.choices)
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        custom = cleaned.get("service") == StandardService.CUSTOM
        if custom and not cleaned.get("custom_name"):
            self.add_error("custom_name", _("Name the custom service."))
        if not custom and cleaned.get("custom_name"):
            self.add_error("custom_name", _("Only custom services have their own name."))
        return cleaned


def parse_bands(text: str) -> list[tuple[int | None, Decimal]]:
    """Bands written one per line as `up_to: rate`, the last one `*: rate` (e.g. `100: 12.00`, `*: 9.50`)."""
    bands = []
    for number, raw in enumerate(text.strip().splitlines(), start=1):
        if not raw.strip():
            continue
        edge, sep, rate = raw.partition(":")
        if not sep:
            raise forms.ValidationError(
                gettext("Line %(number)s: write `learners: rate`, e.g. `100: 12.00` or `*: 9.50`.") % {"number": number}
            )
        try:
            up_to = None if edge.strip() == "*" else int(edge.strip())
            price = Decimal(rate.strip())
        except (ValueError, InvalidOperation) as error:
            message = gettext("Line %(number)s: %(line)r is not `learners: rate`.")
            raise forms.ValidationError(message % {"number": number, "line": raw.strip()}) from error
        bands.append((up_to, price))
    return bands


class ServiceLineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    basis = forms.ChoiceField(label=_("Basis"), choices=LineBasis.choices)
    amount = forms.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0, label=_("Monthly amount"))
    included_learners = forms.IntegerField(
        label=_("Included learners"), min_value=0, required=False, help_text=_("Hybrid: learners the retainer covers.")
    )
    bands = forms.CharField(
        label=_("Bands"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "100: 12.00\n250: 10.00\n*: 8.50"}),
        required=False,
        help_text=_("Per-learner bands, one per line: `up to: rate`; the last line `*: rate`."),
    )
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=12, decimal_places=2, required=False, min_value=0)
    usage_key = forms.ChoiceField(choices=[("", "—"), *UsageKey.choices], required=False, label=_("Usage"))
    gain_share_percent = forms.DecimalField(
        label=_("Gain share percent"), max_digits=5, decimal_places=2, required=False, min_value=0, max_value=100
    )
    baseline = forms.DecimalField(label=_("Baseline"), max_digits=12, decimal_places=2, required=False)
    required_uplift = forms.DecimalField(
        label=_("Required uplift"), max_digits=12, decimal_places=2, required=False, min_value=0
    )

    def clean_bands(self) -> list[tuple[int | None, Decimal]]:
        return parse_bands(self.cleaned_data.get("bands") or "")

    def service_fields(self) -> dict:
        """The cleaned values as service arguments, with model defaults for blanks."""
        data = {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}
        data.setdefault("bands", [])
        return data


class ChangeRequestForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What changes and why; you edit the proposed SoW next."),
    )


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices)
    scheduled_for = forms.DateTimeField(
        label=_("Scheduled for"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
        help_text=_("In the organization's timezone."),
        validators=[validate_sane_date],
    )
    agenda = forms.CharField(label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 5}))


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 8}))


class MeetingActionForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=500)
    owner_side = forms.ChoiceField(choices=Side.choices, label=_("Owner side"))
    owner_name = forms.CharField(max_length=120, label=_("Owner"))
    due_on = forms.DateField(label=_("Due on"), widget=DATE, validators=[validate_sane_date])


class DisputeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), help_text=_("Facts, amounts, dates.")
    )


class DisputeNoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Why escalate"))


class DisputeCloseForm(forms.Form):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}))


MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ContractReviewForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), required=False, label=_("Contract text"))
    document = forms.FileField(
        label=_("Document"), required=False, help_text=_("Or upload a .txt or .pdf (up to 10 MB).")
    )

    def clean_document(self) -> object:
        document = self.cleaned_data.get("document")
        if document is None:
            return None
        if document.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        if not document.name.lower().endswith((".txt", ".pdf")):
            raise forms.ValidationError(_("Upload a .txt or .pdf file."))
        return document

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("text", "").strip() and not cleaned.get("document"):
            raise forms.ValidationError(_("Paste the contract text or upload a file."))
        return cleaned


class IndexSeriesForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. UK CPI"))
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class IndexValueForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        validators=[validate_sane_date],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m"],
        help_text=_("The month the value is for."),
    )
    value = forms.DecimalField(label=_("Value"), max_digits=12, decimal_places=4, min_value=Decimal("0.0001"))


MAX_EVIDENCE_CHARS = 2000


class OutcomeLineChoice(forms.ModelChoiceField):
    def label_from_instance(self, line: ServiceLine) -> str:
        if line.baseline is None:
            target = gettext("no baseline")
        else:
            target = gettext("target %(baseline)s + %(uplift)s") % {
                "baseline": line.baseline,
                "uplift": line.required_uplift,
            }
        return f"{line.version.sow.reference} v{line.version.number}: {line.name} ({target})"


class OutcomeMeasurementForm(forms.Form):
    service_line = OutcomeLineChoice(queryset=ServiceLine.objects.none(), label=_("Gain-share line"))
    month = forms.DateField(
        label=_("Month"),
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m"],
        help_text=_("The measured month (YYYY-MM)."),
    )
    value = forms.DecimalField(
        label=_("Value"),
        max_digits=12,
        decimal_places=2,
        help_text=_("The outcome metric's value, in the unit of the line's baseline."),
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        max_length=MAX_EVIDENCE_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Where the value comes from: the report, query or link the other side can check it against."),
    )

    def __init__(self, *args: object, lines: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_line"].queryset = lines


class RejectReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_EVIDENCE_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The submitter sees it and may send a corrected value."),
    )


class TemplateNameForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        label=_("Template name"),
        help_text=_(
            "It keeps this engagement's scope, pricing lines, SLA targets and meeting cadence, not its dates, provider "
            "or delivery."
        ),
    )
