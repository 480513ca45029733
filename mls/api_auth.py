"""Who is calling the REST API: the credential, the organization it names and the member it acts as.

Kept apart from mls.api because DRF imports these classes while it loads its own views (its settings name
them), so this module must not import DRF's views.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import slug_re
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, permissions, throttling
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request

from . import selectors, services
from .audit import writing_with_token
from .cache import count_in_window, window_key
from .models import ApiToken, Membership, Organization
from .tenancy import organization_scope

ORGANIZATION_HEADER = "HTTP_X_MLS_ORGANIZATION"
TOKEN_KEYWORD = "Token"  # noqa: S105 - the Authorization scheme's name


@dataclass(frozen=True)
class ApiCaller:
    """Who an API request acts as: the member whose rights apply (a token's owner or provider manager)."""

    organization: Organization
    membership: Membership
    token: ApiToken | None = None

    @property
    def may_write(self) -> bool:
        """A read token only reads, and sees no credential (a webhook's secret) that it could not have set."""
        return self.token is None or self.token.may_write


def _raw_token(request: HttpRequest) -> str | None:
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].decode(errors="replace").lower() != TOKEN_KEYWORD.lower():
        return None
    return parts[1].decode(errors="replace")


def _session_organization(request: HttpRequest) -> Organization | None:
    """The tenant a session call names in its organization header."""
    slug = request.META.get(ORGANIZATION_HEADER, "")
    if slug_re.fullmatch(slug) and request.user.is_authenticated:
        return Organization.objects.filter(slug=slug).first()
    return None


def _token_caller(raw: str) -> ApiCaller | None:
    """The caller a token stands for, looked up in the organization the token names."""
    organization_id = selectors.token_organization_id(raw)
    if organization_id is None:
        return None
    found = selectors.api_caller(organization_id, services.api_token_hash(raw))
    if found is None:
        return None
    token, membership = found
    return ApiCaller(token.organization, membership, token)


@contextmanager
def _inside(organization: Organization) -> Iterator[None]:
    with organization_scope(organization), timezone.override(ZoneInfo(organization.timezone)):
        yield


def scoped_call(request: HttpRequest, call: Callable[[], HttpResponse]) -> HttpResponse:
    """Run `call()` inside the caller's tenant scope and timezone, or unscoped when the request names no tenant
    or its token does not hold there (the API's authentication then refuses it)."""
    request.api_caller = None
    raw = _raw_token(request)
    if raw is not None:
        caller = _token_caller(raw)
        if caller is None:
            return call()
        with _inside(caller.organization), writing_with_token(caller.token):
            services.note_api_token_use(caller.token)
            request.api_caller = caller
            return call()
    organization = _session_organization(request)
    if organization is None:
        return call()
    with _inside(organization):
        membership = Membership.objects.select_related("user", "provider").filter(user=request.user).first()
        request.api_caller = ApiCaller(organization, membership) if membership else None
        return call()


def caller_of(request: Request) -> ApiCaller | None:
    return getattr(request._request, "api_caller", None)


# --- Authentication, permission, throttling ---------------------------------------------------------------


class TokenAuthentication(BaseAuthentication):
    """`Authorization: Token mls_...`: the token the middleware found active, or 401."""

    def authenticate(self, request: Request) -> tuple[object, ApiToken] | None:
        if _raw_token(request._request) is None:
            return None
        caller = caller_of(request)
        if caller is None or caller.token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return caller.membership.user, caller.token

    def authenticate_header(self, request: Request) -> str:
        return TOKEN_KEYWORD


class OrganizationSessionAuthentication(SessionAuthentication):
    """The web app's own calls: the signed-in user, a member of the organization named in X-MLS-Organization."""

    def authenticate(self, request: Request) -> tuple[object, None] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        caller = caller_of(request)
        if caller is None:
            if request.META.get(ORGANIZATION_HEADER):
                raise exceptions.NotFound(_("No such organization."))
            raise exceptions.AuthenticationFailed(_("Name your organization in the X-MLS-Organization header."))
        # The web app's calls follow its pages' rule; a token is a separate credential and is not affected.
        if selectors.needs_mfa_setup(organization=caller.organization, role=caller.membership.role, user=found[0]):
            raise exceptions.PermissionDenied(
                _("This organization requires two-factor authentication: set it up first.")
            )
        return found


class CallerPermission(permissions.BasePermission):
    """An authenticated caller; a read token may only read; a write needs the resource's `write_permission` (the
    Permission the web asks for the same write) for the member the caller acts as, a session's or a token's."""

    message = gettext_lazy("This token is read-only: create a read_write token to write.")

    def has_permission(self, request: Request, view: object) -> bool:
        caller = caller_of(request)
        if caller is None or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if request.method in permissions.SAFE_METHODS:
            return True
        if not caller.may_write:
            return False
        required = getattr(view, "write_permission", None)
        if required is not None and not caller.membership.has_permission(required):
            raise exceptions.PermissionDenied(
                _("Your role may not write here (it needs %(permission)s).") % {"permission": required}
            )
        return True


class CallerThrottle(throttling.SimpleRateThrottle):
    """Per token (or per member for session calls): at most `API_THROTTLE_RATE` requests in each window of the
    rate's period ("6000/hour": clock hours), then 429 with Retry-After until the next window. The rate is read per
    request so settings can change it.

    Counted atomically: the window's counter is created by `cache.add` and counted by `cache.incr` (SET NX and one
    INCRBY on Redis), so every one of many concurrent requests is counted. DRF's own SimpleRateThrottle reads a
    list of timestamps and writes it back, losing the requests that land in between (500 concurrent requests were
    counted as 426). A fixed window lets a caller send up to twice the rate across a window's edge: the price of
    one counter per caller. While Redis is unreachable the counters live in each process's memory (mls.cache), so
    a caller may then send the rate to every web process: degraded, never refused for it.
    """

    scope = "api"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: object) -> str | None:
        caller = caller_of(request)
        if caller is None:
            return None
        ident = f"token-{caller.token.pk}" if caller.token else f"member-{caller.membership.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def counter_key(self, caller_key: str, now: float) -> str:
        """The key of the caller's counter for the window holding `now`."""
        return window_key(caller_key, seconds=self.duration, now=now)

    def allow_request(self, request: Request, view: object) -> bool:
        caller_key = self.get_cache_key(request, view)
        if caller_key is None:
            return True
        self.now = self.timer()
        return count_in_window(self.cache, caller_key, seconds=self.duration, now=self.now) <= self.num_requests

    def wait(self) -> float:
        """Seconds until the next window opens (DRF answers them, rounded up, as Retry-After)."""
        return self.duration - self.now % self.duration
