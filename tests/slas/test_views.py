"""SLA pages: the engagement's results (scorecard, credits with the cap arithmetic, escalations, relief, manual
values), the drill-down to the items behind a value, and the forms that set terms and targets, ask for and decide
relief, and submit, verify or dispute manual values. Figures are computed by hand in the comments."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engagements.enums import ChangeRequestStatus, DisputeTier
from engagements.models import ChangeRequest, Dispute
from mls.enums import Role
from mls.models import AuditEvent
from scheduling.enums import SessionStatus, TicketCategory
from slas import services
from slas.catalog import METRICS, Kind
from slas.drilldown import ITEMS_PER_PAGE
from slas.enums import ManualStatus, ReliefKind, ReliefStatus
from slas.models import ManualMeasurement, Measurement, ReliefEvent, SlaSchedule, SlaTarget
from slas.periods import Period
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import (
    assignment,
    attempt,
    attendance,
    change_request,
    completion,
    course,
    enrollment,
    feedback,
    outage,
    requirement,
    session,
    sla_engagement,
    ticket,
)
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

MARCH = date(2026, 3, 1)
THREE_BREACHED = frozenset({"support_first_response", "session_delivery_rate", "mandatory_training_on_time"})


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def month(n: int) -> date:
    return date(2026, n, 1)


def finalize_through(engagement, last: date) -> None:
    """Finalize every month up to `last`, on the 7th of the next month (after the 5 grace days)."""
    services.finalize_due_periods(engagement=engagement, now=datetime(last.year, last.month + 1, 7, 12, tzinfo=UTC))


def actions(tenant) -> list[str]:
    """The tenant's audit actions, oldest first."""
    with tenant.scope():
        return list(AuditEvent.objects.order_by("at", "pk").values_list("action", flat=True))


# --- The SLA page ----------------------------------------------------------------------------------------------


@pytest.fixture
def breached_march(tenant_a):
    """SPEC-SLA §4 worked example (b): fee 48,250.00, 12 % at risk, March breaches three of the four targets."""
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=THREE_BREACHED)
        finalize_through(engagement, MARCH)
    return engagement


def test_sla_page_shows_terms_scorecard_and_the_capped_credit_arithmetic(client, tenant_a, breached_march):
    """At risk 48,250.00 × 12 % = 5,790.00. Uncapped 5,790 × 40 % = 2,316.00, × 35 % = 2,026.50, × 30 % =
    1,737.00; sum 6,079.50 > 5,790.00, so capped: 2,205.72 + 1,930.00 + 1,654.28 = 5,790.00."""
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "slas:engagement", pk=breached_march.pk))

    html = response.content.decode()
    assert "4 active targets" in response.context["target_warning"]  # seed 003: five to eight
    assert [key for key, _ in response.context["scorecard"].rows] == [
        "session_delivery_rate",
        "support_first_response",
        "mandatory_training_on_time",
        "instructor_rating",
    ]
    [group] = response.context["credit_statement"]
    assert (group.period.at_risk, group.uncapped_total, group.total, group.capped) == (
        Decimal("5790.00"),
        Decimal("6079.50"),
        Decimal("5790.00"),
        True,
    )
    assert [(line.credit.metric, line.uncapped, line.credit.amount) for line in group.lines] == [
        ("mandatory_training_on_time", Decimal("1737.00"), Decimal("1654.28")),
        ("session_delivery_rate", Decimal("2026.50"), Decimal("1930.00")),
        ("support_first_response", Decimal("2316.00"), Decimal("2205.72")),
    ]
    assert 'Uncapped £6,079.50 &gt; at risk: <span class="badge badge--amber">Capped</span>' in html
    assert "12 % of the monthly fee" in html


def test_scorecard_cells_say_their_status_in_words_and_link_to_the_drilldown(client, tenant_a, breached_march):
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "slas:engagement", pk=breached_march.pk))

    html = response.content.decode()
    with tenant_a.scope():
        rating = Measurement.objects.get(metric="instructor_rating")
        support = Measurement.objects.get(metric="support_first_response")
    # Five tickets answered after 10 h against H = 8: 0 / 5 met.
    assert (
        f'<a class="rag rag--red" href="{org_url(tenant_a, "slas:measurement", pk=support.pk)}">'
        '\n                          <span class="rag__value">0.00 %</span>'
        '\n                          <span class="rag__status">Breached</span>'
        '\n                          <span class="rag__meta">target ≥ 95 % · 5 items</span>'
    ) in html
    assert f'<a class="rag rag--green" href="{org_url(tenant_a, "slas:measurement", pk=rating.pk)}">' in html
    assert '<span class="rag__value">5.00 of 5</span>' in html


