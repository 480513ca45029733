"""The pages agree with each other: one quarter and one shown month for every tile, column and chart; an open
escalation outranks a month on target; the QBR's executive summary says what the dashboard and the API say."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from engagements.models import SowVersion
from mls.enums import Role
from reporting import qbr, selectors
from slas import services
from slas.periods import Period
from tests.factories import api_token
from tests.factories.slas import session, sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

JULY, AUGUST, SEPTEMBER, OCTOBER = date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def engagement(tenant_a):
    """July and August: support first response breached (a formal review); Q3 and October finalized."""
    engagement, _ = sla_engagement(tenant_a, active_from=JULY)
    with tenant_a.scope():
        deliver_month(engagement, JULY, breached=frozenset({"support_first_response"}))
        deliver_month(engagement, AUGUST, breached=frozenset({"support_first_response"}))
        deliver_month(engagement, OCTOBER)
        services.finalize_due_periods(engagement=engagement, now=datetime(2026, 11, 10, tzinfo=UTC))
    return engagement


def test_shown_month_is_the_quarters_last_begun_month_never_one_outside_it():
    q3 = selectors.Quarter.named("2026-Q3", "Europe/London")

    assert selectors.ShownMonth.of(q3, date(2026, 11, 18)).month == SEPTEMBER  # a past quarter: its last month
    assert selectors.ShownMonth.of(q3, date(2026, 8, 5)).months == [JULY, AUGUST]  # the running quarter: so far
    assert OCTOBER not in selectors.ShownMonth.of(q3, date(2026, 11, 18))


def test_a_past_quarter_shows_its_own_last_measured_month_in_the_status_column_and_every_tile(
    client, tenant_a, engagement, time_machine
):
    time_machine.move_to(NOW, tick=False)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    slug = tenant_a.organization.slug

    org = text(client.get(reverse("reporting:dashboard", kwargs={"organization_slug": slug}) + "?quarter=2026-Q3"))
    tiles = client.get(
        reverse("reporting:engagement", kwargs={"organization_slug": slug, "pk": engagement.pk}) + "?quarter=2026-Q3"
    )

    # September (finalized, nothing to judge) is Q3's last month, not October, the engagement's latest overall;
    # the formal review open at its end outranks a month without a failing target
    assert "Formal review open September 2026 (final): 0 meeting, 0 breached, 4 not judged" in org
    assert "October 2026" not in org
    content = text(tiles)
    assert content.count("· Aug 2026") == 4  # each tile says its month, all inside Q3
    assert "Oct 2026" not in content
    # the sparklines end at September with month labels, a scale and the values spoken
    assert 'aria-label="Support first response, last 6 months: Apr no result' in tiles.content.decode()
    sparklines = re.findall(r'<svg class="chart chart--sparkline".*?</svg>', tiles.content.decode())
    assert len(sparklines) == 4
    assert all(">Sep</text>" in svg and ">Oct</text>" not in svg for svg in sparklines)


def test_an_open_escalation_outranks_a_month_on_target(tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=JULY)
    with tenant_a.scope():
        deliver_month(engagement, JULY, breached=frozenset({"support_first_response"}))
        services.finalize_due_periods(engagement=engagement, now=datetime(2026, 8, 10, tzinfo=UTC))
        deliver_month(engagement, AUGUST)  # on target so far: the notice stays open until a finalized met month
        services.compute_period(
            engagement=engagement, period=Period(AUGUST, engagement.timezone), now=datetime(2026, 8, 30, tzinfo=UTC)
        )
        engagements = selectors.engagements_on_dashboard(tenant_a.members[Role.OWNER])
        shown = selectors.ShownMonth.of(selectors.Quarter.named("2026-Q3", "Europe/London"), date(2026, 8, 30))
        [status] = selectors.sla_status(engagements, shown)
        tiles = {tile.metric.key: tile for tile in selectors.sla_tiles(engagements, date(2026, 8, 30), shown)}

    assert (status.month, status.failing, status.escalation) == (AUGUST, 0, "notice")
    assert status.rag == ("amber", "Notice open")  # not "On target"
    assert tiles["support_first_response"].rag.label == "Notice open"
    assert tiles["session_delivery_rate"].rag.label == "On target (provisional)"


def test_the_qbr_summary_says_what_the_dashboard_and_the_api_say(client, tenant_a, time_machine):
    """Q3 draft on 15 September: the July notice climbed to a formal review in August and is still open; a session
    is booked for next week (before the quarter ends); 2 billable learners against a forecast."""
    now = datetime(2026, 9, 15, 10, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    engagement, _ = sla_engagement(tenant_a, active_from=JULY)
    with tenant_a.scope():
        deliver_month(engagement, JULY, breached=frozenset({"support_first_response"}))
        deliver_month(engagement, AUGUST, breached=frozenset({"support_first_response"}))
        services.finalize_due_periods(engagement=engagement, now=datetime(2026, 9, 10, tzinfo=UTC))
        session(engagement, starts_at=datetime(2026, 9, 22, 9, tzinfo=UTC))
        content = qbr.qbr_content(
            engagement, qbr.Quarter.containing(now.date(), engagement.timezone), as_of=now, draft=True
        )
        html = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", qbr.render_html(content)))
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    slug = tenant_a.organization.slug
    dashboard = client.get(reverse("reporting:engagement", kwargs={"organization_slug": slug, "pk": engagement.pk}))
    raw = api_token(tenant_a)
    api_escalations = client.get(
        reverse("api:escalation-list"), {"engagement": engagement.pk}, HTTP_AUTHORIZATION=f"Token {raw}"
    ).json()
    api_sessions = client.get(
        reverse("api:session-list"),
        {"engagement": engagement.pk, "starts_after": now.isoformat(), "status": "confirmed"},
        HTTP_AUTHORIZATION=f"Token {raw}",
    ).json()

    board = text(dashboard)
    open_at_end = [(e.metric, e.level) for e in dashboard.context["escalations"]]
    assert (
        [(e.metric, e.level) for e in content.open_escalations]
        == open_at_end
        == [("support_first_response", "formal_review")]
    )
    print(html[html.find("Executive") :][:1500])
    assert f"Escalations {len(api_escalations['results'])} raised in {content.quarter.label}; 1 open at its end" in html
    assert "Escalations 0" not in html
    assert dashboard.context["overview"][0].learners == content.billable_learners
    assert f"{content.billable_learners} billable learner" in html
    assert "Formal review" in board
    assert len(dashboard.context["upcoming"]) == content.upcoming_session_count == len(api_sessions["results"]) == 1
    assert "Sessions scheduled 1 in the 90 days from 15 Sep 2026" in html
    assert "No session is scheduled yet." not in html


def test_within_forecast_shows_the_billable_learners_against_the_forecast_and_its_ceiling(tenant_a, time_machine):
    now = datetime(2026, 9, 15, 10, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    engagement, _ = sla_engagement(tenant_a, active_from=JULY)
    with tenant_a.scope():
        SowVersion.objects.filter(sow__engagement=engagement).update(
            forecast_learners=650, variance_threshold_percent=Decimal("20")
        )
        quarter = qbr.Quarter.containing(now.date(), engagement.timezone)
        content = qbr.qbr_content(engagement, quarter, as_of=now, draft=True)
        html = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", qbr.render_html(content)))

    assert content.forecast_ceiling == Decimal("780")  # pricing.variance_flag: above 650 × 1.2 recommends a change
    assert (
        "Volume variance Within forecast: billable learners Jul 0, Aug 0, Sep 0 against a forecast of 650 a month "
        "(a change order is recommended above 780, +20 %); 0 billable learners in the quarter"
    ) in html


def test_the_draft_qbr_runs_the_quarter_the_dashboard_shows_when_the_engagement_is_in_another_timezone(
    client, tenant_a, time_machine
):
    """1 October 2026 02:00 UTC is 03:00 on 1 October in London (the organization: Q4) and 19:00 on 30 September in
    Los Angeles (the engagement): the dashboard and the draft QBR both say Q4 2026."""
    time_machine.move_to(datetime(2026, 10, 1, 2, 0, tzinfo=UTC), tick=False)
    engagement, _ = sla_engagement(tenant_a, active_from=JULY)
    with tenant_a.scope():
        type(engagement).objects.filter(pk=engagement.pk).update(timezone="America/Los_Angeles")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    slug = tenant_a.organization.slug

    dashboard = client.get(reverse("reporting:dashboard", kwargs={"organization_slug": slug}))
    draft = client.get(reverse("reporting:qbr_draft", kwargs={"organization_slug": slug, "pk": engagement.pk}))

    assert (tenant_a.organization.timezone, dashboard.context["quarter"].key) == ("Europe/London", "2026-Q4")
    assert draft["Content-Disposition"] == 'attachment; filename="qbr-2026-Q4-DRAFT.pdf"'
