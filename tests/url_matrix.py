"""The route registry for access tests: every URL pattern must be listed here, or the tests fail.

Organization routes (`/o/<organization_slug>/...`) list which roles may use them and how to build their other
URL arguments from a `Tenant`; everything else is listed as a non-tenant route with the reason it is outside.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

from mls.enums import Role

ALL_ROLES = frozenset(Role.values)
CLIENT_ROLES = ALL_ROLES - {Role.PROVIDER_MANAGER}
OWNER_ONLY = frozenset({Role.OWNER})


@dataclass(frozen=True)
class OrganizationRoute:
    allowed_roles: frozenset[str]
    kwargs: Callable[[object], dict[str, object]] = field(default=lambda tenant: {})


ORGANIZATION_ROUTES: dict[str, OrganizationRoute] = {
    "reporting:dashboard": OrganizationRoute(ALL_ROLES),
    "org:members": OrganizationRoute(OWNER_ONLY),
    "org:member_edit": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.members[Role.VIEWER].pk}),
    "org:member_remove": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.members[Role.VIEWER].pk}),
    "org:invitation_revoke": OrganizationRoute(OWNER_ONLY, lambda t: {"pk": t.invitation.pk}),
    "org:audit_log": OrganizationRoute(CLIENT_ROLES),
}

# Routes outside any organization, by name or by URL prefix, with why they are not tenant routes.
NON_TENANT_ROUTES: dict[str, str] = {
    "home": "redirects to one of the user's own organizations",
    "organization_list": "lists only the user's own organizations",
    "organization_create": "creates a new organization owned by the user",
    "invitation_accept": "signed token names the tenant; checked against the invited email",
}
NON_TENANT_PREFIXES: dict[str, str] = {
    "accounts/": "allauth: the user's own account, MFA and password",
    "admin/": "platform operators only (is_staff), cross-tenant by design",
}


@dataclass(frozen=True)
class Route:
    route: str
    name: str


def all_routes() -> list[Route]:
    """Every URL pattern of the project, with its full route string and namespaced name."""
    found: list[Route] = []

    def walk(patterns: list, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                found.append(Route(prefix + str(p.pattern), f"{namespace}{p.name}" if p.name else ""))

    walk(get_resolver().url_patterns, "", "")
    return found


def organization_route_names() -> list[str]:
    return sorted({r.name for r in all_routes() if "<slug:organization_slug>" in r.route})


def object_route_names() -> list[str]:
    """Organization routes that also name an object (`<int:pk>` etc.): candidates for foreign-object tests."""
    return sorted({r.name for r in all_routes() if "<slug:organization_slug>" in r.route and r.route.count("<") > 1})