def test_sla_page_lists_escalations_with_the_review_meeting(client, tenant_a, breached_march):
    """Three targets breached in one period (critical_breach_count 3): a notice per metric and the
    engagement-level formal review, whose performance review meeting is linked."""
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    response = client.get(org_url(tenant_a, "slas:engagement", pk=breached_march.pk))

    escalations = list(response.context["escalations"])
    assert [(e.metric, e.level) for e in escalations] == [
        ("", "formal_review"),
        ("mandatory_training_on_time", "notice"),
        ("session_delivery_rate", "notice"),
        ("support_first_response", "notice"),
    ]
    review = escalations[0]
    assert org_url(tenant_a, "engagements:meeting", pk=review.meeting_id) in response.content.decode()
    assert "Engagement: 3 targets breached in the period." in response.content.decode()


@pytest.mark.parametrize(("role", "offers_create"), [(Role.PROCUREMENT, True), (Role.VIEWER, False)])
def test_engagement_without_schedule_says_so_and_offers_creation_to_sla_managers(client, tenant_a, role, offers_create):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(role))

    response = client.get(org_url(tenant_a, "slas:engagement", pk=engagement.pk))

    html = response.content.decode()
    assert "No SLA schedule yet." in html
    assert "No measurement yet." in html
    assert "No service credit" in html
    assert "No escalation." in html
    assert (org_url(tenant_a, "slas:schedule", pk=engagement.pk) in html) is offers_create


def test_engagement_page_and_navigation_link_to_the_sla_pages(client, tenant_a, breached_march):
    client.force_login(tenant_a.user(Role.VIEWER))

    detail = client.get(org_url(tenant_a, "engagements:detail", pk=breached_march.pk)).content.decode()
    index = client.get(org_url(tenant_a, "slas:list"))

    assert f'href="{org_url(tenant_a, "slas:engagement", pk=breached_march.pk)}">SLA results</a>' in detail
    assert {"label": "SLAs", "url": org_url(tenant_a, "slas:list"), "current": True} in index.context["nav_items"]
    [listed] = index.context["page"].object_list
    assert (listed.pk, listed.breach_count, listed.credits_issued) == (breached_march.pk, 3, Decimal("5790.00"))


@pytest.mark.parametrize("months", [1, 3])
def test_sla_page_query_count_is_constant(client, tenant_a, django_assert_num_queries, months):
    """1 or 3 finalized months, each with three breaches (credits, escalations), a relief request and a
    manual value per month: the same number of queries."""
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        for n in range(3, 3 + months):
            deliver_month(engagement, month(n), breached=THREE_BREACHED)
            services.request_relief(
                engagement=engagement,
                membership=tenant_a.members[Role.PROVIDER_MANAGER],
                kind=ReliefKind.FORCE_MAJEURE,
                starts_on=month(n),
                ends_on=month(n),
                metrics=["support_first_response"],
                reason="Storm",
            )
        finalize_through(engagement, month(2 + months))
        for n in range(3, 3 + months):
            services.submit_manual_measurement(
                engagement=engagement,
                membership=tenant_a.members[Role.PROVIDER_MANAGER],
                month=month(n + 3),
                metric="completion_reporting_accuracy",
                value=Decimal("99"),
                sample_size=20,
                evidence=SimpleUploadedFile("audit.csv", b"a,b\n"),
            )
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    # session, user, organization, membership, switcher, unread notifications, engagement, schedule, its targets,
    # periods, measurements, credits, escalations, relief, manual values.
    with django_assert_num_queries(15):
        response = client.get(org_url(tenant_a, "slas:engagement", pk=engagement.pk))

    assert len(response.context["scorecard"].months) == months
    assert len(response.context["credit_statement"]) == months


# --- Drill-down ------------------------------------------------------------------------------------------------


