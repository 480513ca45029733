"""Every API route × credential: a token of organization A gets 404 on every object of organization B, a read
token 403 on every write, a revoked token or none 401. The routes come from the router: a new resource fails
`test_every_api_route_is_in_the_matrix` until tests/url_matrix.py lists it.

Each test walks all routes over one pair of tenants (building them is the slow part) and compares the whole
route → status map, so a failure names every route that misbehaves."""

import copy

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import ApiToken, AuditEvent, Membership
from mls.services import revoke_api_token
from scheduling.models import Session, SupportTicket
from tests.conftest import Tenant
from tests.factories import WebhookDeliveryFactory, api_token
from tests.factories.api import api_objects
from tests.factories.engagements import signed_contract_with_proposal
from tests.url_matrix import API_ROUTES, api_route_names

pytestmark = pytest.mark.integration

PUBLIC = {"api:schema", "api:docs", "api:redoc"}  # the API's description, readable without a token
OBJECT_ROUTES = sorted(name for name, route in API_ROUTES.items() if route.kwargs)
WRITE_ROUTES = sorted(name for name, route in API_ROUTES.items() if route.writes)
PROTECTED = sorted(set(API_ROUTES) - PUBLIC)
WRITE_OPERATIONS = [(name, method) for name, route in API_ROUTES.items() for method in route.write_methods]


def test_every_api_route_is_in_the_matrix():
    assert sorted(API_ROUTES) == api_route_names()


def _matrix_tenant(slug: str) -> Tenant:
    tenant = Tenant("Acme Corp", slug)
    tenant.contract = signed_contract_with_proposal(tenant)
    tenant.api = api_objects(tenant)
    tenant.webhook_delivery = WebhookDeliveryFactory(organization=tenant.organization)
    return tenant


@pytest.fixture(scope="module")
def matrix_tenants(build_once):
    """Built once for the module; slugs of their own, so a test here may still build `tenant_a`/`tenant_b`."""
    return build_once(lambda: (_matrix_tenant("acme-matrix").with_second_provider(), _matrix_tenant("acme-matrix-2")))


@pytest.fixture
def tenants(matrix_tenants, db):
    return copy.deepcopy(matrix_tenants)


def url(name: str, tenant: object) -> str:
    build = API_ROUTES[name].kwargs
    return reverse(name, kwargs=build(tenant) if build else {})


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def audit_count(tenant: object) -> int:
    with tenant.scope():
        return AuditEvent.objects.count()


def test_own_objects_are_readable(client, tenants):
    a, _b = tenants
    raw = api_token(a)

    readable = [name for name in OBJECT_ROUTES if "GET" in API_ROUTES[name].methods]
    objects = [name for name in readable if not API_ROUTES[name].document]

    found = {name: client.get(url(name, a), **auth(raw)).json().get("id") for name in objects}
    documents = {name: client.get(url(name, a), **auth(raw)).status_code for name in readable if name not in objects}

    assert found == {name: API_ROUTES[name].kwargs(a)["pk"] for name in objects}
    assert documents == dict.fromkeys(set(readable) - set(objects), 200)


def test_foreign_objects_are_404_and_nothing_is_written(client, tenants):
    a, b = tenants
    raw = api_token(a)
    before = audit_count(b)

    statuses = {
        (name, method): client.generic(
            method, url(name, b), "{}", content_type="application/json", **auth(raw)
        ).status_code
        for name in OBJECT_ROUTES
        for method in API_ROUTES[name].methods
    }

    assert {key: status for key, status in statuses.items() if status != 404} == {}
    assert audit_count(b) == before


def test_every_api_write_names_the_roles_that_may_make_it():
    assert [name for name, route in API_ROUTES.items() if route.write_methods and route.writers is None] == []


def _refused_writes(client, tenant: object, **headers: str) -> set[tuple[str, str]]:
    """The write operations answered 403 (each checked to have written nothing) for an empty body."""
    refused = set()
    for name, method in WRITE_OPERATIONS:
        before = audit_count(tenant)
        response = client.generic(method, url(name, tenant), "{}", content_type="application/json", **headers)
        if response.status_code == 403:
            assert audit_count(tenant) == before, (name, method)
            refused.add((name, method))
    return refused


@pytest.mark.parametrize("role", Role.values)
def test_api_writes_refuse_exactly_the_roles_the_web_refuses(client, tenants, role):
    """A member signed in to the web app may write through the API what the web lets its role write, and nothing
    else: an empty body answers 403 to a refused role before it is read (an allowed one gets 400, 404, 428...)."""
    a, _b = tenants
    client.force_login(a.user(role))

    refused = _refused_writes(client, a, HTTP_X_MLS_ORGANIZATION=a.organization.slug)

    assert refused == {(name, method) for name, method in WRITE_OPERATIONS if role not in API_ROUTES[name].writers}


