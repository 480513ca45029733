"""allauth hooks: where people land after signing in or up."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

PENDING_INVITATION_SESSION_KEY = "mls_pending_invitation"


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # Someone who opened an invitation link before signing in goes back to it.
        token = request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
        if token:
            return reverse("invitation_accept", kwargs={"token": token})
        return super().get_login_redirect_url(request)