@pytest.fixture
def new_york_tickets(tenant_a):
    """Support first response (H = 8) in America/New_York, March 2026 (EST, UTC−5, until Sunday 8 March), computed
    on 20 March 12:00 UTC: one ticket answered in 1 h (met), one answered after 10 h and one never answered
    (failed), one opened two hours before as_of and not yet due (pending)."""
    engagement, _ = sla_engagement(
        tenant_a,
        targets={"support_first_response": {"target": Decimal("95"), "allocation_percent": Decimal("40")}},
        active_from=MARCH,
        timezone="America/New_York",
    )
    with tenant_a.scope():
        met = ticket(engagement, datetime(2026, 3, 3, 14, tzinfo=UTC), datetime(2026, 3, 3, 15, tzinfo=UTC))
        late = ticket(engagement, datetime(2026, 3, 2, 14, tzinfo=UTC), datetime(2026, 3, 3, 0, tzinfo=UTC))
        silent = ticket(engagement, datetime(2026, 3, 5, 14, tzinfo=UTC))
        waiting = ticket(engagement, datetime(2026, 3, 20, 10, tzinfo=UTC))
        period = services.compute_period(
            engagement=engagement, period=Period(MARCH, engagement.timezone), now=datetime(2026, 3, 20, 12, tzinfo=UTC)
        )
        measurement = period.measurements.get()
    return measurement, {"met": met, "late": late, "silent": silent, "waiting": waiting}


def test_drilldown_lists_the_failed_tickets_with_their_times_and_deadline_in_the_engagement_timezone(
    client, tenant_a, new_york_tickets
):
    """The late ticket: opened 14:00 UTC = 09:00 EST, answered 00:00 UTC next day = 19:00 EST, deadline 09:00 + 8 h
    = 17:00 EST. The unanswered one: opened 09:00 EST on 5 March, deadline 17:00 EST. 1 met / 3 = 33.33 %."""
    measurement, items = new_york_tickets
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.get(org_url(tenant_a, "slas:measurement", pk=measurement.pk))

    shown = response.context["items"]
    assert [(g.key, g.count) for g in shown.groups] == [("failed", 2), ("pending", 1), ("met", 1)]
    assert shown.group.key == "failed"
    assert shown.headers == ["Ticket", "Category", "Opened", "First response", "Deadline"]
    assert [[cell.pk for cell in row[:1]] for row in shown.rows] == [[items["late"].pk], [items["silent"].pk]]
    assert [[cell.value for cell in row[2:]] for row in shown.rows] == [
        [
            datetime(2026, 3, 2, 14, tzinfo=UTC),
            datetime(2026, 3, 3, 0, tzinfo=UTC),
            datetime(2026, 3, 2, 22, tzinfo=UTC),
        ],
        [datetime(2026, 3, 5, 14, tzinfo=UTC), None, datetime(2026, 3, 5, 22, tzinfo=UTC)],
    ]
    html = response.content.decode()
    for local in ("2026-03-02T09:00:00-05:00", "2026-03-02T19:00:00-05:00", "2026-03-02T17:00:00-05:00"):
        day, clock = local[8:10].lstrip("0"), local[11:16]
        assert f'<time datetime="{local}">{day} Mar 2026 {clock}</time>' in html
    assert "33.33 % = 100 × 1 met ÷ 3 measured (met + failed)." in html
    assert "1 item not yet due, left out" in html


@pytest.mark.parametrize("finalized", [False, True])
def test_drilldown_reads_an_open_period_live_and_a_finalized_one_from_its_snapshot(client, tenant_a, finalized):
    """Two March tickets, H = 8: one answered in 1 h, one after 10 h (failed). The late answer's time is then
    corrected to 2 h: an open period's drill-down shows the items as its rule reads them now (as of the
    measurement), while a finalized period's keeps the verdicts it was finalized with."""
    engagement, _ = sla_engagement(
        tenant_a,
        targets={"support_first_response": {"target": Decimal("95"), "allocation_percent": Decimal("40")}},
        active_from=MARCH,
    )
    with tenant_a.scope():
        quick = ticket(engagement, datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 3, 3, 10, tzinfo=UTC))
        late = ticket(engagement, datetime(2026, 3, 4, 9, tzinfo=UTC), datetime(2026, 3, 4, 19, tzinfo=UTC))
        if finalized:
            finalize_through(engagement, MARCH)
        else:
            services.compute_period(
                engagement=engagement, period=Period(MARCH, engagement.timezone), now=datetime(2026, 4, 1, tzinfo=UTC)
            )
        measurement = Measurement.objects.get(engagement=engagement)
        type(late).objects.filter(pk=late.pk).update(first_response_at=datetime(2026, 3, 4, 11, tzinfo=UTC))
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "slas:measurement", pk=measurement.pk) + "?show=met")

    shown = response.context["items"]
    counts = {"failed": 1, "pending": 0, "met": 1} if finalized else {"failed": 0, "pending": 0, "met": 2}
    assert measurement.finalized is finalized
    assert [row[0].pk for row in shown.rows] == ([quick.pk] if finalized else [quick.pk, late.pk])
    assert {g.key: g.count for g in shown.groups} == counts


