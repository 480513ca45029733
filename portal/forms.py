"""The learner portal's one form: the address a sign-in link is sent to."""

from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("The address your organization has for you as a learner."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