def test_a_providers_token_writes_what_its_providers_manager_may(client, tenants):
    a, _b = tenants

    refused = _refused_writes(client, a, **auth(api_token(a, provider=a.provider)))

    assert refused == {
        (name, method) for name, method in WRITE_OPERATIONS if Role.PROVIDER_MANAGER not in API_ROUTES[name].writers
    }


def test_read_token_is_403_on_writes(client, tenants):
    a, _b = tenants
    raw = api_token(a, scope="read")
    before = audit_count(a)

    statuses = {
        name: client.post(url(name, a), {}, content_type="application/json", **auth(raw)).status_code
        for name in WRITE_ROUTES
    }

    assert statuses == dict.fromkeys(WRITE_ROUTES, 403)
    assert audit_count(a) == before


def test_revoked_token_is_401(client, tenants):
    a, _b = tenants
    raw = api_token(a)
    with a.scope():
        revoke_api_token(token=ApiToken.objects.get(), membership=a.members[Role.OWNER])

    responses = {name: client.get(url(name, a), **auth(raw)) for name in PROTECTED}

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(PROTECTED, 401)
    assert {r["WWW-Authenticate"] for r in responses.values()} == {"Token"}


def test_token_of_a_removed_owner_is_401(client, tenants):
    a, _b = tenants
    raw = api_token(a)
    with a.scope():
        a.members[Role.OWNER].delete()

    response = client.get(url("api:learner-list", a), **auth(raw))

    assert response.status_code == 401


def test_token_of_an_owner_demoted_in_its_organization_is_401_though_an_owner_elsewhere(client, tenant_a, tenant_b):
    raw = api_token(tenant_a)
    owner = tenant_a.members[Role.OWNER]
    with tenant_b.scope():
        Membership.objects.create(organization=tenant_b.organization, user=owner.user, role=Role.OWNER)
    with tenant_a.scope():
        Membership.objects.filter(pk=owner.pk).update(role=Role.VIEWER)

    response = client.get(reverse("api:learner-list"), **auth(raw))

    assert response.status_code == 401


def test_no_token_is_401(client, tenants):
    a, _b = tenants

    statuses = {name: client.get(url(name, a)).status_code for name in PROTECTED}

    assert statuses == dict.fromkeys(PROTECTED, 401)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_schema_and_docs_are_public(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200


# --- A second provider in the same organization -------------------------------------------------------------------


def provider_credentials(client, tenant: object) -> dict[str, dict[str, str]]:
    """The first provider's two ways in: its manager signed in to the web app, and a token restricted to it."""
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    return {
        "member": {"HTTP_X_MLS_ORGANIZATION": tenant.organization.slug},
        "token": auth(api_token(tenant, provider=tenant.provider)),
    }


def test_a_provider_cannot_read_another_providers_delivery_items(client, tenants):
    a, _b = tenants
    other = a.other.delivery
    items = {"sessions": other.session.pk, "enrollments": other.enrollment.pk, "tickets": other.ticket.pk}

    for credential, headers in provider_credentials(client, a).items():
        details = {kind: client.get(f"/api/v1/{kind}/{pk}/", **headers).status_code for kind, pk in items.items()}
        listed = {
            kind: pk in {row["id"] for row in client.get(f"/api/v1/{kind}/", **headers).json()["results"]}
            for kind, pk in items.items()
        }

        assert (credential, details, listed) == (credential, dict.fromkeys(items, 404), dict.fromkeys(items, False))


def test_a_provider_cannot_write_another_providers_delivery_items(client, tenants):
    """Neither onto the other provider's engagement, nor over its rows by their external_id: 400, nothing written."""
    a, _b = tenants
    other = a.other.delivery
    own_engagement = a.contract.engagement.name
    writes = {
        "sessions": {
            "external_id": "NEW-S", "engagement": other.engagement.name, "course_code": "SW-1", "modality": "vilt",
            "starts_at": "2026-03-04T09:00:00+00:00", "ends_at": "2026-03-04T10:00:00+00:00", "capacity": "5",
            "join_url": "https://meet.example/new",
        },
        "tickets": {
            "external_id": "SW-T-1", "engagement": own_engagement, "category": "enrollment", "subject": "Taken over",
            "opened_at": "2026-03-03T08:00:00+00:00",
        },
        "enrollments": {"external_id": "SW-E-1", "session_external_id": "SW-S-1", "learner_external_id": "SW-L-1"},
    }  # fmt: skip
    with a.scope():
        before = (
            AuditEvent.objects.count(),
            SupportTicket.objects.get(pk=other.ticket.pk).subject,
            Session.objects.count(),
        )

    for credential, headers in provider_credentials(client, a).items():
        statuses = {
            kind: client.post(f"/api/v1/{kind}/", item, content_type="application/json", **headers).status_code
            for kind, item in writes.items()
        }

        assert (credential, statuses) == (credential, dict.fromkeys(writes, 400))
    with a.scope():
        assert (
            AuditEvent.objects.count() - 1,  # the token's creation
            SupportTicket.objects.get(pk=other.ticket.pk).subject,
            Session.objects.count(),
        ) == before
