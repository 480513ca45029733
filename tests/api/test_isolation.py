"""Every API route × credential: a token of organization A gets 404 on every object of organization B, a read
token 403 on every write, a revoked token or none 401. The routes come from the router: a new resource fails
`test_every_api_route_is_in_the_matrix` until tests/url_matrix.py lists it."""

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import ApiToken, AuditEvent
from mls.services import revoke_api_token
from tests.factories import api_token
from tests.factories.engagements import signed_contract_with_proposal
from tests.url_matrix import API_ROUTES, api_route_names

pytestmark = pytest.mark.integration

PUBLIC = {"api:schema", "api:docs", "api:redoc"}  # the API's description, readable without a token
OBJECT_ROUTES = sorted(name for name, route in API_ROUTES.items() if route.kwargs)
WRITE_ROUTES = sorted(name for name, route in API_ROUTES.items() if route.writes)
PROTECTED = sorted(set(API_ROUTES) - PUBLIC)


def test_every_api_route_is_in_the_matrix():
    assert sorted(API_ROUTES) == api_route_names()


@pytest.fixture
def tenants(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        tenant.contract = signed_contract_with_proposal(tenant)
    return tenant_a, tenant_b


def url(name: str, tenant: object) -> str:
    build = API_ROUTES[name].kwargs
    return reverse(name, kwargs=build(tenant) if build else {})


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def audit_count(tenant: object) -> int:
    with tenant.scope():
        return AuditEvent.objects.count()


@pytest.mark.parametrize("name", OBJECT_ROUTES)
def test_own_object_is_readable(client, tenants, name):
    a, _b = tenants

    response = client.get(url(name, a), **auth(api_token(a)))

    assert response.status_code == 200
    assert response.json()["id"] == API_ROUTES[name].kwargs(a)["pk"]


@pytest.mark.parametrize(("name", "method"), [(name, m) for name in OBJECT_ROUTES for m in API_ROUTES[name].methods])
def test_foreign_object_is_404_and_writes_nothing(client, tenants, name, method):
    a, b = tenants
    raw = api_token(a)
    before = audit_count(b)

    response = client.generic(method, url(name, b), "{}", content_type="application/json", **auth(raw))

    assert response.status_code == 404
    assert audit_count(b) == before


@pytest.mark.parametrize("name", WRITE_ROUTES)
def test_read_token_is_403_on_writes(client, tenants, name):
    a, _b = tenants
    raw = api_token(a, scope="read")
    before = audit_count(a)

    response = client.post(url(name, a), {}, content_type="application/json", **auth(raw))

    assert response.status_code == 403
    assert audit_count(a) == before


@pytest.mark.parametrize("name", PROTECTED)
def test_revoked_token_is_401(client, tenants, name):
    a, _b = tenants
    raw = api_token(a)
    with a.scope():
        revoke_api_token(token=ApiToken.objects.get(), membership=a.members[Role.OWNER])

    response = client.get(url(name, a), **auth(raw))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("name", PROTECTED)
def test_no_token_is_401(client, tenants, name):
    a, _b = tenants

    response = client.get(url(name, a))

    assert response.status_code == 401


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_schema_and_docs_are_public(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
