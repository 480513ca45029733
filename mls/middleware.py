"""Resolves `/o/<organization_slug>/...` to an organization the user belongs to and enters its scope; refuses a
query string no view could use."""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from .api_auth import scoped_call
from .models import Membership, Organization
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


NUL_REFUSED = "A NUL character cannot be searched for or stored."


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
            errors = {key.replace("\x00", "") or "non_field_errors": [NUL_REFUSED] for key in refused}
            return JsonResponse(errors, status=400)
        return HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain; charset=utf-8")
