"""Commercial privacy: a provider's account manager, and a token restricted to a provider, never read the client's
budget, its spend against it, the contract's annual value or the names of the client's other providers, on any
page, CSV export or API resource they can reach; the client's L&D director still reads them.

The pages come from the route matrix (tests/url_matrix.py), the API resources from its API part, so a new page or
resource is covered as soon as it is listed there."""

import copy
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from engagements.models import Engagement
from mls.enums import Role
from reporting.delivery_exports import CSV_EXPORTS
from slas.models import SlaPeriod
from tests.conftest import Tenant
from tests.factories import api_token
from tests.factories.api import api_objects
from tests.url_matrix import API_ROUTES, ORGANIZATION_ROUTES

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
ANNUAL_VALUE = Decimal("579000.00")  # the factory's; the liability cap at 1× is the same figure
ANNUAL_BUDGET = Decimal("612345.00")
MARCH, MARCH_FEE = date(2026, 3, 1), Decimal("48250.00")
# What must not reach the provider: the figures in every spelling a page or a JSON answer uses, the budget's
# monthly twelfth (the spend chart's line: 612,345.00 / 12 = 51,028.75), and the client's other provider; on pages
# also the words that introduce the figures (the API's field names are its schema's, their values are null).
FIGURES = ("579,000", "579000", "612,345", "612345", "51,028.75", "51028.75", "Southwind Training")
LABELS = ("budget", "annual value", "liability cap")


def leaks(text: str, secrets: tuple[str, ...] = FIGURES + LABELS) -> list[str]:
    folded = text.casefold()
    return [secret for secret in secrets if secret.casefold() in folded]


def readable(response) -> str:
    """Everything the answer holds, tags and attributes too (a chart's labels, a select's options)."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def words(response) -> str:
    """The page as a reader hears it: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", readable(response)))


def _client_with_two_providers(slug: str, *, api_rows: bool) -> Tenant:
    """The matrix's route objects, a second provider (Southwind Training) and a budget of its own on the contract.
    The API's extra rows (`api_rows`) include a credit on a provisional month, which the SLA page cannot show: the
    pages get a tenant without them."""
    tenant = Tenant("Acme Corp", slug).with_route_objects().with_second_provider()
    if api_rows:
        tenant.api = api_objects(tenant)
    engagement = tenant.contract.engagement
    with tenant.scope():
        Engagement.objects.filter(pk=engagement.pk).update(annual_budget=ANNUAL_BUDGET)
        # March's fee as the SLA engine stores it: one fee month of spend this year, against 1/12 of the budget.
        SlaPeriod.objects.filter(engagement=engagement, month=MARCH).update(monthly_fee=MARCH_FEE)
    return tenant


@pytest.fixture(scope="module")
def privacy_tenants(build_once):
    def build() -> tuple[Tenant, Tenant]:
        with time_machine.travel(NOW, tick=False):
            return (
                _client_with_two_providers("acme-privacy", api_rows=False),
                _client_with_two_providers("acme-privacy-api", api_rows=True),
            )

    return build_once(build)


@pytest.fixture
def tenant(privacy_tenants, db, time_machine) -> Tenant:
    time_machine.move_to(NOW, tick=False)
    return copy.deepcopy(privacy_tenants[0])


@pytest.fixture
def api_tenant(privacy_tenants, db, time_machine) -> Tenant:
    time_machine.move_to(NOW, tick=False)
    return copy.deepcopy(privacy_tenants[1])


def page_url(tenant: Tenant, name: str) -> str:
    kwargs = ORGANIZATION_ROUTES[name].kwargs(tenant)
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


PROVIDER_PAGES = sorted(
    name
    for name, route in ORGANIZATION_ROUTES.items()
    if Role.PROVIDER_MANAGER in route.allowed_roles and "GET" in route.methods
)


@pytest.mark.parametrize("name", PROVIDER_PAGES)
def test_a_provider_manager_reads_no_commercial_figure_nor_other_provider_on_any_page(client, tenant, name):
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.get(page_url(tenant, name), follow=True)

    assert response.status_code == 200
    assert leaks(readable(response)) == []


