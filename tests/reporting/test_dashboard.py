"""The dashboard's SLA panel: each visible engagement's latest month, red/amber/green, and recent escalations."""

from datetime import UTC, date, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mls.enums import Role
from slas import services
from slas.periods import Period
from tests.factories.slas import sla_engagement
from tests.slas.delivery import deliver_month

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def dashboard(client, tenant, role: str):
    client.force_login(tenant.user(role))
    return client.get(reverse("reporting:dashboard", kwargs={"organization_slug": tenant.organization.slug}))


def test_dashboard_shows_each_engagements_latest_sla_month_and_escalations(client, tenant_a, tenant_b):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    foreign, _ = sla_engagement(tenant_b, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        deliver_month(engagement, APRIL, breached=frozenset({"instructor_rating"}))
        services.finalize_due_periods(engagement=engagement, now=datetime(2026, 4, 7, tzinfo=UTC))
        services.compute_period(
            engagement=engagement, period=Period(APRIL, engagement.timezone), now=datetime(2026, 4, 30, tzinfo=UTC)
        )

    content = dashboard(client, tenant_a, Role.LD_DIRECTOR).content.decode()

    assert engagement.name in content
    assert "April 2026 (provisional):" in content
    assert "3 meeting, 1 failing so far" in content  # instructor rating 3.00 < 4.20 in April
    assert '<span class="badge badge--amber">At risk</span>' in content
    assert "Notice · " + engagement.name + " · Support first response · Mar 2026" in content
    assert foreign.name not in content


def test_dashboard_sla_panel_is_empty_without_results(client, tenant_a):
    content = dashboard(client, tenant_a, Role.VIEWER).content.decode()

    assert "No SLA results yet." in content


def test_dashboard_queries_do_not_grow_with_engagements(client, tenant_a, django_assert_max_num_queries):
    def engagements_with_results(count: int) -> None:
        for _ in range(count):
            engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
            with tenant_a.scope():
                services.compute_period(
                    engagement=engagement,
                    period=Period(MARCH, engagement.timezone),
                    now=datetime(2026, 3, 31, tzinfo=UTC),
                )

    engagements_with_results(1)
    client.force_login(tenant_a.user(Role.OWNER))
    url = reverse("reporting:dashboard", kwargs={"organization_slug": tenant_a.organization.slug})
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    engagements_with_results(4)

    with django_assert_max_num_queries(len(one)):
        response = client.get(url)
    assert response.content.decode().count("Not judged yet") == 5  # no delivery data: nothing to judge
