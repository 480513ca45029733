from django import forms
from django.utils.translation import gettext_lazy as _

SCORES = [(score, str(score)) for score in range(1, 6)]


class SurveyForm(forms.Form):
    """The learner's answer: two scores of 1 to 5 (radio groups) and an optional comment."""

    instructor_score = forms.TypedChoiceField(
        label=_("How would you rate the instructor?"),
        help_text=_("1 = poor, 5 = excellent"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    overall_score = forms.TypedChoiceField(
        label=_("How would you rate the session overall?"),
        help_text=_("1 = poor, 5 = excellent"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
