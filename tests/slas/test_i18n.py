"""The SLA pages in German: the scorecard, the credit arithmetic and the escalations read in German for a member
whose browser asks for it, a refusal lands on the form in German, a metric's description is composed in German,
and the "results are final" notification is written in the language active when the period is finalized."""

import re
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from django.utils import translation

from mls.enums import Role
from slas import services
from slas.catalog import METRICS
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

MARCH = date(2026, 3, 1)
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
def breached_march(tenant_a, django_capture_on_commit_callbacks):
    """March breaches three of the four targets and is finalized on 7 April (after the 5 grace days)."""
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    breached = frozenset({"support_first_response", "session_delivery_rate", "mandatory_training_on_time"})
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=breached)
        with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
            services.finalize_due_periods(engagement=engagement, now=datetime(2026, 4, 7, 12, tzinfo=UTC))
    return engagement


def test_scorecard_reads_in_german(client, tenant_a, breached_march):
    client.force_login(tenant_a.user(Role.VIEWER))

    html = client.get(org_url(tenant_a, "slas:engagement", pk=breached_march.pk), **GERMAN).content.decode()

    assert texts(html, r"<h1>(.*?)</h1>") == [f"SLA-Ergebnisse: {breached_march.name}"]
    assert texts(html, r"<h2[^>]*>(.*?)</h2>") == [
        "Bedingungen",
        "Scorecard",
        "Ziele",
        "Servicegutschriften",
        "Eskalationen",
        "Entlastung",
        "Manuelle Messungen",
    ]
    # Rows: session delivery (1 of 6 delivered = 16.67 %), support first response (0 of 5 tickets answered within
    # H = 8 hours), mandatory training (0 of 5 on time), instructor rating (five scores of 5 = 5.00).
    assert texts(html, r'<a class="rag [^"]*"[^>]*>(.*?)</a>') == [
        "16,67 % Verletzt Ziel ≥ 98 % · 6 Elemente",
        "0,00 % Verletzt Ziel ≥ 95 % · 5 Elemente",
        "0,00 % Verletzt Ziel ≥ 90 % · 5 Elemente",
        "5,00 von 5 Erfüllt Ziel ≥ 4,2 von 5 · 5 Bewertungen",
    ]
    assert 'Ungedeckelt 6.079,50 £ &gt; Risikobetrag: <span class="badge badge--amber">Gedeckelt</span>' in html
    assert "Engagement: 3 Ziele im Zeitraum verletzt." in html


def test_results_are_final_notification_is_german_when_finalized_in_german(tenant_a, breached_march, mailoutbox):
    subjects = sorted({message.subject for message in mailoutbox})

    assert subjects == [f"{breached_march.name}: Die SLA-Ergebnisse für März 2026 sind endgültig"]
    assert mailoutbox[0].body.splitlines()[:2] == ["4 Ziele gemessen, 3 verletzt.", "Servicegutschriften: 5.790,00 £."]


def test_schedule_refusal_is_german_on_the_form(client, tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    terms = {
        "at_risk_percent": "12",
        "grace_days": "5",
        "earn_back_periods": "3",
        "earn_back_margin": "0",
        "formal_review_after": "2",
        "exit_right_after": "1",
        "critical_breach_count": "3",
    }

    response = client.post(org_url(tenant_a, "slas:schedule", pk=engagement.pk), terms, **GERMAN)

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "exit_right_after": ["Das Ausstiegsrecht kann nicht vor der formellen Überprüfung greifen."]
    }
    assert response.context["title"] == f"Neue SLA-Vereinbarung von {engagement.name}"


@pytest.mark.parametrize(
    ("language", "description"),
    [
        ("en-gb", "Support tickets opened in the period; met when first response within H hours (threshold: 8 hours)."),
        (
            "de",
            "Im Zeitraum eröffnete Support-Tickets; erfüllt: erste Antwort innerhalb von H Stunden "
            "(Schwellenwert: 8 Stunden).",
        ),
    ],
)
def test_metric_description_is_composed_in_the_active_language(language, description):
    with translation.override(language):
        assert METRICS["support_first_response"].description == description
