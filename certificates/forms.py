from django import forms
from django.utils.translation import gettext_lazy as _


class RevokeForm(forms.Form):
    note = forms.CharField(
        label=_("Why is the certificate revoked?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit log; the verification page only says that the certificate was revoked."),
    )