def test_content_freshness_drilldown_shows_each_courses_own_review_deadline(client, tenant_a):
    """R = 365 at March's end (1 Apr 2026): a course reviewed every 180 days must have been reviewed on or after
    3 Oct 2025 (1 Apr − 180 days); one reviewed every 730 days is held to R, on or after 1 Apr 2025."""
    engagement, _ = sla_engagement(
        tenant_a,
        targets={
            "content_freshness": {"target": Decimal("100"), "allocation_percent": Decimal("10"), "threshold": 365}
        },
        active_from=MARCH,
    )
    with tenant_a.scope():
        half_year = course(engagement, code="A-180", regulated=True, last_reviewed_on=date(2025, 10, 2),
                           review_interval_days=180)  # fmt: skip
        biennial = course(engagement, code="B-730", regulated=True, last_reviewed_on=date(2025, 3, 1),
                          review_interval_days=730)  # fmt: skip
        for delivered in (half_year, biennial):
            session(engagement, starts_at=datetime(2026, 3, 2, 9, tzinfo=UTC), course_=delivered)
        period = services.compute_period(
            engagement=engagement, period=Period(MARCH, engagement.timezone), now=datetime(2026, 4, 20, tzinfo=UTC)
        )
        measurement = period.measurements.get()
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "slas:measurement", pk=measurement.pk))

    shown = response.context["items"]
    assert shown.headers == ["Course", "Title", "Last reviewed", "Review every (days)", "Reviewed on or after"]
    assert [[cell.value for cell in row] for row in shown.rows] == [
        ["A-180", "Course", date(2025, 10, 2), 180, date(2025, 10, 3)],
        ["B-730", "Course", date(2025, 3, 1), 730, date(2025, 4, 1)],
    ]


def test_drilldown_shows_pending_items_on_request(client, tenant_a, new_york_tickets):
    measurement, items = new_york_tickets
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "slas:measurement", pk=measurement.pk) + "?show=pending")

    [row] = response.context["items"].rows
    assert row[0].pk == items["waiting"].pk
    assert [cell.value for cell in row[2:]] == [
        datetime(2026, 3, 20, 10, tzinfo=UTC),
        None,
        datetime(2026, 3, 20, 18, tzinfo=UTC),
    ]


def test_drilldown_is_paginated_in_one_query_per_list(client, tenant_a, django_assert_num_queries):
    engagement, _ = sla_engagement(
        tenant_a,
        targets={"support_first_response": {"target": Decimal("95"), "allocation_percent": Decimal("40")}},
        active_from=MARCH,
    )
    with tenant_a.scope():
        for n in range(ITEMS_PER_PAGE + 3):
            opened = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=10 * n)
            ticket(engagement, opened)
        period = services.compute_period(
            engagement=engagement, period=Period(MARCH, engagement.timezone), now=datetime(2026, 4, 20, tzinfo=UTC)
        )
        measurement = period.measurements.get()
    client.force_login(tenant_a.user(Role.VIEWER))
    url = org_url(tenant_a, "slas:measurement", pk=measurement.pk)

    # session, user, organization, membership, switcher, unread, measurement, then the open period's items read
    # live by the metric's rule: the period's approved relief, the count per outcome, the item page.
    with django_assert_num_queries(10):
        first = client.get(url)
    second = client.get(url + "?show=failed&page=2")

    assert len(first.context["items"].rows) == ITEMS_PER_PAGE
    assert len(second.context["items"].rows) == 3
    assert "page=2" in first.content.decode()


def all_metric_targets() -> dict[str, dict]:
    return {
        key: {
            "target": Decimal("4") if metric.kind == Kind.MEAN else Decimal("90"),
            "allocation_percent": Decimal("5"),
            "min_sample": 1,
        }
        for key, metric in METRICS.items()
    }


