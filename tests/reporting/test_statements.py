"""Fee statements per SoW and month (SPEC-SLA §6): itemized lines − the previous finalized month's credits + credits
earned back in it; the engagement's credits on its lead SoW only; volume variance; page, PDF and CSV."""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from engagements import pricing
from engagements import services as contract_services
from mls.enums import Role
from reporting import statements
from slas import services as sla_services
from slas.periods import Period
from tests.factories.engagements import SowFactory, SowVersionFactory, draft_retainer_version
from tests.factories.slas import sla_engagement
from tests.reporting.pdf_tools import pdf_text
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

FEBRUARY, MARCH, APRIL = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
FEB_BREACHES = frozenset({"support_first_response", "instructor_rating"})


def february_breached(tenant, **schedule):
    """Retainer 48,250.00, 12 % at risk = 5,790.00; February breaches support (40 %: 2,316.00) and instructor
    rating (25 %: 1,447.50), finalized on 7 March."""
    engagement, _ = sla_engagement(tenant, active_from=FEBRUARY, **schedule)
    with tenant.scope():
        deliver_month(engagement, FEBRUARY, breached=FEB_BREACHES)
        sla_services.finalize_due_periods(engagement=engagement, now=datetime(2026, 3, 7, tzinfo=UTC))
    return engagement


def test_statement_deducts_the_previous_finalized_months_credits(tenant_a):
    engagement = february_breached(tenant_a)
    with tenant_a.scope():
        statement = statements.fee_statement(engagement.sows.get(), MARCH)

    assert [(line.name, line.amount) for line in statement.lines] == [
        ("Learning operations retainer", Decimal("48250.00"))
    ]
    assert sorted((c.metric, c.amount) for c in statement.credits) == [
        ("instructor_rating", Decimal("1447.50")),
        ("support_first_response", Decimal("2316.00")),
    ]
    assert statement.total == Decimal("44486.50")  # 48,250.00 − 2,316.00 − 1,447.50


def test_statement_returns_credits_earned_back_in_the_previous_month(tenant_a):
    """Earn-back after one good month: March meets both targets, so February's credits come back on April's
    statement: 48,250.00 + 2,316.00 + 1,447.50 = 52,013.50 (March issued no credit)."""
    engagement = february_breached(tenant_a, earn_back_periods=1)
    with tenant_a.scope():
        deliver_month(engagement, MARCH)
        sla_services.finalize_due_periods(engagement=engagement, now=datetime(2026, 4, 7, tzinfo=UTC))
        statement = statements.fee_statement(engagement.sows.get(), APRIL)

    assert statement.credits == []
    assert sorted((c.metric, c.amount) for c in statement.earned_back) == [
        ("instructor_rating", Decimal("1447.50")),
        ("support_first_response", Decimal("2316.00")),
    ]
    assert statement.total == Decimal("52013.50")


def test_credits_wait_while_the_previous_month_is_provisional(tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=FEBRUARY)
    with tenant_a.scope():
        deliver_month(engagement, FEBRUARY, breached=FEB_BREACHES)
        sla_services.recompute_open_periods(engagement=engagement, now=datetime(2026, 3, 2, tzinfo=UTC))
        statement = statements.fee_statement(engagement.sows.get(), MARCH)

    assert (statement.credits, statement.credits_pending) == ([], True)
    assert statement.total == Decimal("48250.00")


def test_only_the_lead_sow_carries_the_engagements_credits(tenant_a):
    engagement = february_breached(tenant_a)
    with tenant_a.scope():
        lead = engagement.sows.get()
        other = SowFactory(engagement=engagement, reference="ZZ-TRAINING")
        contract_services.sign_version(
            version=draft_retainer_version(other, "1000.00"), actor=tenant_a.user(Role.OWNER)
        )

        on_lead = statements.fee_statement(lead, MARCH)
        on_other = statements.fee_statement(other, MARCH)

    assert (on_lead.carries_credits, on_lead.credits_total) == (True, Decimal("3763.50"))
    assert (on_other.carries_credits, on_other.credits, on_other.total) == (False, [], Decimal("1000.00"))
    assert on_other.lead_sow == lead


