"""Input validation for the reporting pages."""

from django import forms

from engagements.models import Engagement
from mls.validators import validate_sane_date

DATE = forms.DateInput(attrs={"type": "date"})


class ExportFilterForm(forms.Form):
    # The engagement choices are set per request: at import time no tenant scope is active.
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), required=False, empty_label="All")
    starts_on = forms.DateField(
        required=False, widget=DATE, label="From", help_text="Organization time.", validators=[validate_sane_date]
    )
    ends_on = forms.DateField(
        required=False, widget=DATE, label="To", help_text="Inclusive.", validators=[validate_sane_date]
    )

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The end date must not be before the start date.")
        return cleaned