@pytest.mark.parametrize("kind", sorted(CSV_EXPORTS))
def test_a_provider_managers_csv_exports_hold_no_commercial_figure_nor_other_provider(client, tenant, kind):
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    url = reverse("reporting:export_csv", kwargs={"organization_slug": tenant.organization.slug, "kind": kind})

    response = client.get(url)

    assert response.status_code == 200
    assert leaks(readable(response)) == []


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        # Spend of the year against the budget pro-rated over March's fee month: 612,345.00 / 12 = 51,028.75.
        ("reporting:dashboard", ["Spend of budget 2026", "£48,250.00 of £51,028.75", "Southwind Training"]),
        ("reporting:engagement", ["Budget for the same months: £51,028.75", "monthly budget"]),
        ("engagements:detail", ["Annual value £579,000.00", "Annual budget £612,345.00", "Liability cap"]),
    ],
)
def test_the_clients_director_still_reads_the_commercial_figures(client, tenant, name, shown):
    client.force_login(tenant.user(Role.LD_DIRECTOR))

    text = words(client.get(page_url(tenant, name)))

    assert [phrase for phrase in shown if phrase not in text] == []


def test_the_provider_managers_dashboard_lists_its_own_provider_only(client, tenant):
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.get(page_url(tenant, "reporting:dashboard"))

    assert [provider.name for provider in response.context["providers"]] == ["Northwind Learning"]


# --- API -------------------------------------------------------------------------------------------------------

API_READS = sorted(
    name for name, route in API_ROUTES.items() if "GET" in route.methods and not route.document and route.kwargs
) + sorted(name for name, route in API_ROUTES.items() if route.kwargs is None and name.endswith("-list"))
DOCUMENTATION = {"api:schema", "api:docs", "api:redoc"}


def api_url(tenant: Tenant, name: str) -> str:
    build = API_ROUTES[name].kwargs
    return reverse(name, kwargs=build(tenant) if build else {})


def provider_token(tenant: Tenant) -> str:
    return api_token(tenant, scope="read", provider=tenant.provider)


@pytest.mark.parametrize("name", sorted(set(API_READS) - DOCUMENTATION))
def test_a_provider_token_reads_no_commercial_figure_nor_other_provider_from_any_resource(client, api_tenant, name):
    token = provider_token(api_tenant)

    response = client.get(api_url(api_tenant, name), HTTP_AUTHORIZATION=f"Token {token}")

    # Statements want ?sow=&month= (400); the audit log is client-side (403); a hidden row is 404.
    assert response.status_code in (200, 400, 403, 404)
    assert leaks(readable(response), FIGURES) == []


@pytest.mark.parametrize("credential", ["token", "session"])
def test_a_provider_caller_gets_the_engagements_commercial_fields_as_null(client, api_tenant, credential):
    url = api_url(api_tenant, "api:engagement-detail")
    if credential == "token":
        headers = {"HTTP_AUTHORIZATION": f"Token {provider_token(api_tenant)}"}
    else:
        client.force_login(api_tenant.user(Role.PROVIDER_MANAGER))
        headers = {"HTTP_X_MLS_ORGANIZATION": api_tenant.organization.slug}

    detail = client.get(url, **headers).json()
    listed = client.get(api_url(api_tenant, "api:engagement-list"), **headers).json()["results"]

    assert (detail["annual_value"], detail["annual_budget"]) == (None, None)
    assert {(row["annual_value"], row["annual_budget"]) for row in listed} == {(None, None)}


def test_the_clients_token_reads_the_engagements_commercial_fields(client, api_tenant):
    token = api_token(api_tenant, scope="read")

    detail = client.get(api_url(api_tenant, "api:engagement-detail"), HTTP_AUTHORIZATION=f"Token {token}").json()

    assert (detail["annual_value"], detail["annual_budget"]) == ("579000.00", "612345.00")
