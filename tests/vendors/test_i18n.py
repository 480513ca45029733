"""The vendors pages in German: a member whose browser asks for German reads the supplier list, the expiry badges
and a service's refusal on the form in German; without the header they stay English (the default language)."""

import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from mls.enums import Role
from vendors.models import Supplier

pytestmark = pytest.mark.integration

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}


@pytest.fixture(autouse=True)
def english_afterwards():
    """LocaleMiddleware leaves a German request's language active in the thread: the next test starts in English."""
    yield
    translation.deactivate()


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def texts(html: str, tag: str) -> list[str]:
    """The text of every `<tag>` of the page, tags inside it removed."""
    return [re.sub(r"<[^>]+>", "", inner).strip() for inner in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html, re.S)]


@time_machine.travel("2027-06-10 09:00Z", tick=False)
def test_supplier_list_reads_in_german_with_its_expiry_badges(client, tenant_a):
    Supplier.objects.create(
        organization=tenant_a.organization,
        provider=tenant_a.provider,
        name="Brightpath",
        contract_expires_on=date(2027, 6, 15),
        insurance_expires_on=date(2027, 6, 1),
    )
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    html = client.get(org_url(tenant_a, "vendors:suppliers"), **GERMAN).content.decode()

    assert texts(html, "h1") == ["Lieferanten und Trainer"]
    assert texts(html, "h2") == ["Leistung der Lieferanten", "Trainer"]
    assert re.findall(r'<span class="badge[^"]*">([^<]*)</span>', html) == [
        "Läuft am 15 Jun 2027 ab (in 5 Tagen)",
        "Abgelaufen am 1 Jun 2027",
    ]


def test_duplicate_supplier_name_is_refused_in_german(client, tenant_a):
    Supplier.objects.create(organization=tenant_a.organization, provider=tenant_a.provider, name="Brightpath")
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "vendors:supplier_create"), {"name": "Brightpath", "provider": tenant_a.provider.pk}, **GERMAN
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "name": ["Northwind Learning hat bereits einen Lieferanten namens Brightpath."]
    }
    assert texts(response.content.decode(), "label")[:3] == ["Name *", "Anbieter *", "Kategorien"]


def test_without_a_language_the_providers_page_stays_english(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    html = client.get(org_url(tenant_a, "vendors:providers")).content.decode()

    assert texts(html, "h1") == ["Providers"]
