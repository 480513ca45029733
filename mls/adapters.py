"""allauth hooks: where people land after signing in or up; the sign-up's organization once the email is verified."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.http import HttpRequest
from django.urls import reverse

from .services import create_pending_organization

PENDING_INVITATION_SESSION_KEY = "mls_pending_invitation"


class AccountAdapter(DefaultAccountAdapter):
    """Someone who opened an invitation link before signing in or up goes back to it afterwards."""

    def _pending_invitation_url(self, request: HttpRequest) -> str | None:
        token = request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
        return reverse("invitation_accept", kwargs={"token": token}) if token else None

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return self._pending_invitation_url(request) or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return self._pending_invitation_url(request) or super().get_signup_redirect_url(request)


def create_organization_on_email_confirmed(
    sender: type[EmailAddress], request: HttpRequest | None, email_address: EmailAddress, **kwargs: object
) -> None:
    """allauth's email_confirmed: the organization named at sign-up exists from now on (mls.forms.SignupForm)."""
    create_pending_organization(user=email_address.user)