@pytest.fixture
def every_metric_measured(tenant_a):
    """March with at least one item for every metric's population, computed after the grace days."""
    engagement, _ = sla_engagement(tenant_a, targets=all_metric_targets(), active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        regulated = course(engagement, regulated=True, last_reviewed_on=date(2024, 1, 1))
        delivered = session(
            engagement,
            starts_at=datetime(2026, 3, 12, 9, tzinfo=UTC),
            status=SessionStatus.DELIVERED,
            course_=regulated,
        )
        attendance(enrollment(delivered, datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 9, 9, tzinfo=UTC)))
        cancelled = session(
            engagement,
            starts_at=datetime(2026, 3, 16, 9, tzinfo=UTC),
            requested_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
            status=SessionStatus.CANCELLED,
            cancelled_at=datetime(2026, 3, 4, 9, tzinfo=UTC),
        )
        session(engagement, starts_at=datetime(2026, 3, 25, 9, tzinfo=UTC), replaces=cancelled)
        completion(delivered, datetime(2026, 3, 12, 12, tzinfo=UTC), datetime(2026, 3, 30, 9, tzinfo=UTC))
        attempt(regulated, datetime(2026, 3, 12, 13, tzinfo=UTC), passed=False, engagement=engagement)
        assignment(requirement(regulated, "Fire safety"), date(2026, 3, 20), engagement=engagement)
        ticket(engagement, datetime(2026, 3, 3, 9, tzinfo=UTC), category=TicketCategory.AUDIT_REQUEST)
        outage(engagement, datetime(2026, 3, 10, 1, tzinfo=UTC), datetime(2026, 3, 10, 3, tzinfo=UTC))
        outage(engagement, datetime(2026, 3, 11, 1, tzinfo=UTC), datetime(2026, 3, 11, 2, tzinfo=UTC), planned=True)
        change_request(engagement, tenant_a, datetime(2026, 3, 2, 9, tzinfo=UTC))
        feedback(delivered, 2, 3, submitted_at=datetime(2026, 3, 12, 15, tzinfo=UTC))
        services.compute_period(
            engagement=engagement, period=Period(MARCH, engagement.timezone), now=datetime(2026, 4, 20, tzinfo=UTC)
        )
        return list(Measurement.objects.filter(engagement=engagement).order_by("metric"))


def test_every_metric_drills_down_to_its_items(client, tenant_a, every_metric_measured):
    """Each metric's every list shows exactly the items its measurement counted (all fit on one page)."""
    client.force_login(tenant_a.user(Role.OWNER))
    shown, counted = {}, {}

    for measurement in every_metric_measured:
        url = org_url(tenant_a, "slas:measurement", pk=measurement.pk)
        for group in client.get(url).context["items"].groups:
            response = client.get(f"{url}?show={group.key}")
            shown[(measurement.metric, group.key)] = len(response.context["items"].rows)
            counted[(measurement.metric, group.key)] = group.count

    assert {metric for metric, _ in shown} == set(METRICS) - {"completion_reporting_accuracy"}
    assert shown == counted
    assert sum(counted.values()) > len(METRICS)


def test_change_request_drilldown_uses_the_msa_business_day_deadline(client, tenant_a, every_metric_measured):
    """Submitted Monday 2 March 09:00 GMT, N = 10 business days (GB/ENG, none a holiday): deadline the end of
    Monday 16 March."""
    [measurement] = [m for m in every_metric_measured if m.metric == "change_request_response"]
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(org_url(tenant_a, "slas:measurement", pk=measurement.pk))

    [row] = response.context["items"].rows
    with tenant_a.scope():
        proposal = ChangeRequest.objects.get(status=ChangeRequestStatus.SUBMITTED)
    assert row[0].pk == proposal.pk
    assert row[-1].value.isoformat() == "2026-03-16T23:59:59.999999+00:00"


def test_manual_metric_drills_down_to_the_submitted_value_and_its_evidence(client, tenant_a):
    engagement, _ = sla_engagement(
        tenant_a,
        targets={"completion_reporting_accuracy": {"target": Decimal("98"), "allocation_percent": Decimal("10")}},
        active_from=MARCH,
    )
    with tenant_a.scope():
        manual = services.submit_manual_measurement(
            engagement=engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            month=MARCH,
            metric="completion_reporting_accuracy",
            value=Decimal("97.5"),
            sample_size=40,
            evidence=SimpleUploadedFile("audit.csv", b"a,b\n"),
        )
        period = services.compute_period(
            engagement=engagement, period=Period(MARCH, engagement.timezone), now=datetime(2026, 3, 20, tzinfo=UTC)
        )
        measurement = period.measurements.get()
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "slas:measurement", pk=measurement.pk))

    assert response.context["manual"] == manual
    assert response.context["items"].groups == []
    assert org_url(tenant_a, "slas:manual_evidence", pk=manual.pk) in response.content.decode()
    assert response.context["formula"] == (
        "97.5 % from an audited sample with evidence; it counts once the other side verifies it."
    )


