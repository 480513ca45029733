"""Tenant isolation over every route: foreign organization or foreign object → 404, for every role."""

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent, Membership
from tests.url_matrix import (
    NON_TENANT_PREFIXES,
    NON_TENANT_ROUTES,
    ORGANIZATION_ROUTES,
    all_routes,
    object_route_names,
    organization_route_names,
)

pytestmark = pytest.mark.integration

ROUTE_NAMES = organization_route_names()


def test_every_route_is_in_the_access_matrix():
    missing = [
        r
        for r in all_routes()
        if ("<slug:organization_slug>" in r.route and r.name not in ORGANIZATION_ROUTES)
        or (
            "<slug:organization_slug>" not in r.route
            and r.name not in NON_TENANT_ROUTES
            and not r.route.startswith(tuple(NON_TENANT_PREFIXES))
        )
    ]

    assert missing == []
    assert sorted(ORGANIZATION_ROUTES) == ROUTE_NAMES  # no stale entries either


@pytest.fixture
def tenants(tenant_a, tenant_b):
    return tenant_a.with_route_objects(), tenant_b.with_route_objects()


def url(tenant_for_slug, tenant_for_objects, name):
    kwargs = ORGANIZATION_ROUTES[name].kwargs(tenant_for_objects)
    return reverse(name, kwargs={"organization_slug": tenant_for_slug.organization.slug, **kwargs})


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_own_organization_route_allows_exactly_its_roles(client, tenants, name, role):
    a, _b = tenants
    route = ORGANIZATION_ROUTES[name]
    client.force_login(a.user(role))

    response = client.get(url(a, a, name))

    allowed = route.ok if role in route.allowed_roles else 403
    assert response.status_code == (allowed if "GET" in route.methods else 405)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_foreign_organization_route_is_404_and_writes_nothing(client, tenants, name, role, method):
    a, b = tenants
    client.force_login(a.user(role))
    with b.scope():
        before = (Membership.objects.count(), AuditEvent.objects.count())

    response = getattr(client, method)(url(b, b, name))

    assert response.status_code == 404
    with b.scope():
        assert (Membership.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("name", "method"),
    [(name, method) for name in object_route_names() for method in ORGANIZATION_ROUTES[name].methods],
)
def test_foreign_object_under_own_organization_is_404(client, tenants, name, method):
    a, b = tenants
    client.force_login(a.user(ORGANIZATION_ROUTES[name].first_allowed_role()))
    with b.scope():
        before = (Membership.objects.count(), AuditEvent.objects.count())

    response = client.generic(method, url(a, b, name))

    assert response.status_code == 404
    with b.scope():
        assert (Membership.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_anonymous_user_is_sent_to_login(client, tenants, name):
    a, _b = tenants

    response = client.get(url(a, a, name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_unknown_organization_is_404_like_a_foreign_one(client, tenants):
    a, _b = tenants
    client.force_login(a.user(Role.OWNER))

    response = client.get(reverse("reporting:dashboard", kwargs={"organization_slug": "no-such-org"}))

    assert response.status_code == 404
