"""Contract-date reminders: 90/60/30/7 days before each milestone, each sent once (email + in-app)."""

from datetime import date

import pytest
from django.core import mail

from engagements import services
from engagements.models import ContractReminder
from engagements.tasks import dispatch_contract_reminders
from mls.enums import Role
from mls.models import Notification
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.unit


@pytest.fixture
def engagement(tenant_a):
    # Ends 31 Dec 2027; renewal notice 90 days → 2 Oct 2027; termination notice 60 days → 1 Nov 2027;
    # transition 90 days → 30 Mar 2028.
    return EngagementFactory(
        organization=tenant_a.organization,
        provider=tenant_a.provider,
        status="active",
        end_date=date(2027, 12, 31),
        renewal_notice_days=90,
        termination_notice_days=60,
        transition_period_days=90,
    )


def run(tenant, today, django_capture_on_commit_callbacks):
    with tenant.scope(), django_capture_on_commit_callbacks(execute=True):
        return services.send_contract_reminders(today=today)


def test_milestones_of_an_auto_renewing_engagement(tenant_a, engagement):
    assert services.contract_milestones(engagement) == [
        ("renewal_notice_deadline", date(2027, 10, 2)),
        ("termination_notice_deadline", date(2027, 11, 1)),
        ("renewal_date", date(2027, 12, 31)),
        ("transition_end", date(2028, 3, 30)),
    ]


def test_running_twice_on_the_same_day_sends_each_reminder_once(
    tenant_a, engagement, django_capture_on_commit_callbacks
):
    # 4 Jul 2027 is 90 days before 2 Oct 2027 (renewal notice deadline); nothing else is within 90 days.
    first = run(tenant_a, date(2027, 7, 4), django_capture_on_commit_callbacks)
    second = run(tenant_a, date(2027, 7, 4), django_capture_on_commit_callbacks)

    assert [(r.milestone, r.days_before) for r in first] == [("renewal_notice_deadline", 90)]
    assert second == []
    # Owner, L&D director and procurement are told; viewer and provider manager are not.
    expected = sorted(tenant_a.user(role).email for role in (Role.OWNER, Role.LD_DIRECTOR, Role.PROCUREMENT))
    assert [sorted(m.to) for m in mail.outbox] == [expected]
    assert mail.outbox[0].subject == f"{engagement.name}: auto-renewal notice deadline in 90 days"
    with tenant_a.scope():
        assert Notification.objects.count() == 3


def test_each_threshold_is_sent_on_its_own_day(tenant_a, engagement, django_capture_on_commit_callbacks):
    days = [date(2027, 7, 4), date(2027, 8, 3), date(2027, 9, 2), date(2027, 9, 25)]  # 90, 60, 30, 7 days before

    sent = [
        [(r.milestone, r.days_before) for r in run(tenant_a, day, django_capture_on_commit_callbacks)] for day in days
    ]

    assert sent == [
        [("renewal_notice_deadline", 90)],
        [("renewal_notice_deadline", 60), ("termination_notice_deadline", 90)],
        [("renewal_notice_deadline", 30), ("termination_notice_deadline", 60)],
        [("renewal_notice_deadline", 7)],
    ]


def test_a_missed_day_sends_only_the_most_urgent_reminder(tenant_a, engagement, django_capture_on_commit_callbacks):
    # First run on 20 Sep 2027: 12 days before the renewal notice deadline (90, 60 and 30 passed, 7 not yet).
    sent = run(tenant_a, date(2027, 9, 20), django_capture_on_commit_callbacks)

    assert [(r.milestone, r.days_before) for r in sent] == [
        ("renewal_notice_deadline", 30),
        ("termination_notice_deadline", 60),
    ]


def test_ended_engagements_are_not_reminded(tenant_a, engagement, django_capture_on_commit_callbacks):
    engagement.status = "ended"
    engagement.save()

    assert run(tenant_a, date(2027, 7, 4), django_capture_on_commit_callbacks) == []


def test_daily_task_fans_out_per_organization_in_scope(
    tenant_a, tenant_b, engagement, django_capture_on_commit_callbacks
):
    assert dispatch_contract_reminders.delay().get() == 2
    with tenant_a.scope():
        # Real today (2026) is far from the 2027 milestones: the run is scoped, and sends nothing yet.
        assert ContractReminder.objects.count() == 0