# --- Schedule and target forms ---------------------------------------------------------------------------------


SCHEDULE = {
    "at_risk_percent": "12",
    "grace_days": "5",
    "earn_back_enabled": "on",
    "earn_back_periods": "3",
    "earn_back_margin": "0",
    "formal_review_after": "2",
    "exit_right_after": "3",
    "critical_breach_count": "3",
}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"exit_right_after": "1"}, {"exit_right_after": ["The exit right cannot come before the formal review."]}),
        ({"at_risk_percent": "0"}, {"at_risk_percent": ["Ensure this value is greater than or equal to 0.01."]}),
        ({"grace_days": "40"}, {"grace_days": ["Ensure this value is less than or equal to 31."]}),
    ],
)
def test_schedule_form_shows_field_errors_with_400_and_writes_nothing(client, tenant_a, changes, errors):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    response = client.post(org_url(tenant_a, "slas:schedule", pk=engagement.pk), {**SCHEDULE, **changes})

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    with tenant_a.scope():
        assert SlaSchedule.objects.count() == 0
    assert actions(tenant_a) == []


def test_schedule_is_created_then_edited_and_audited(client, tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = org_url(tenant_a, "slas:schedule", pk=engagement.pk)

    form = client.get(url).context["form"]
    created = client.post(url, SCHEDULE)
    edited = client.post(url, {**SCHEDULE, "at_risk_percent": "15"})

    # The ladder lives on the schedule only: a new one offers the usual 2 / 3 / 3 (SPEC-SLA §5).
    assert [form[name].value() for name in ("formal_review_after", "exit_right_after", "critical_breach_count")] == [
        2,
        3,
        3,
    ]
    assert created["Location"] == edited["Location"] == org_url(tenant_a, "slas:engagement", pk=engagement.pk)
    with tenant_a.scope():
        assert SlaSchedule.objects.get().at_risk_percent == Decimal("15.00")
        update = AuditEvent.objects.get(action="sla_schedule.updated")
    assert (Decimal(update.before["at_risk_percent"]), Decimal(update.after["at_risk_percent"])) == (12, 15)
    assert actions(tenant_a) == ["sla_schedule.created", "sla_schedule.updated"]


TARGET = {
    "metric": "support_first_response",
    "target": "95",
    "threshold": "",
    "min_sample": "5",
    "allocation_percent": "40",
    "active_from": "2026-03-01",
    "active_to": "",
}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"metric": "instructor_rating"}, {"target": ["The target of this metric must be between 1 and 5."]}),
        (
            {"metric": "session_delivery_rate", "threshold": "4"},
            {"threshold": ["This metric has no threshold parameter."]},
        ),
        ({"active_to": "2026-02-01"}, {"active_to": ["The end must not come before the start."]}),
        (
            {"metric": "no_such_metric"},
            {"metric": ["Select a valid choice. no_such_metric is not one of the available choices."]},
        ),
        (
            {"active_from": "2026-06-01"},
            {"active_from": ["This metric already has a target in force for these dates."]},
        ),
    ],
)
def test_target_form_shows_field_errors_with_400_and_writes_nothing(client, tenant_a, changes, errors):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    before = actions(tenant_a)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(org_url(tenant_a, "slas:target_create", pk=engagement.pk), {**TARGET, **changes})

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    with tenant_a.scope():
        assert SlaTarget.objects.count() == 4
    assert actions(tenant_a) == before


def test_target_is_added_with_the_catalog_threshold_and_edited(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a, targets={}, active_from=MARCH)
    client.force_login(tenant_a.user(Role.OWNER))

    page = client.get(org_url(tenant_a, "slas:target_create", pk=engagement.pk))
    client.post(org_url(tenant_a, "slas:target_create", pk=engagement.pk), TARGET)
    with tenant_a.scope():
        target = SlaTarget.objects.get()
    edit_page = client.get(org_url(tenant_a, "slas:target_edit", pk=target.pk))
    client.post(org_url(tenant_a, "slas:target_edit", pk=target.pk), {**TARGET, "target": "97.5", "threshold": "4"})

    assert METRICS["content_freshness"].description in page.content.decode()  # the catalog, listed below the form
    assert edit_page.context["form"].fields["metric"].help_text == METRICS["support_first_response"].description
    with tenant_a.scope():
        target.refresh_from_db()
    assert (target.target, target.threshold) == (Decimal("97.50"), 4)
    assert actions(tenant_a)[-2:] == ["sla_target.created", "sla_target.updated"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROVIDER_MANAGER])
