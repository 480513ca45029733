"""Tenant isolation over every route: foreign organization or foreign object → 404, for every role."""

import copy

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent, Membership
from mls.tenancy import organization_scope
from scheduling.models import ImportJob
from tests.conftest import Tenant
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


@pytest.fixture(scope="module")
def matrix_tenants(build_once):
    """Built once for the ~2,000 cases below (the slow part); slugs of their own, so a test here may still build
    `tenant_a`/`tenant_b` beside them."""
    return build_once(
        lambda: (
            Tenant("Acme Corp", "acme-matrix").with_route_objects().with_second_provider(),
            Tenant("Acme Corp", "acme-matrix-2").with_route_objects(),
        )
    )


@pytest.fixture
def tenants(matrix_tenants, db):
    return copy.deepcopy(matrix_tenants)


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

    allowed = route.ok if role in route.allowed_roles else 404 if role in route.hidden_from else 403
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


# --- A second provider in the same organization -------------------------------------------------------------------
# The other provider's delivery, by route: how its URL arguments come from tests.factories.engagements
# .ProviderDelivery, and the method that reads or writes it.
OTHER_PROVIDERS_ROWS = {
    ("scheduling:session", "get"): lambda d: {"pk": d.session.pk},
    ("scheduling:session_enroll", "post"): lambda d: {"pk": d.session.pk},
    ("scheduling:session_cancel", "post"): lambda d: {"pk": d.session.pk},
    ("scheduling:session_reschedule", "post"): lambda d: {"pk": d.session.pk},
    ("scheduling:session_attendance", "post"): lambda d: {"pk": d.session.pk},
    ("scheduling:session_completions", "post"): lambda d: {"pk": d.session.pk},
    ("scheduling:session_action", "post"): lambda d: {"pk": d.session.pk, "action": "confirm"},
    ("scheduling:session_ics", "get"): lambda d: {"pk": d.session.pk},
    ("scheduling:enrollment_cancel", "post"): lambda d: {"pk": d.enrollment.pk},
    ("scheduling:ticket", "get"): lambda d: {"pk": d.ticket.pk},
    ("scheduling:ticket", "post"): lambda d: {"pk": d.ticket.pk},
    ("scheduling:import_job", "get"): lambda d: {"pk": d.import_job.pk},
    ("scheduling:import_start", "post"): lambda d: {"pk": d.import_job.pk},
    ("reporting:engagement", "get"): lambda d: {"pk": d.engagement.pk},
}


def other_providers_url(tenant, name: str, method: str) -> str:
    kwargs = OTHER_PROVIDERS_ROWS[name, method](tenant.other.delivery)
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def test_a_provider_manager_gets_404_on_every_row_of_another_provider_and_writes_nothing(client, tenants):
    a, _b = tenants
    client.force_login(a.user(Role.PROVIDER_MANAGER))
    with a.scope():
        before = AuditEvent.objects.count()

    statuses = {
        (name, method): getattr(client, method)(other_providers_url(a, name, method)).status_code
        for name, method in OTHER_PROVIDERS_ROWS
    }

    assert statuses == dict.fromkeys(OTHER_PROVIDERS_ROWS, 404)
    with a.scope():
        assert AuditEvent.objects.count() == before


def test_the_other_providers_manager_reads_its_own_rows(client, tenants):
    a, _b = tenants
    client.force_login(a.other.manager.user)
    reads = [key for key in OTHER_PROVIDERS_ROWS if key[1] == "get"]

    statuses = {key: client.get(other_providers_url(a, *key)).status_code for key in reads}

    assert statuses == dict.fromkeys(reads, 200)


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        ("scheduling:sessions", lambda response: [s.pk for s in response.context["page"].object_list]),
        ("scheduling:tickets", lambda response: [t.pk for t in response.context["page"].object_list]),
        ("scheduling:imports", lambda response: sorted(j.pk for j in response.context["page"].object_list)),
    ],
)
def test_a_provider_managers_lists_hold_only_its_providers_rows(client, tenants, name, listed):
    a, _b = tenants
    with organization_scope(a.organization):  # the job alone and the two files of the batch the manager uploaded
        batch = sorted(ImportJob.objects.filter(batch=a.contract.import_batch).values_list("pk", flat=True))
    own = {
        "scheduling:sessions": [a.contract.session.pk],
        "scheduling:tickets": [a.contract.ticket.pk],
        "scheduling:imports": sorted([a.contract.import_job.pk, *batch]),
    }[name]
    client.force_login(a.user(Role.PROVIDER_MANAGER))

    response = client.get(reverse(name, kwargs={"organization_slug": a.organization.slug}))

    assert listed(response) == own


def test_client_side_importers_do_not_see_the_providers_import_jobs(client, tenants):
    a, _b = tenants
    client.force_login(a.user(Role.OWNER))

    listed = client.get(reverse("scheduling:imports", kwargs={"organization_slug": a.organization.slug}))
    job = client.get(other_providers_url(a, "scheduling:import_job", "get"))

    assert (list(listed.context["page"].object_list), job.status_code) == ([], 404)
