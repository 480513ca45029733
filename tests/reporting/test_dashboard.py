"""The dashboard pages: across engagements and per engagement, what each member may see, empty states, and a
number of queries that does not grow with the data."""

import copy
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from engagements.enums import EngagementStatus
from engagements.models import Engagement
from mls.enums import Role
from slas import services
from slas.periods import Period
from tests.conftest import Tenant
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import change_request, relief, session, sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
# The clock stands still on a weekday morning in Q4 2026; in London (the engagements' timezone) it is the same day.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def url(tenant, engagement: Engagement | None = None) -> str:
    slug = {"organization_slug": tenant.organization.slug}
    if engagement is None:
        return reverse("reporting:dashboard", kwargs=slug)
    return reverse("reporting:engagement", kwargs={**slug, "pk": engagement.pk})


def page(client, tenant, role: str, engagement: Engagement | None = None):
    client.force_login(tenant.user(role))
    return client.get(url(tenant, engagement))


def text(response) -> str:
    """The page as a reader hears it: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_dashboard_shows_each_engagements_latest_sla_month_and_open_escalations(client, tenant_a, tenant_b):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    foreign, _ = sla_engagement(tenant_b, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        deliver_month(engagement, APRIL, breached=frozenset({"instructor_rating"}))
        services.finalize_due_periods(engagement=engagement, now=datetime(2026, 4, 7, tzinfo=UTC))
        services.compute_period(
            engagement=engagement, period=Period(APRIL, engagement.timezone), now=datetime(2026, 4, 30, tzinfo=UTC)
        )

    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    response = client.get(url(tenant_a) + "?quarter=2026-Q2")  # Q4 (today's) has no SLA month: Q2 shows April
    content = text(response)

    assert f"{engagement.name} Northwind Learning At risk April 2026 (provisional): 3 meeting, 1 failing so far" in (
        content
    )  # instructor rating 3.00 < 4.20 in April
    # March's breach is a notice that stays open until support first response is met in a finalized month
    assert f"Notice {engagement.name} · Support first response · 1 breach by Mar 2026" in content
    assert foreign.name not in content
    dashboard_url = reverse(
        "reporting:engagement", kwargs={"organization_slug": tenant_a.organization.slug, "pk": engagement.pk}
    )
    assert f'href="{dashboard_url}"' in response.content.decode()


def test_dashboard_panels_say_so_when_there_is_nothing_to_show(client, tenant_a):
    content = text(page(client, tenant_a, Role.VIEWER))

    for empty_state in (
        "No engagement yet.",
        "No open escalation",
        "No fee statement yet this year.",
        "Nothing delivered yet in Q",
        "No session in the next 14 days.",
        "No upcoming contract date.",
        "Nothing waits for your side",
        "No mandatory training due yet.",
    ):
        assert empty_state in content


def test_engagement_dashboard_shows_every_target_as_a_tile_linked_to_its_drill_down(client, tenant_a):
    month = TODAY.replace(day=1)
    engagement, _ = sla_engagement(tenant_a, active_from=month)
    with tenant_a.scope():
        deliver_month(engagement, month, breached=frozenset({"instructor_rating"}))
        period = Period(month, engagement.timezone)
        services.compute_period(engagement=engagement, period=period, now=period.end)
        rating = engagement.measurements.get(metric="instructor_rating")

    response = page(client, tenant_a, Role.LD_DIRECTOR, engagement)
    content = text(response)

    assert response.status_code == 200
    assert (
        f"Instructor rating 3.00 of 5 Below target (provisional) target ≥ 4.2 of 5 · {month:%b %Y} "
        f"Instructor rating, last 6 months"
    ) in content
    assert "Session delivery rate 100.00 % On target (provisional) target ≥ 98 %" in content
    measurement_url = reverse(
        "slas:measurement", kwargs={"organization_slug": tenant_a.organization.slug, "pk": rating.pk}
    )
    assert f'href="{measurement_url}"' in response.content.decode()
    assert response.content.decode().count('<svg class="chart chart--sparkline" role="img"') == 4


def test_provider_manager_cannot_open_another_providers_engagement_dashboard(client, tenant_a):
    other = EngagementFactory(organization=tenant_a.organization)  # same client, another provider

    assert page(client, tenant_a, Role.PROVIDER_MANAGER, other).status_code == 404
    assert page(client, tenant_a, Role.VIEWER, other).status_code == 200


def engagements_with_everything(tenant, count: int) -> list[Engagement]:
    """`count` live engagements, each with a finalized breached month two months ago (breach, credit, escalation),
    the current month measured, a session tomorrow, a change request and a relief request awaiting the client."""
    today = TODAY
    current = today.replace(day=1)
    earlier = (current - timedelta(days=40)).replace(day=1)
    engagements = []
    for _ in range(count):
        engagement, _ = sla_engagement(tenant, active_from=earlier)
        engagements.append(engagement)
        with tenant.scope():
            Engagement.objects.filter(pk=engagement.pk).update(
                status=EngagementStatus.ACTIVE, end_date=today + timedelta(days=80)
            )
            deliver_month(engagement, earlier, breached=frozenset({"support_first_response"}))
            services.finalize_period(engagement=engagement, period=Period(earlier, engagement.timezone), now=NOW)
            services.compute_period(engagement=engagement, period=Period(current, engagement.timezone))
            session(engagement, starts_at=NOW + timedelta(days=1))
            change_request(engagement, tenant, NOW)
            relief(engagement, tenant, today, today, approve=False)
    return engagements


@pytest.fixture(scope="module")
def one_and_fifty(build_once):
    """An organization with one engagement with everything and one with fifty, built once for the query-count tests
    (building the fifty is their slow part)."""

    def build() -> tuple[Tenant, Tenant]:
        with time_machine.travel(NOW, tick=False):
            one, fifty = Tenant("Acme Corp", "acme-one"), Tenant("Acme Corp", "acme-fifty")
            engagements_with_everything(one, 1)
            engagements_with_everything(fifty, 50)
        return one, fifty

    return build_once(build)


@pytest.fixture
def dashboards(one_and_fifty, db) -> tuple[Tenant, Tenant]:
    return copy.deepcopy(one_and_fifty)


# The provider manager's page has no recent-activity panel (no audit log permission) and no spend chart (the
# client's commercials: its three grouped queries) and no "Get started" checklist (the client's setup, one query):
# five queries fewer.
@pytest.mark.parametrize(("role", "queries"), [(Role.LD_DIRECTOR, 22), (Role.PROVIDER_MANAGER, 17)])
@pytest.mark.slow
def test_dashboard_query_count_is_the_same_for_1_and_50_engagements(
    client, dashboards, django_assert_num_queries, role, queries
):
    one, fifty = dashboards
    client.force_login(one.user(role))
    with django_assert_num_queries(queries):
        one_page = client.get(url(one))
    client.force_login(fifty.user(role))

    with django_assert_num_queries(queries):
        fifty_page = client.get(url(fifty))

    assert text(one_page).count("Support first response · 1 breach by") == 1
    assert text(fifty_page).count("Support first response · 1 breach by") == 50
    assert text(fifty_page).count("Change request: ") == 50


@pytest.mark.slow
def test_engagement_dashboard_query_count_does_not_grow_with_the_data(client, dashboards, django_assert_num_queries):
    one, fifty = dashboards
    client.force_login(one.user(Role.LD_DIRECTOR))
    with one.scope():
        [only] = Engagement.objects.all()
    with django_assert_num_queries(20):
        client.get(url(one, only))
    with fifty.scope():
        engagement = Engagement.objects.order_by("pk").first()
        deliver_month(engagement, TODAY.replace(day=1))
    client.force_login(fifty.user(Role.LD_DIRECTOR))

    with django_assert_num_queries(20):
        response = client.get(url(fifty, engagement))

    assert text(response).count("Change request: ") == 1


def test_a_past_quarter_shows_its_results_and_volume_with_links_to_its_neighbours(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        services.finalize_due_periods(engagement=engagement, now=datetime(2026, 4, 7, tzinfo=UTC))
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    past = text(client.get(url(tenant_a), {"quarter": "2026-Q1"}))
    per_engagement = text(client.get(url(tenant_a, engagement), {"quarter": "2026-Q1"}))

    assert "← Q4 2025 Q1 2026 Q2 2026 → This quarter" in past
    assert "SLA results in Q1 2026 1 breach" in past
    assert "Volume in Q1 2026 Billable learners" in past
    assert "SLA results in Q1 2026 1 breach" in per_engagement
    this_quarter = text(client.get(url(tenant_a)))
    assert "Q4 2026 (this quarter)" in this_quarter
    assert "Nothing delivered yet in Q4 2026" in this_quarter


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("2026-Q5", "“2026-Q5” is not a quarter: write it like {key}."),
        ("2099-Q1", "Q1 2099 has not started yet."),
        ("2999-Q1", "“2999-Q1” is not a quarter: write it like {key}."),
    ],
)
def test_a_quarter_that_is_not_one_or_has_not_started_shows_this_quarter_and_says_why(client, tenant_a, asked, message):
    key, label = "2026-Q4", "Q4 2026"  # TODAY's quarter
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(url(tenant_a), {"quarter": asked})

    assert response.status_code == 200
    assert f"{message.format(key=key)} Showing {label}." in text(response)
    assert f"Volume in {label}" in text(response)