def test_only_sla_managers_post_targets(client, tenant_a, role):
    engagement, _ = sla_engagement(tenant_a, targets={}, active_from=MARCH)
    client.force_login(tenant_a.user(role))

    response = client.post(org_url(tenant_a, "slas:target_create", pk=engagement.pk), TARGET)

    assert response.status_code == 403
    with tenant_a.scope():
        assert SlaTarget.objects.count() == 0


def test_compute_now_measures_the_open_periods(client, tenant_a, time_machine):
    time_machine.move_to(datetime(2026, 5, 14, 10, 0, tzinfo=UTC), tick=False)
    engagement, _ = sla_engagement(tenant_a, targets={}, active_from=date(2026, 1, 1))
    with tenant_a.scope():
        schedule = SlaSchedule.objects.get()
        services.save_target(
            schedule=schedule,
            actor=tenant_a.user(Role.OWNER),
            metric="support_first_response",
            target=Decimal("95"),
            allocation_percent=Decimal("40"),
            active_from=date(2026, 5, 1),  # the open period
        )
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    response = client.post(org_url(tenant_a, "slas:compute", pk=engagement.pk), follow=True)

    with tenant_a.scope():
        assert Measurement.objects.filter(metric="support_first_response").count() == 1
    assert "Recomputed 1 open period." in response.content.decode()


# --- Relief ----------------------------------------------------------------------------------------------------


RELIEF = {
    "kind": ReliefKind.CLIENT_CAUSED,
    "starts_on": "2026-03-16",
    "ends_on": "2026-03-17",
    "metrics": ["support_first_response", "session_delivery_rate"],
    "reason": "The client's LMS was frozen for its migration",
}


def test_relief_form_shows_field_errors_with_400_and_writes_nothing(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    before = actions(tenant_a)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant_a, "slas:relief_create", pk=engagement.pk),
        {**RELIEF, "ends_on": "2026-03-01", "metrics": ["no_such_metric"], "reason": ""},
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"ends_on", "metrics", "reason"}
    with tenant_a.scope():
        assert ReliefEvent.objects.count() == 0
    assert actions(tenant_a) == before


def test_provider_asks_for_relief_and_the_ld_director_approves_after_confirmation(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    client.post(org_url(tenant_a, "slas:relief_create", pk=engagement.pk), RELIEF)
    with tenant_a.scope():
        relief = ReliefEvent.objects.get()
    approve = org_url(tenant_a, "slas:relief_decide", pk=relief.pk, decision="approve")

    provider_try = client.post(approve)
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    procurement_try = client.get(approve)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    sla_page = client.get(org_url(tenant_a, "slas:engagement", pk=engagement.pk)).content.decode()
    confirmation = client.get(approve)
    approved = client.post(approve)
    again = client.post(org_url(tenant_a, "slas:relief_decide", pk=relief.pk, decision="reject"))

    assert (provider_try.status_code, procurement_try.status_code) == (403, 403)
    assert approve in sla_page
    assert confirmation.context["title"] == "Approve this relief request?"
    assert (
        "Client-caused relief 16 Mar 2026–17 Mar 2026 for Support first response, Session delivery rate"
        in (confirmation.context["body"])
    )
    assert approved["Location"] == org_url(tenant_a, "slas:engagement", pk=engagement.pk)
    assert again.status_code == 400
    assert again.context["error"] == "This relief request is already approved."
    with tenant_a.scope():
        relief.refresh_from_db()
    assert (relief.status, relief.decided_by, relief.metrics) == (
        ReliefStatus.APPROVED,
        tenant_a.user(Role.LD_DIRECTOR),
        ["support_first_response", "session_delivery_rate"],
    )
    assert actions(tenant_a)[-2:] == ["relief.requested", "relief.approved"]


def test_relief_decision_other_than_approve_or_reject_is_404(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        relief = services.request_relief(
            engagement=engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            kind=ReliefKind.FORCE_MAJEURE,
            starts_on=MARCH,
            ends_on=MARCH,
            reason="Storm",
        )
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(org_url(tenant_a, "slas:relief_decide", pk=relief.pk, decision="ignore"))

    assert response.status_code == 404
    with tenant_a.scope():
        assert ReliefEvent.objects.get().status == ReliefStatus.REQUESTED


# --- Manual measurements ---------------------------------------------------------------------------------------


def manual_post(month_text: str = "2026-03", **changes) -> dict:
    return {
        "month": month_text,
        "metric": "completion_reporting_accuracy",
        "value": "97.5",
        "sample_size": "40",
        "evidence": SimpleUploadedFile("audit.csv", b"record,matches\nC-1,yes\n", content_type="text/csv"),
        "note": "Forty records sampled",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"value": "101"}, "value"),
        ({"month": "March"}, "month"),
        ({"metric": "support_first_response"}, "metric"),
        ({"evidence": SimpleUploadedFile("audit.exe", b"MZ")}, "evidence"),
    ],
)
def test_manual_form_shows_field_errors_with_400_and_writes_nothing(client, tenant_a, changes, field):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    before = actions(tenant_a)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "slas:manual_create", pk=engagement.pk), manual_post(**changes))

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert b'enctype="multipart/form-data"' in response.content
    with tenant_a.scope():
        assert ManualMeasurement.objects.count() == 0
    assert actions(tenant_a) == before


