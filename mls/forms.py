"""Input validation for the tenancy pages. Forms validate; services write."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .enums import Role, WebhookEvent
from .models import ApiTokenScope, Organization, Provider, User


class SignupForm(forms.Form):
    """Extra sign-up field (allauth's ACCOUNT_SIGNUP_FORM_CLASS): the organization the new user will own."""

    organization_name = forms.CharField(
        label=_("Organization name"),
        max_length=200,
        required=False,
        help_text=_("Your company's workspace; you become its owner. Leave empty if you are joining by invitation."),
    )

    def signup(self, request: HttpRequest, user: User) -> None:
        """Keep the name until the email is verified (mls.adapters creates the organization then); an address that
        an invitation link has already proved gets it at once."""
        from allauth.account.adapter import get_adapter  # noqa: PLC0415 - allauth imports this form at settings load

        from .services import create_pending_organization  # noqa: PLC0415 - see above

        name = self.cleaned_data.get("organization_name", "").strip()
        if not name:
            return
        user.pending_organization_name = name
        user.save(update_fields=["pending_organization_name"])
        if get_adapter(request).is_email_verified(request, user.email):
            create_pending_organization(user=user)


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "timezone", "currency", "holiday_country", "holiday_subdivision"]
        labels = {
            "name": _("Name"),
            "timezone": _("Timezone"),
            "currency": _("Currency"),
            "holiday_country": _("Holiday country"),
            "holiday_subdivision": _("Holiday subdivision"),
        }
        help_texts = {
            "timezone": _("IANA name, e.g. Europe/London. Dates and SLA periods use it."),
            "currency": _("ISO 4217 code, e.g. GBP."),
            "holiday_country": _("ISO country code for business-day deadlines, e.g. GB."),
        }


class OrganizationSettingsForm(OrganizationForm):
    """An owner's settings page: the organization's calendar and currency, and who must use two-factor sign-in."""

    mfa_required_roles = forms.MultipleChoiceField(
        label=_("Require two-factor authentication of these roles"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Members of a ticked role set up an authenticator app before they see any page of the "
            "organization. API tokens are not affected."
        ),
    )

    class Meta(OrganizationForm.Meta):
        fields = [*OrganizationForm.Meta.fields, "mfa_required", "mfa_required_roles"]


class _RoleProviderForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        queryset=Provider.objects.none(),
        required=False,
        help_text=_("Required for provider account managers: the provider whose work they log."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Evaluated lazily inside the request's organization scope.
        self.fields["provider"].queryset = Provider.objects.all()

    def clean(self) -> dict:
        cleaned = super().clean()
        role, provider = cleaned.get("role"), cleaned.get("provider")
        if role == Role.PROVIDER_MANAGER and provider is None:
            self.add_error("provider", _("Choose the provider this account manager works for."))
        if role and role != Role.PROVIDER_MANAGER and provider is not None:
            self.add_error("provider", _("Only provider account managers are linked to a provider."))
        return cleaned


class InvitationForm(_RoleProviderForm):
    email = forms.EmailField(label=_("Email address"))
    field_order = ["email", "role", "provider"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].initial = Role.VIEWER  # least privilege unless the owner chooses otherwise

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class MemberRoleForm(_RoleProviderForm):
    pass


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Payload URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("MLS POSTs JSON here, signed with the endpoint's secret. Public https addresses only."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=200, required=False, help_text=_("e.g. the system that receives it")
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(event.value, format_lazy("{}: {}", event.value, event.label)) for event in WebhookEvent],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every event, including ones added later."),
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("Paused endpoints get nothing.")
    )


def apply_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors on their field, the rest on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What uses it, e.g. “Workday sync”."))
    scope = forms.ChoiceField(label=_("Scope"), choices=ApiTokenScope.choices, initial=ApiTokenScope.READ)
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        queryset=Provider.objects.none(),
        required=False,
        help_text=_(
            "Optional: the token then sees and writes only this provider's delivery, like its account manager."
        ),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.all()  # evaluated inside the request's scope
