"""Periods in the API: `sla-periods` (month, provisional or finalized, the fee and the amount at risk, as_of) and
`?month=YYYY-MM` on periods, measurements, credits and escalations; a bad month is a 400 field error."""

from datetime import UTC, date, datetime

import pytest

from slas.enums import PeriodStatus
from slas.models import SlaPeriod
from tests.factories import api_token
from tests.factories.slas import finalized, measured, sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

FINALIZED_BY = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)  # March's grace days (5) are long over
APRIL_AS_OF = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


@pytest.fixture
def token(tenant_a):
    return api_token(tenant_a)


@pytest.fixture
def history(tenant_a, tenant_b):
    """Tenant A: March delivered with support first response breached and finalized, April measured
    (provisional). Tenant B has the same months, which must never show."""
    engagements = {}
    for tenant in (tenant_a, tenant_b):
        engagement, _ = sla_engagement(tenant, active_from=date(2026, 3, 1))
        with tenant.scope():
            deliver_month(engagement, date(2026, 3, 1), breached=frozenset({"support_first_response"}))
            deliver_month(engagement, date(2026, 4, 1))
            finalized(engagement, "2026-03", FINALIZED_BY)
            measured(engagement, "2026-04", APRIL_AS_OF)
        engagements[tenant] = engagement
    return engagements[tenant_a]


def test_periods_show_month_status_fee_at_risk_and_as_of(client, tenant_a, history, token):
    response = client.get(f"/api/v1/sla-periods/?engagement={history.pk}", **auth(token))

    assert response.status_code == 200
    rows = [
        {key: row[key] for key in ("engagement", "month", "status", "monthly_fee", "at_risk", "as_of")}
        for row in response.json()["results"]
    ]
    assert rows == [
        # Finalized: the retainer's 48,250.00 × 12 % = 5,790.00 at risk; as of the period's end + 5 grace days,
        # midnight of 6 April in London (BST), moments being shown in the organization's zone.
        {
            "engagement": history.pk,
            "month": "2026-03",
            "status": "finalized",
            "monthly_fee": "48250.00",
            "at_risk": "5790.00",
            "as_of": "2026-04-06T00:00:00+01:00",
        },
        # Provisional: no fee or at-risk amount yet; as of the moment it was measured, 12:00 UTC.
        {
            "engagement": history.pk,
            "month": "2026-04",
            "status": "provisional",
            "monthly_fee": None,
            "at_risk": None,
            "as_of": "2026-04-20T13:00:00+01:00",
        },
    ]


@pytest.mark.parametrize(
    ("query", "months"),
    [
        ("month=2026-03", ["2026-03"]),
        ("month=2026-04", ["2026-04"]),
        ("month=2026-05", []),
        ("status=finalized", ["2026-03"]),
        ("status=provisional&month=2026-04", ["2026-04"]),
    ],
)
def test_periods_filter_by_month_and_status(client, tenant_a, history, token, query, months):
    response = client.get(f"/api/v1/sla-periods/?{query}", **auth(token))

    assert [row["month"] for row in response.json()["results"]] == months


def test_a_period_reads_by_id_and_another_tenants_is_404(client, tenant_a, tenant_b, history, token):
    with tenant_a.scope():
        ours = SlaPeriod.objects.get(month=date(2026, 3, 1))
    with tenant_b.scope():
        theirs = SlaPeriod.objects.get(month=date(2026, 3, 1))

    own = client.get(f"/api/v1/sla-periods/{ours.pk}/", **auth(token))
    foreign = client.get(f"/api/v1/sla-periods/{theirs.pk}/", **auth(token))

    assert (own.status_code, own.json()["status"], own.json()["at_risk_percent"]) == (200, "finalized", "12.00")
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("resource", "march", "april"),
    [
        # Four targets measured each month; March's support first response breached: one credit, one escalation.
        ("measurements", 4, 4),
        ("credits", 1, 0),
        ("escalations", 1, 0),
    ],
)
def test_results_filter_by_the_month_of_their_period(client, tenant_a, history, token, resource, march, april):
    counts = [
        len(client.get(f"/api/v1/{resource}/?month={month}", **auth(token)).json()["results"])
        for month in ("2026-03", "2026-04", "2026-05")
    ]

    assert counts == [march, april, 0]


@pytest.mark.parametrize("resource", ["sla-periods", "measurements", "credits", "escalations"])
@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("0001-01", "Give a month of the years 1900 to 2200."),
        ("9999-12", "Give a month of the years 1900 to 2200."),
        ("2026-13", "'2026-13' is not a month; use YYYY-MM, e.g. 2026-09."),
        ("2026-3", "'2026-3' is not a month; use YYYY-MM, e.g. 2026-09."),
        ("2026-03-01", "'2026-03-01' is not a month; use YYYY-MM, e.g. 2026-09."),
        ("", "'' is not a month; use YYYY-MM, e.g. 2026-09."),
    ],
)
def test_a_bad_month_is_a_400_field_error(client, tenant_a, token, resource, month, message):
    response = client.get(f"/api/v1/{resource}/", {"month": month}, **auth(token))

    assert response.status_code == 400
    assert response.json() == {"month": [message]}


def test_the_oldest_and_newest_accepted_months_filter_without_error(client, tenant_a, token):
    responses = [
        client.get("/api/v1/sla-periods/", {"month": month}, **auth(token)) for month in ("1900-01", "2200-12")
    ]

    assert [(r.status_code, r.json()["results"]) for r in responses] == [(200, []), (200, [])]


@pytest.mark.parametrize("count", [1, 3])
def test_period_list_queries_do_not_grow_with_rows(client, tenant_a, token, count, django_assert_num_queries):
    engagement, _ = sla_engagement(tenant_a, targets={})
    with tenant_a.scope():
        SlaPeriod.objects.bulk_create(
            SlaPeriod(
                organization=tenant_a.organization,
                engagement=engagement,
                month=date(2026, month, 1),
                status=PeriodStatus.PROVISIONAL,
            )
            for month in range(1, count + 1)
        )

    # The caller (token, organization and owner in one), the token's first "last used", the page.
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/sla-periods/?engagement={engagement.pk}", **auth(token))

    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("month", ["9999-12", "0001-01"])
def test_a_statement_of_a_month_without_utc_bounds_is_a_400_field_error(client, tenant_a, token, month):
    engagement, _ = sla_engagement(tenant_a, targets={})
    with tenant_a.scope():
        sow = engagement.sows.get()

    response = client.get("/api/v1/statements/", {"sow": sow.pk, "month": month}, **auth(token))

    assert (response.status_code, response.json()) == (400, {"month": ["Give the month as YYYY-MM."]})
