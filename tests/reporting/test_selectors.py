"""The dashboard's figures on a hand-computed engagement: the quarter's breaches and credits, spend against budget,
volume, open escalations, contract dates and what waits for each side."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from engagements.enums import EngagementStatus
from engagements.models import ContractMilestone
from mls.enums import Role
from reporting import selectors
from scheduling.enums import SessionStatus
from scheduling.models import Completion
from slas import services
from slas.enums import EscalationLevel, ManualStatus
from slas.models import ManualMeasurement
from slas.periods import Period
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import attendance, change_request, enrollment, learner, relief, session, sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.unit

JUNE, JULY, AUGUST, SEPTEMBER = date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)
TODAY = date(2026, 9, 15)
Q3 = selectors.Quarter.containing(TODAY, "Europe/London")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def engagement(tenant_a):
    """July: support first response breached; August: support and instructor rating breached; both finalized."""
    engagement, _ = sla_engagement(tenant_a, active_from=JULY)
    engagement.annual_budget = Decimal("600000.00")
    engagement.save()
    with tenant_a.scope():
        deliver_month(engagement, JULY, breached=frozenset({"support_first_response"}))
        deliver_month(engagement, AUGUST, breached=frozenset({"support_first_response", "instructor_rating"}))
        services.finalize_due_periods(engagement=engagement, now=at(date(2026, 9, 10)))
    return engagement


def overview(tenant, engagement):
    with tenant.scope():
        return selectors.engagement_overview(
            selectors.engagements_on_dashboard(tenant.members[Role.OWNER], engagement.pk), Q3, TODAY
        )


def test_quarter_is_the_calendar_quarter_of_the_organizations_timezone():
    quarter = selectors.Quarter.containing(date(2026, 9, 30), "Pacific/Auckland")

    assert (quarter.start, quarter.end, quarter.label) == (date(2026, 7, 1), date(2026, 10, 1), "Q3 2026")
    assert quarter.starts_at == datetime(2026, 6, 30, 12, tzinfo=UTC)  # NZST +12
    assert quarter.ends_at == datetime(2026, 9, 30, 11, tzinfo=UTC)  # NZDT +13 since 27 September


def test_overview_counts_the_quarters_breaches_and_credits_and_the_years_spend(tenant_a, engagement):
    [row] = overview(tenant_a, engagement)

    assert row.breaches == 3  # July: support; August: support and instructor rating
    # at risk 12 % of 48,250.00 = 5,790.00; support 40 % = 2,316.00 twice, instructor rating 25 % = 1,447.50
    assert row.credits == Decimal("6079.50")
    assert row.fees == Decimal("96500.00")  # two finalized months of the 48,250.00 retainer
    assert row.spend == Decimal("90420.50")  # 96,500.00 - 6,079.50 credits, nothing earned back
    assert row.budget_to_date == Decimal("100000.00")  # 600,000.00 × 2 months / 12
    assert row.over_budget is False


def test_overview_volume_follows_the_billable_learner_and_utilization_definitions(tenant_a, engagement):
    with tenant_a.scope():
        roster = session(engagement, starts_at=at(date(2026, 7, 20)), status=SessionStatus.DELIVERED)
        present = [enrollment(roster, at(date(2026, 7, 1))) for _ in range(2)]
        for seat in present:
            attendance(seat)
        attendance(enrollment(roster, at(date(2026, 7, 1))), present=False)
        # a self-paced completion of a course the engagement delivers; one by a learner already present
        Completion.objects.create(
            organization=engagement.organization,
            learner=learner(engagement),
            course=roster.course,
            completed_at=at(date(2026, 8, 5)),
        )
        Completion.objects.create(
            organization=engagement.organization,
            learner=present[0].learner,
            course=roster.course,
            completed_at=at(date(2026, 8, 6)),
        )
        # outside the quarter: June
        june = session(engagement, starts_at=at(date(2026, 6, 20)), status=SessionStatus.DELIVERED)
        attendance(enrollment(june, at(date(2026, 6, 1))))

    [row] = overview(tenant_a, engagement)

    assert row.learners == 3  # two present in July + one with only a completion
    assert row.sessions == 13  # 6 delivered sessions a month in July and August, plus the roster session
    assert row.delivered_hours == Decimal("39.00")  # 13 × 3 h
    assert (row.attended_seats, row.seats) == (2, 130)
    assert row.utilization == Decimal("1.54")  # 100 × 2 / 130 = 1.538…


def test_open_escalations_keep_the_top_rung_until_a_met_period(tenant_a, engagement):
    owner = tenant_a.members[Role.OWNER]
    with tenant_a.scope():
        engagements = selectors.engagements_on_dashboard(owner)
        before = [(e.metric, e.level) for e in selectors.open_escalations(engagements)]
        deliver_month(engagement, SEPTEMBER)
        services.finalize_due_periods(engagement=engagement, now=at(date(2026, 10, 10)))
        after = list(selectors.open_escalations(engagements))

    assert before == [
        ("support_first_response", EscalationLevel.FORMAL_REVIEW),
        ("instructor_rating", EscalationLevel.NOTICE),
    ]
    assert after == []  # September met both targets: the streaks are reset


def test_sla_tiles_show_each_target_with_the_latest_value_and_six_months_of_trend(tenant_a, engagement):
    with tenant_a.scope():
        # September so far has nothing to judge: two delivered sessions give a value (100 %) but are fewer than the
        # target's five-item sample, so the tiles keep showing August's results
        for day in (date(2026, 9, 1), date(2026, 9, 2)):
            session(engagement, starts_at=at(day), requested_at=at(date(2026, 8, 3)), status=SessionStatus.DELIVERED)
        services.compute_period(engagement=engagement, period=Period(SEPTEMBER, engagement.timezone), now=at(TODAY))
        tiles = selectors.sla_tiles(selectors.engagements_on_dashboard(tenant_a.members[Role.OWNER]), TODAY)

    assert [(t.metric.key, t.rag.label) for t in tiles] == [
        ("session_delivery_rate", "Met"),
        ("support_first_response", "Breached"),
        ("mandatory_training_on_time", "Met"),
        ("instructor_rating", "Breached"),
    ]
    assert tiles[0].latest.period.month == AUGUST  # not September's unjudged 100 %
    rating = tiles[3]
    assert rating.trend == [None, None, None, Decimal("5.00"), Decimal("3.00"), None]  # Apr–Sep
    assert rating.latest.period.month == AUGUST
    assert "Instructor rating, last 6 months: no result, no result, no result, 5, 3, no result; target 4.2" in (
        rating.sparkline
    )


def test_contract_dates_are_the_coming_milestones_with_deadlines_within_30_days_flagged(tenant_a):
    engagement = EngagementFactory(
        organization=tenant_a.organization,
        provider=tenant_a.provider,
        status=EngagementStatus.ACTIVE,
        end_date=date(2026, 12, 31),
        renewal_notice_days=90,
        termination_notice_days=60,
    )
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)  # a draft: no dates

    with tenant_a.scope():
        dates = selectors.contract_dates(selectors.engagements_on_dashboard(tenant_a.members[Role.OWNER]), TODAY)

    assert [(d.engagement, d.milestone, d.on, d.days_left, d.soon) for d in dates] == [
        (engagement, ContractMilestone.RENEWAL_NOTICE_DEADLINE, date(2026, 10, 2), 17, True),
        (engagement, ContractMilestone.TERMINATION_NOTICE_DEADLINE, date(2026, 11, 1), 47, False),
        (engagement, ContractMilestone.RENEWAL_DATE, date(2026, 12, 31), 107, False),
        (engagement, ContractMilestone.TRANSITION_END, date(2027, 3, 31), 197, False),
    ]
    assert [d.is_deadline for d in dates] == [True, True, False, False]


def test_pending_items_are_those_awaiting_the_members_side(tenant_a, engagement):
    client_side, provider_side = tenant_a.members[Role.LD_DIRECTOR], tenant_a.members[Role.PROVIDER_MANAGER]
    with tenant_a.scope():
        submitted = change_request(engagement, tenant_a, at(date(2026, 9, 1)))
        approved_by_client = change_request(engagement, tenant_a, at(date(2026, 9, 2)), responded_at=at(TODAY))
        requested = relief(engagement, tenant_a, date(2026, 9, 7), date(2026, 9, 8), approve=False)
        by_provider = ManualMeasurement.objects.create(
            organization=engagement.organization,
            engagement=engagement,
            month=AUGUST,
            metric="completion_reporting_accuracy",
            value=Decimal("99"),
            sample_size=40,
            evidence="evidence/audit.pdf",
            submitted_side="provider",
            status=ManualStatus.SUBMITTED,
        )
        engagements = selectors.engagements_on_dashboard(client_side)
        for_client = (
            list(selectors.pending_change_requests(client_side, engagements)),
            list(selectors.pending_manual_values(client_side, engagements)),
        )
        for_provider = (
            list(selectors.pending_change_requests(provider_side, engagements)),
            list(selectors.pending_manual_values(provider_side, engagements)),
        )
        relief_requests = list(selectors.pending_relief(engagements))

    assert for_client == ([submitted], [by_provider])
    assert for_provider == ([submitted, approved_by_client], [])
    assert relief_requests == [requested]


def test_spend_chart_draws_each_month_of_the_year_against_the_monthly_budget(tenant_a, engagement):
    with tenant_a.scope():
        chart = selectors.spend_chart(
            selectors.engagements_on_dashboard(tenant_a.members[Role.OWNER]), "GBP", TODAY, Decimal("600000.00")
        )

    # July 48,250.00 - 2,316.00 = 45,934.00; August 48,250.00 - 2,316.00 - 1,447.50 = 44,486.50; budget 600,000 / 12
    assert (
        "Jan: no result; Feb: no result; Mar: no result; Apr: no result; May: no result; Jun: no result; "
        "Jul: 45,934 GBP; Aug: 44,486.5 GBP; Sep: no result; monthly budget 50,000 GBP"
    ) in chart


def test_provider_manager_dashboard_reads_only_its_providers_engagements(tenant_a, engagement):
    other = EngagementFactory(organization=tenant_a.organization)  # another provider of the same client
    with tenant_a.scope():
        seen = list(selectors.engagements_on_dashboard(tenant_a.members[Role.PROVIDER_MANAGER]))
        everything = list(selectors.engagements_on_dashboard(tenant_a.members[Role.VIEWER]))

    assert seen == [engagement]
    assert sorted(e.pk for e in everything) == sorted([engagement.pk, other.pk])


def test_compliance_status_adds_up_the_requirements(tenant_a, engagement):
    with tenant_a.scope():
        status = selectors.compliance_status(TODAY)

    # deliver_month: 5 assignments due on 20 July and 5 on 20 August, all completed on the 19th
    assert (status.due, status.on_time, status.overdue, status.percent_compliant) == (10, 10, 0, Decimal("100.00"))
