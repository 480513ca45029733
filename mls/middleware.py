"""Resolves `/o/<organization_slug>/...` to an organization the user belongs to and enters its scope (once the
member has the two-factor sign-in it requires); refuses a query string no view could use; ends idle and old
sessions; and sets the headers that keep responses out of caches and browser features out of reach."""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .api_auth import scoped_call
from .enums import Language
from .models import Membership, Organization, User
from .selectors import needs_mfa_setup
from .services import set_member_language
from .tenancy import organization_scope


class OrganizationScopeMiddleware:
    """Every `/o/<slug>/` request runs inside that organization's scope and timezone, or gets 404.

    A non-member gets the same 404 as a missing organization, so slugs of other tenants are not disclosed.
    Requests outside `/o/` run with no scope at all, where any tenant query raises `ScopeError`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get("organization_slug")
        if slug is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise Http404("No such organization.")
        with organization_scope(organization), timezone.override(ZoneInfo(organization.timezone)):
            membership = Membership.objects.select_related("provider").filter(user=request.user).first()
            if membership is None:
                raise Http404("No such organization.")
            if needs_mfa_setup(organization=organization, role=membership.role, user=request.user):
                messages.warning(
                    request,
                    _("%(organization)s requires two-factor authentication: set up an authenticator app to continue.")
                    % {"organization": organization.name},
                )
                return redirect("mfa_activate_totp")
            request.organization = organization
            request.membership = membership
            return self.get_response(request)


class ApiScopeMiddleware:
    """Every `/api/` request runs inside the scope and timezone of the organization its credential names.

    The caller is resolved here, before any view, so that every tenant query of the request is scoped; a request
    naming no organization (or a bad token) runs unscoped and is refused by the API's authentication.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        return scoped_call(request, lambda: self.get_response(request))


NUL_REFUSED = gettext_lazy("A NUL character cannot be searched for or stored.")


class RefuseNulQueryMiddleware:
    """A query parameter holding a NUL character is a 400 before any view reads it.

    PostgreSQL cannot hold or compare NUL in text, so a search (`?q=`) or filter handing it to a query would answer
    500. Form fields refuse NUL themselves (Django's ProhibitNullCharactersValidator); query parameters are read by
    many views directly, so they are checked here, once. The API gets its field errors in DRF's shape.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = [key for key, values in request.GET.lists() if "\x00" in key or any("\x00" in v for v in values)]
        if not refused:
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            errors = {key.replace("\x00", "") or "non_field_errors": [str(NUL_REFUSED)] for key in refused}
            return JsonResponse(errors, status=400)
        return HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain; charset=utf-8")


# Session keys of the sign-in's age (Unix seconds), written at sign-in and read by SessionLifetimeMiddleware.
SIGNED_IN_AT = "mls_signed_in_at"
LAST_SEEN_AT = "mls_last_seen_at"
# The last-seen time is rewritten at most this often, so a burst of requests (htmx polling) is not a session
# write each; the idle timeout is therefore exact to within this many seconds.
LAST_SEEN_RESOLUTION = 60


def stamp_sign_in(sender: type[User], request: HttpRequest, user: User, **kwargs: object) -> None:
    """user_logged_in receiver: the session's lifetime starts now."""
    now = timezone.now().timestamp()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


class SessionLifetimeMiddleware:
    """Signs out a session idle for SESSION_IDLE_TIMEOUT seconds or older than SESSION_ABSOLUTE_LIFETIME (ASVS
    V7.3): the request goes on anonymous, so a page sends to sign-in and a session API call gets 401.

    A session signed in before this rule existed has no stamps: its lifetime starts at its next request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            signed_in_at = request.session.setdefault(SIGNED_IN_AT, now)
            last_seen_at = request.session.setdefault(LAST_SEEN_AT, now)
            if (
                now - last_seen_at > settings.SESSION_IDLE_TIMEOUT
                or now - signed_in_at > settings.SESSION_ABSOLUTE_LIFETIME
            ):
                logout(request)
            elif now - last_seen_at >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)


class MemberLanguageMiddleware:
    """A signed-in member's pages are in the language they chose (User.language), on every device: it wins over
    the browser's Accept-Language and the language cookie, which LocaleMiddleware read before the user was known.
    A member who never chose, and anonymous visitors, keep what LocaleMiddleware found.

    Django's `set_language` view (the switcher's form) only sets the cookie; a member's choice is also stored here,
    once that view has accepted it, so it follows them to their next device.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.language in Language.values:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        if user.is_authenticated and _is_accepted_language_choice(request, response):
            set_member_language(user=user, language=request.POST["language"])
        return response


def _is_accepted_language_choice(request: HttpRequest, response: HttpResponse) -> bool:
    """A POST to Django's set_language that it answered with its redirect (or 204 for fetch) for a known language."""
    if request.method != "POST" or request.resolver_match is None:
        return False
    chosen = request.POST.get("language", "")
    return (
        request.resolver_match.url_name == "set_language"
        and response.status_code in (302, 204)
        and chosen in Language.values
    )


class NoStoreForCredentialsMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in member or an API credential (ASVS V14.3): tenant
    pages, API answers, QBR and statement downloads, data exports. Neither a shared proxy nor the browser's disk
    keeps them. ETags stay (a client may still send If-Match / If-None-Match from what it read)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated or "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, no_store=True, private=True)
        return response


class PermissionsPolicyMiddleware:
    """A `Permissions-Policy` header on every response (settings.PERMISSIONS_POLICY): MLS uses no camera,
    microphone, location or payment, so neither may any script that found its way into a page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allowed)})" for feature, allowed in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.header)
        return response
