"""The contract pages in German: a member whose browser asks for German reads the engagement page, its form's
labels and refusals in German; an API client sending `Accept-Language: de` gets its 400 in German; a contract
reminder is written in the language active when it is sent. Without a language everything stays English."""

import re
from datetime import date

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from engagements import services
from mls.enums import Role
from tests.factories import api_token
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}


@pytest.fixture(autouse=True)
def english_afterwards():
    """LocaleMiddleware leaves a German request's language active in the thread: the next test starts in English."""
    yield
    translation.deactivate()


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def texts(html: str, pattern: str) -> list[str]:
    """The text of every match of `pattern` (one group), tags inside it removed and whitespace collapsed."""
    return [" ".join(re.sub(r"<[^>]+>", "", inner).split()) for inner in re.findall(pattern, html, re.S)]


@pytest.fixture
def engagement(tenant_a):
    # Ends 31 Dec 2027, renews automatically with 90 days' notice (by 2 Oct 2027), 60 days to terminate.
    return EngagementFactory(
        organization=tenant_a.organization,
        provider=tenant_a.provider,
        name="Acme learning operations",
        status="active",
        start_date=date(2025, 1, 1),
        end_date=date(2027, 12, 31),
        auto_renewal=True,
        renewal_notice_days=90,
        termination_notice_days=60,
        transition_period_days=90,
    )


def test_engagement_page_reads_in_german(client, tenant_a, engagement):
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    html = client.get(org_url(tenant_a, "engagements:detail", pk=engagement.pk), **GERMAN).content.decode()

    assert texts(html, r"<h2[^>]*>(.*?)</h2>") == [
        "Leistungsbeschreibungen (SoWs)",
        "Änderungsanträge",
        "Governance-Besprechungen",
        "Streitfälle",
        "Vertragsdaten",
        "MSA-Bedingungen",
    ]
    assert texts(html, r"<dt>(.*?)</dt>")[:4] == [
        "Laufzeit",
        "Automatische Verlängerung",
        "Ordentliche Kündigung",
        "Ende der Übergangszeit",
    ]
    assert "Ja: Kündigung bis <strong>2 Okt 2027</strong> (90 Tage)" in html
    assert "60 Tage Kündigungsfrist: Für ein Ende zum Enddatum kündigen Sie bis 1 Nov 2027" in html


def test_msa_form_labels_and_refusal_read_in_german(client, tenant_a, engagement):
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    url = org_url(tenant_a, "engagements:edit", pk=engagement.pk)
    form = client.get(url).context["form"]
    terms = {name: form[name].value() for name in form.fields if form[name].value() is not None}

    response = client.post(url, {**terms, "start_date": "2028-01-01", "end_date": "2027-12-31"}, **GERMAN)

    assert response.status_code == 400
    assert response.context["form"].errors == {"end_date": ["Das Ende muss nach dem Beginn liegen."]}
    assert response.context["title"] == "Acme learning operations bearbeiten"
    assert texts(response.content.decode(), r"<label[^>]*>(.*?)</label>")[:3] == ["Name *", "Anbieter *", "Externe ID"]


def test_api_refusal_is_german_with_accept_language(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a)  # one SoW, its retainer version signed: no draft to price
    with tenant_a.scope():
        sow = engagement.sows.get()
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token(tenant_a)}"}
    body = {"name": "Learners", "basis": "fixed", "amount": "100.00"}

    german = client.post(
        f"/api/v1/sows/{sow.pk}/service-lines/", body, content_type="application/json", **headers, **GERMAN
    )
    english = client.post(f"/api/v1/sows/{sow.pk}/service-lines/", body, content_type="application/json", **headers)

    assert (german.status_code, german.json()) == (
        400,
        {
            "non_field_errors": [
                "Dieser SoW hat keine Entwurfsversion: Ein unterzeichneter SoW ändert sich nur über einen "
                "Änderungsantrag."
            ]
        },
    )
    assert english.json() == {
        "non_field_errors": ["This SoW has no draft version: a signed SoW changes through a change request."]
    }


def test_contract_reminder_is_written_in_the_active_language(tenant_a, engagement, django_capture_on_commit_callbacks):
    # 4 Jul 2027 is 90 days before the renewal notice deadline of 2 Oct 2027.
    with tenant_a.scope(), translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        services.send_contract_reminders(today=date(2027, 7, 4))

    [message] = mail.outbox
    assert message.subject == "Acme learning operations: Frist vor der automatischen Verlängerung in 90 Tagen"
    assert message.body.splitlines()[0] == (
        "Frist vor der automatischen Verlängerung von Acme learning operations mit Northwind Learning ist am "
        "02 Oktober 2027."
    )


def test_contract_review_findings_read_in_german(client, tenant_a):
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    response = client.post(
        org_url(tenant_a, "engagements:contract_review"),
        {"text": "The provider will use best efforts to confirm sessions. All data stays with the provider."},
        **GERMAN,
    )

    html = response.content.decode()
    assert texts(html, r"<h2>(.*?)</h2>") == ["3 Warnsignale"]
    assert texts(html, r"<h3>(.*?)</h3>") == [
        "Hoch „Bestmögliche Anstrengungen“ statt einer Zusage",
        "Hoch Keine Klausel zu Datenexport oder Portabilität",
        "Mittel Anzahl der SLA-Kennzahlen außerhalb von 5-8",
    ]
    assert "0 SLA-Kennzahlen gefunden; anzustreben sind 5-8" in html
