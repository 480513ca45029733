"""Input validation for the reporting pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.models import Engagement
from mls.validators import validate_sane_date

DATE = forms.DateInput(attrs={"type": "date"})


class ExportFilterForm(forms.Form):
    # The engagement choices are set per request: at import time no tenant scope is active.
    engagement = forms.ModelChoiceField(
        label=_("Engagement"), queryset=Engagement.objects.none(), required=False, empty_label=_("All")
    )
    starts_on = forms.DateField(
        required=False, widget=DATE, label=_("From"), help_text=_("Organization time."), validators=[validate_sane_date]
    )
    ends_on = forms.DateField(
        required=False, widget=DATE, label=_("To"), help_text=_("Inclusive."), validators=[validate_sane_date]
    )

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The end date must not be before the start date."))
        return cleaned