@pytest.mark.parametrize(("billable", "flagged"), [(12, False), (13, True)])
def test_change_order_is_recommended_above_forecast_plus_threshold(tenant_a, billable, flagged):
    """Forecast 10, threshold 20 %: more than 12 billable learners flags the statement."""
    with tenant_a.scope():
        version = SowVersionFactory(sow=SowFactory(organization=tenant_a.organization), forecast_learners=10)
        statement = statements.FeeStatement(
            sow=version.sow,
            period=Period(MARCH, "UTC"),
            version=version,
            usage=pricing.Usage(billable_learners=billable),
            lines=[],
            lead_sow=version.sow,
            previous=None,
            credits=[],
            earned_back=[],
        )

    assert statement.change_order_recommended is flagged


def _url(tenant, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def test_statement_csv_has_a_row_per_line_and_credit(client, tenant_a):
    engagement = february_breached(tenant_a)
    with tenant_a.scope():
        sow = engagement.sows.get()
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    response = client.get(_url(tenant_a, "reporting:statement_csv", pk=sow.pk, month="2026-03"))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["SoW", "Month", "Kind", "Item", "Basis", "Quantity", "Calculation", "Amount", "Currency"]
    assert rows[1][4:7] == ["Fixed monthly amount", "1", "Fixed fee £48,250.00"]
    assert [row[2:4] + row[7:] for row in rows[1:]] == [
        ["fee", "Learning operations retainer", "48250.00", "GBP"],
        ["service_credit", "Instructor rating", "-1447.50", "GBP"],
        ["service_credit", "Support first response", "-2316.00", "GBP"],
        ["total", "Amount due", "44486.50", "GBP"],
    ]
    assert response["Content-Disposition"] == f'attachment; filename="statement-{sow.reference}-2026-03.csv"'


def test_statement_page_and_pdf_show_lines_credits_and_total(client, tenant_a):
    engagement = february_breached(tenant_a)
    with tenant_a.scope():
        sow = engagement.sows.get()
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    page = client.get(_url(tenant_a, "reporting:statement", pk=sow.pk, month="2026-03")).content.decode()
    document = pdf_text(client.get(_url(tenant_a, "reporting:statement_pdf", pk=sow.pk, month="2026-03")).content)

    for text in (page, document):
        assert "48,250.00" in text
        assert "Service credit: Support first response" in text
        assert "−2,316.00" in text
        assert "44,486.50" in text


def test_a_month_that_is_not_a_month_is_404(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    with tenant_a.scope():
        sow = engagement.sows.get()
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    response = client.get(_url(tenant_a, "reporting:statement", pk=sow.pk, month="2026-13"))

    assert response.status_code == 404


@pytest.mark.parametrize("sows", [1, 3])
def test_statement_index_queries_do_not_grow_with_sows(client, tenant_a, django_assert_num_queries, sows):
    for _ in range(sows):
        sla_engagement(tenant_a)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    with django_assert_num_queries(7):
        response = client.get(_url(tenant_a, "reporting:statements"))

    assert response.content.decode().count("Credit ledger<span") == sows


def test_statement_page_reads_basis_and_calculation_for_people(client, tenant_a):
    engagement = february_breached(tenant_a)
    with tenant_a.scope():
        sow = engagement.sows.get()
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    html = client.get(_url(tenant_a, "reporting:statement", pk=sow.pk, month="2026-03")).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())

    # the basis by its label and the fixed fee with symbol and separators, never "fixed 48250.00"
    assert "Learning operations retainer Fixed monthly amount Fixed fee £48,250.00 48,250.00" in text
    # 48,250.00 − 1,447.50 − 2,316.00 = 44,486.50, spelled out in money
    assert "−£3,763.50" in text
    assert "fixed 48250.00" not in text