def test_manual_value_is_submitted_with_evidence_and_verified_by_the_other_side(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    submitted = client.post(org_url(tenant_a, "slas:manual_create", pk=engagement.pk), manual_post())
    with tenant_a.scope():
        manual = ManualMeasurement.objects.get()
    verify = org_url(tenant_a, "slas:manual_verify", pk=manual.pk)

    own_side = client.post(verify)
    client.force_login(tenant_a.user(Role.VIEWER))
    evidence = client.get(org_url(tenant_a, "slas:manual_evidence", pk=manual.pk))
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    confirmation = client.get(verify)
    verified = client.post(verify)

    assert submitted.status_code == 302
    assert own_side.status_code == 403
    assert b"".join(evidence.streaming_content) == b"record,matches\nC-1,yes\n"
    assert evidence["Content-Disposition"].startswith('attachment; filename="audit')
    assert confirmation.context["title"] == "Verify completion reporting accuracy of March 2026?"
    assert verified["Location"] == org_url(tenant_a, "slas:engagement", pk=engagement.pk)
    with tenant_a.scope():
        manual.refresh_from_db()
    assert (manual.status, manual.submitted_side, manual.reviewed_by) == (
        ManualStatus.VERIFIED,
        "provider",
        tenant_a.user(Role.LD_DIRECTOR),
    )
    assert actions(tenant_a)[-2:] == ["manual_measurement.submitted", "manual_measurement.verified"]


def test_disputing_a_manual_value_opens_a_dispute(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    client.post(org_url(tenant_a, "slas:manual_create", pk=engagement.pk), manual_post())
    with tenant_a.scope():
        manual = ManualMeasurement.objects.get()
    dispute_url = org_url(tenant_a, "slas:manual_dispute", pk=manual.pk)
    client.force_login(tenant_a.user(Role.OWNER))

    blank = client.post(dispute_url, {"reason": "  "})
    disputed = client.post(dispute_url, {"reason": "Six of the forty records were missing."})

    assert blank.status_code == 400
    assert list(blank.context["form"].errors) == ["reason"]
    with tenant_a.scope():
        manual.refresh_from_db()
        dispute = Dispute.objects.get()
    assert disputed["Location"] == org_url(tenant_a, "engagements:dispute", pk=dispute.pk)
    assert (manual.status, manual.dispute, dispute.tier, dispute.raised_by_side) == (
        ManualStatus.DISPUTED,
        dispute,
        DisputeTier.ACCOUNT_MANAGEMENT,
        "client",
    )
    assert dispute.title == "Disputed completion reporting accuracy for March 2026"
    assert actions(tenant_a)[-3:] == ["manual_measurement.submitted", "dispute.opened", "manual_measurement.disputed"]


def test_evidence_of_another_providers_engagement_is_404_for_a_provider_manager(client, tenant_a):
    other = EngagementFactory(organization=tenant_a.organization)
    with tenant_a.scope():
        manual = services.submit_manual_measurement(
            engagement=other,
            membership=tenant_a.members[Role.OWNER],
            month=MARCH,
            metric="completion_reporting_accuracy",
            value=Decimal("99"),
            sample_size=10,
            evidence=SimpleUploadedFile("audit.csv", b"x"),
        )
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.get(org_url(tenant_a, "slas:manual_evidence", pk=manual.pk))

    assert response.status_code == 404
