"""Input validation for the provider, supplier and instructor pages. Forms validate; services write."""

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from mls.models import Provider

from .models import Instructor, InstructorQualification, Supplier

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProviderForm(forms.ModelForm):
    class Meta:
        model = Provider
        fields = ["name", "contact_email"]
        labels = {"name": _("Name"), "contact_email": _("Contact email")}
        help_texts = {
            "name": _("The managed service provider as named in your contracts."),
            "contact_email": _("Optional: the provider's general address (its account manager is invited below)."),
        }


class NewProviderForm(ProviderForm):
    """Adding a provider can invite its account manager at once: one form instead of two."""

    account_manager_email = forms.EmailField(
        required=False,
        label=_("Account manager's email"),
        help_text=_(
            "Optional: they get an invitation link and, once accepted, log this provider's delivery (only its)."
        ),
    )


class AccountManagerInvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Account manager's email"),
        help_text=_("They get an invitation link; once accepted they log this provider's delivery, and only its."),
    )


class SupplierForm(forms.ModelForm):
    # Declared, not generated: a generated choice field would query Provider at import, outside any tenant scope.
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(), label=_("Provider"), help_text=_("Who sub-contracts this supplier.")
    )

    class Meta:
        model = Supplier
        fields = ["name", "categories", "regions", "rate_card", "insurance_expires_on", "contract_expires_on"]
        widgets = {
            "rate_card": forms.Textarea(attrs={"rows": 4}),
            "insurance_expires_on": DATE,
            "contract_expires_on": DATE,
        }
        labels = {
            "name": _("Name"),
            "categories": _("Categories"),
            "regions": _("Regions"),
            "rate_card": _("Rate card"),
            "insurance_expires_on": _("Insurance expires on"),
            "contract_expires_on": _("Contract expires on"),
        }

    field_order = ["name", "provider"]

    def __init__(self, *args: object, providers: QuerySet[Provider], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers


class InstructorForm(forms.ModelForm):
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), label=_("Provider"))
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.none(),
        required=False,
        label=_("Supplier"),
        help_text=_("Empty: employed by the provider itself."),
    )

    class Meta:
        model = Instructor
        fields = ["name", "email"]
        labels = {"name": _("Name"), "email": _("Email")}

    field_order = ["name", "email", "provider", "supplier"]

    def __init__(self, *args: object, providers: QuerySet[Provider], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        # Every supplier of those providers; the service refuses one of another provider than the chosen one.
        supplier = self.fields["supplier"]
        supplier.queryset = Supplier.objects.filter(provider__in=providers).select_related("provider").order_by("name")
        supplier.label_from_instance = lambda choice: f"{choice.name} ({choice.provider.name})"


class QualificationForm(forms.ModelForm):
    prefix = "qualification"  # shares its page with the instructor's form: distinct field ids

    class Meta:
        model = InstructorQualification
        fields = ["name", "expires_on"]
        widgets = {"expires_on": DATE}
        labels = {"name": _("Qualification"), "expires_on": _("Expires on")}
        help_texts = {"expires_on": _("Empty: does not expire.")}
