"""seed_demo shows the product: a year of delivery ending last month, measured by the SLA engine, on the dashboards
the demo's users open. Seeded once for the module at a frozen moment (the seed is relative to now)."""

import re
from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from engagements.enums import DisputeTier, MeetingKind, Side
from engagements.models import Dispute, Engagement, GovernanceMeeting
from mls.models import Membership, Organization, User
from mls.tenancy import organization_scope
from reporting.models import QuarterlyReview
from reporting.selectors import open_escalations
from scheduling.enums import TicketStatus
from scheduling.models import Session, SupportTicket
from slas.enums import CreditStatus, EscalationLevel, MeasurementStatus, PeriodStatus, ReliefStatus
from slas.models import Escalation, Measurement, ReliefEvent, ServiceCredit, SlaPeriod, SlaTarget

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 16, 10, 0, tzinfo=UTC)  # November, the last finished month, is final since 6 December
NOVEMBER = date(2026, 11, 1)
NORTHWIND, KESTREL = "Acme learning operations", "Acme sales academy"
UNMEASURED = ("Insufficient data", "Not measured", "Too few items yet", "not judged")


@pytest.fixture(scope="module")
def seeded(build_once) -> str:
    def seed() -> str:
        out = StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command("seed_demo", stdout=out)
        return out.getvalue()

    return build_once(seed)


@pytest.fixture
def demo(seeded: str, db, time_machine) -> str:
    time_machine.move_to(NOW, tick=False)
    return seeded


@pytest.fixture
def acme() -> Organization:
    return Organization.objects.get(slug="acme")


def _page(client, email: str, name: str, **kwargs) -> str:
    client.force_login(User.objects.get(email=email))
    response = client.get(reverse(name, kwargs={"organization_slug": "acme", **kwargs}))
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_every_target_is_measured_for_the_last_finished_month(demo, acme):
    with organization_scope(acme):
        november = {
            (m.engagement.name, m.metric): m.status
            for m in Measurement.objects.filter(period__month=NOVEMBER).select_related("engagement")
        }
        targets = {
            (t.schedule.engagement.name, t.metric) for t in SlaTarget.objects.select_related("schedule__engagement")
        }
        periods = set(SlaPeriod.objects.filter(month=NOVEMBER).values_list("engagement__name", "status"))

    assert set(november) == targets
    assert set(november.values()) <= {MeasurementStatus.MET, MeasurementStatus.BREACHED}
    assert periods == {(NORTHWIND, PeriodStatus.FINALIZED), (KESTREL, PeriodStatus.FINALIZED)}


def test_every_month_of_the_year_is_measured(demo, acme):
    with organization_scope(acme):
        unmeasured = list(
            Measurement.objects.filter(period__month__lte=NOVEMBER, value__isnull=True).values_list(
                "engagement__name", "metric", "period__month"
            )
        )
        months = sorted(set(SlaPeriod.objects.filter(engagement__name=NORTHWIND).values_list("month", flat=True)))

    assert unmeasured == []
    assert (months[0], months[-1], len(months)) == (date(2025, 12, 1), date(2026, 12, 1), 13)  # a year + this month


def test_director_dashboards_show_a_value_for_every_target(demo, client, acme):
    dashboard = _page(client, "director@demo.test", "reporting:dashboard")
    with organization_scope(acme):
        engagements = list(Engagement.objects.order_by("name"))
    tiles = [_page(client, "director@demo.test", "reporting:engagement", pk=e.pk) for e in engagements]

    assert [word for word in UNMEASURED if word in dashboard] == []
    assert [[word for word in UNMEASURED if word in page] for page in tiles] == [[], []]
    assert "Exit right" in dashboard


def test_the_support_streak_ends_in_an_open_exit_right(demo, acme):
    with organization_scope(acme):
        ladder = list(
            Escalation.objects.filter(engagement__name=NORTHWIND, metric="support_first_response")
            .order_by("period__month")
            .values_list("period__month", "level")
        )
        still_open = list(open_escalations(Engagement.objects.filter(name=NORTHWIND)).values_list("metric", "level"))

    assert ladder == [
        (date(2026, 8, 1), EscalationLevel.NOTICE),
        (date(2026, 9, 1), EscalationLevel.FORMAL_REVIEW),
        (date(2026, 10, 1), EscalationLevel.EXIT_RIGHT),
    ]
    assert ("support_first_response", EscalationLevel.EXIT_RIGHT) in still_open


def test_credits_are_earned_back_and_relief_excuses_the_power_cut(demo, acme):
    with organization_scope(acme):
        earned_back = list(
            ServiceCredit.objects.filter(engagement__name=NORTHWIND, status=CreditStatus.EARNED_BACK)
            .order_by("period__month")
            .values_list("metric", "period__month", "earned_back_period__month")
        )
        relief = ReliefEvent.objects.get()
        uptime = Measurement.objects.get(metric="platform_uptime", period__month=relief.starts_on.replace(day=1))

    assert earned_back[:3] == [
        ("enrollment_processing", date(2026, 1, 1), date(2026, 4, 1)),
        ("instructor_rating", date(2026, 2, 1), date(2026, 5, 1)),
        ("mandatory_training_on_time", date(2026, 6, 1), date(2026, 9, 1)),
    ]
    assert (relief.status, relief.starts_on, relief.metrics) == (
        ReliefStatus.APPROVED,
        date(2026, 4, 14),
        ["platform_uptime"],
    )
    assert uptime.status == MeasurementStatus.MET


def test_a_qbr_revision_is_stored_for_each_finished_quarter(demo, acme):
    with organization_scope(acme):
        revisions = list(
            QuarterlyReview.objects.order_by("engagement__name", "quarter").values_list(
                "engagement__name", "quarter", "revision"
            )
        )

    assert revisions == [
        (NORTHWIND, date(2025, 10, 1), 1),  # its first month, December 2025, is the quarter's last
        (NORTHWIND, date(2026, 1, 1), 1),
        (NORTHWIND, date(2026, 4, 1), 1),
        (NORTHWIND, date(2026, 7, 1), 1),
        (KESTREL, date(2026, 4, 1), 1),  # six months old: June 2026 onwards
        (KESTREL, date(2026, 7, 1), 1),
    ]


def test_the_second_provider_sees_only_its_own_engagement(demo, client, acme):
    with organization_scope(acme):
        membership = Membership.objects.select_related("provider").get(user__email="provider2@demo.test")
        northwind = Engagement.objects.get(name=NORTHWIND)
        sessions = set(Session.objects.filter(engagement__provider=membership.provider).values_list("engagement__name"))

    dashboard = _page(client, "provider2@demo.test", "reporting:dashboard")
    foreign = client.get(reverse("reporting:engagement", kwargs={"organization_slug": "acme", "pk": northwind.pk}))

    assert (membership.provider.name, sessions) == ("Kestrel Skills", {(KESTREL,)})
    assert KESTREL in dashboard
    assert NORTHWIND not in dashboard
    assert "Northwind" not in dashboard
    assert foreign.status_code == 404


def test_governance_has_its_cadence_without_duplicates_and_a_dispute_at_the_executives(demo, acme):
    with organization_scope(acme):
        meetings = list(
            GovernanceMeeting.objects.filter(engagement__name=NORTHWIND).values_list("kind", "scheduled_for", "minutes")
        )
        dispute = Dispute.objects.get()
    held = [(kind, at) for kind, at, minutes in meetings if minutes]
    monthly = [at for kind, at in held if kind == MeetingKind.MONTHLY_OPERATIONAL_REVIEW]
    quarterly = [at for kind, at in held if kind == MeetingKind.QUARTERLY_BUSINESS_REVIEW]

    assert len({(kind, at) for kind, at, _ in meetings}) == len(meetings)
    assert len(monthly) == 12  # each month of the year reviewed early the next month
    assert len(quarterly) == 4  # Q4 2025 to Q3 2026
    assert all(at <= NOW for _, at in held)
    assert (dispute.engagement.name, dispute.tier) == (NORTHWIND, DisputeTier.EXECUTIVE_SPONSOR)


def test_seeding_again_adds_nothing_and_reports_the_same(demo, acme):
    def counts() -> tuple[int, ...]:
        with organization_scope(acme):
            return tuple(
                model.objects.count()
                for model in (Session, Measurement, ServiceCredit, Escalation, GovernanceMeeting, QuarterlyReview)
            )

    before = counts()
    again = StringIO()
    call_command("seed_demo", stdout=again)

    assert counts() == before
    assert [line for line in demo.splitlines() if line.startswith("SLAs")] == [
        line for line in again.getvalue().splitlines() if line.startswith("SLAs")
    ]
    assert "provider2@demo.test" in again.getvalue()


def test_the_latest_tickets_are_conversations_whose_first_provider_reply_is_the_first_response(demo, acme):
    with organization_scope(acme):
        talked = [t for t in SupportTicket.objects.prefetch_related("replies__author") if t.replies.all()]
        replies = {t.pk: sorted(t.replies.all(), key=lambda r: r.created_at) for t in talked}

    assert len(talked) >= 10  # six per engagement, less any not answered yet
    for ticket in talked:
        first_provider = next(r for r in replies[ticket.pk] if r.side == Side.PROVIDER)
        assert ticket.first_response_at == first_provider.created_at
    assert any(ticket.status == TicketStatus.RESOLVED for ticket in talked)
    assert {r.side for thread in replies.values() for r in thread} == {Side.PROVIDER, Side.CLIENT}
