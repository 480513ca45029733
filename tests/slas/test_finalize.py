"""Finalizing periods (SPEC-SLA §2, §4, §5): breaches, capped service credits, earn-back, the escalation ladder,
idempotency, and the immutability of what is final. Figures are computed by hand in each test's comments."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from engagements.enums import MeetingKind
from engagements.models import GovernanceMeeting
from mls.events import domain_event
from mls.models import AuditEvent, Notification
from slas import services
from slas.enums import CreditStatus, EscalationLevel, MeasurementStatus, PeriodStatus
from slas.models import Breach, Escalation, ImmutableRecordError, Measurement, ServiceCredit, SlaPeriod
from slas.periods import Period
from tests.factories.slas import sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.unit

MARCH = date(2026, 3, 1)
SUPPORT_ONLY = {"support_first_response": {"target": Decimal("95"), "allocation_percent": Decimal("40")}}


def month(n: int) -> date:
    return date(2026, n, 1)


def finalize_through(engagement, last_month: date) -> list[SlaPeriod]:
    """Finalize every month up to `last_month` (in order), the day after its grace days end."""
    now = datetime(last_month.year + (last_month.month == 12), last_month.month % 12 + 1, 7, tzinfo=UTC)
    return services.finalize_due_periods(engagement=engagement, now=now)


def credits(engagement) -> dict[str, Decimal]:
    return dict(ServiceCredit.objects.filter(engagement=engagement).values_list("metric", "amount"))


# --- SPEC-SLA §4 worked example: fee 48,250.00, 12 % at risk = 5,790.00; allocations 40 / 35 / 30 / 25 ---------


def test_one_breach_credits_its_allocation_of_the_at_risk_amount(tenant_a):
    """(a) Only instructor_rating breached: 5,790.00 × 25 % = 1,447.50."""
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"instructor_rating"}))
        (period,) = finalize_through(engagement, MARCH)

        assert (period.monthly_fee, period.at_risk) == (Decimal("48250.00"), Decimal("5790.00"))
        assert credits(engagement) == {"instructor_rating": Decimal("1447.50")}
        assert ServiceCredit.objects.get().capped is False


def test_credits_over_the_cap_are_split_by_allocation_and_the_cent_goes_to_the_largest(tenant_a):
    """(b) 2,316.00 + 2,026.50 + 1,737.00 = 6,079.50 > 5,790.00 → floor(5790·40/105) = 2,205.71,
    floor(5790·35/105) = 1,930.00, floor(5790·30/105) = 1,654.28; the 0.01 left goes to allocation 40."""
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    breached = frozenset({"support_first_response", "session_delivery_rate", "mandatory_training_on_time"})
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=breached)
        finalize_through(engagement, MARCH)

        assert credits(engagement) == {
            "support_first_response": Decimal("2205.72"),
            "session_delivery_rate": Decimal("1930.00"),
            "mandatory_training_on_time": Decimal("1654.28"),
        }
        assert sum(credits(engagement).values()) == Decimal("5790.00")
        assert set(ServiceCredit.objects.values_list("capped", flat=True)) == {True}
        assert Measurement.objects.get(metric="instructor_rating").status == MeasurementStatus.MET


def test_too_few_items_is_insufficient_data_with_no_breach_or_credit(tenant_a):
    """4 tickets, all late, against min_sample 5: insufficient_data, not breached."""
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}), items=4)
        finalize_through(engagement, MARCH)

        measurement = Measurement.objects.get()
        assert (measurement.value, measurement.status) == (Decimal("0.00"), MeasurementStatus.INSUFFICIENT_DATA)
        assert not Breach.objects.exists()
        assert not ServiceCredit.objects.exists()


# --- Finalization rules -------------------------------------------------------------------------------------


def test_a_period_stays_provisional_until_its_grace_days_are_over(tenant_a):
    """March in London ends 2026-04-01 00:00 BST; 5 grace days → final from 2026-04-06 00:00 BST (05-04 23:00 UTC)."""
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY, active_from=MARCH)
    march = Period(MARCH, engagement.timezone)
    with tenant_a.scope():
        with pytest.raises(ValidationError, match="provisional until 2026-04-06"):
            services.finalize_period(engagement=engagement, period=march, now=datetime(2026, 4, 5, 22, 59, tzinfo=UTC))

        row = services.finalize_period(engagement=engagement, period=march, now=datetime(2026, 4, 5, 23, tzinfo=UTC))
        assert row.status == PeriodStatus.FINALIZED
        assert row.as_of == datetime(2026, 4, 5, 23, tzinfo=UTC)


def test_periods_are_finalized_in_order(tenant_a):
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY, active_from=MARCH)
    with tenant_a.scope():
        services.compute_period(engagement=engagement, period=Period(MARCH, engagement.timezone))
        with pytest.raises(ValidationError, match="Finalize 2026-03 first"):
            services.finalize_period(
                engagement=engagement,
                period=Period(month(4), engagement.timezone),
                now=datetime(2026, 6, 1, tzinfo=UTC),
            )


def test_finalizing_twice_changes_nothing(tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response", "instructor_rating"}))
        finalize_through(engagement, MARCH)
        before = (
            list(ServiceCredit.objects.values_list("pk", "metric", "amount")),
            AuditEvent.objects.count(),
            Notification.objects.count(),
            Escalation.objects.count(),
        )

        again = services.finalize_period(
            engagement=engagement, period=Period(MARCH, engagement.timezone), now=datetime(2026, 5, 1, tzinfo=UTC)
        )
        finalize_through(engagement, MARCH)

        assert again.status == PeriodStatus.FINALIZED
        after = (
            list(ServiceCredit.objects.values_list("pk", "metric", "amount")),
            AuditEvent.objects.count(),
            Notification.objects.count(),
            Escalation.objects.count(),
        )
        assert after == before
        assert len(before[0]) == 2


def test_a_finalized_period_is_not_recomputed(tenant_a):
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH)
        finalize_through(engagement, MARCH)
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}), items=20)

        services.compute_period(engagement=engagement, period=Period(MARCH, engagement.timezone))

        measurement = Measurement.objects.get()
        assert (measurement.value, measurement.denominator, measurement.finalized) == (
            Decimal("100.00"),
            Decimal("5"),
            True,
        )


def test_finalized_rows_refuse_changes_through_the_model(tenant_a):
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        finalize_through(engagement, MARCH)
        measurement, credit = Measurement.objects.get(), ServiceCredit.objects.get()

        measurement.value = Decimal("99")
        with pytest.raises(ImmutableRecordError):
            measurement.save()
        with pytest.raises(ImmutableRecordError):
            credit.delete()
        with pytest.raises(ImmutableRecordError):
            Breach.objects.get().save()


# --- Events and notifications ------------------------------------------------------------------------------


def test_finalization_audits_notifies_and_emits_events_after_commit(tenant_a, django_capture_on_commit_callbacks):
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY, active_from=MARCH)
    received = []

    def receiver(sender: object, name: str, organization_id: int, audit_event_id: int, **kwargs: object) -> None:
        received.append((name, organization_id))

    domain_event.connect(receiver)
    try:
        with tenant_a.scope():
            deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
            with django_capture_on_commit_callbacks() as callbacks:
                finalize_through(engagement, MARCH)
                assert received == []  # nothing before the commit
            for callback in callbacks:
                callback()
            actions = list(AuditEvent.objects.filter(action__contains=".").values_list("action", flat=True))
            notification = Notification.objects.filter(user=tenant_a.user("ld_director")).get()
            provider_told = Notification.objects.filter(user=tenant_a.user("provider_manager")).exists()
    finally:
        domain_event.disconnect(receiver)

    organization_id = tenant_a.organization.pk
    assert sorted(received) == [
        ("breach.created", organization_id),
        ("credit.issued", organization_id),
        ("escalation.created", organization_id),
    ]
    assert {"breach.created", "credit.issued", "escalation.created"} <= set(actions)
    assert "SLA results for March 2026 are final" in notification.title
    assert notification.body.splitlines()[1:3] == [
        "Service credits: £2,316.00.",  # 5,790.00 × 40 %
        "  Support first response: £2,316.00",
    ]
    assert "Notice on Support first response (March 2026)" in notification.body
    assert provider_told  # the engagement's provider manager hears about it too


# --- SPEC-SLA §5: earn-back and the escalation ladder ------------------------------------------------------


def test_a_credit_is_earned_back_after_k_measured_periods_skipping_insufficient_ones(tenant_a):
    """K = 3: breached in March; met in April, too few tickets in May (skipped), met in June and July →
    earned back when July is finalized, not before."""
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY, active_from=MARCH, earn_back_periods=3)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        deliver_month(engagement, month(4))
        deliver_month(engagement, month(5), items=2)
        deliver_month(engagement, month(6))
        deliver_month(engagement, month(7))

        finalize_through(engagement, month(6))
        credit = ServiceCredit.objects.get()
        assert credit.status == CreditStatus.ISSUED
        assert Measurement.objects.get(period__month=month(5)).status == MeasurementStatus.INSUFFICIENT_DATA

        finalize_through(engagement, month(7))
        credit.refresh_from_db()
        assert (credit.status, credit.earned_back_period.month, credit.amount) == (
            CreditStatus.EARNED_BACK,
            month(7),
            Decimal("2316.00"),
        )
        assert AuditEvent.objects.filter(action="credit.earned_back").count() == 1


def test_earn_back_needs_the_margin_and_a_breach_in_between_forfeits_it(tenant_a):
    """Margin 5 on a 95 target: 100 % beats it; a breach in May means the March credit is never earned back."""
    engagement, _ = sla_engagement(
        tenant_a, targets=SUPPORT_ONLY, active_from=MARCH, earn_back_periods=2, earn_back_margin=Decimal("5")
    )
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        deliver_month(engagement, month(4))
        deliver_month(engagement, month(5), breached=frozenset({"support_first_response"}))
        deliver_month(engagement, month(6))
        deliver_month(engagement, month(7))

        finalize_through(engagement, month(7))

        statuses = dict(ServiceCredit.objects.values_list("period__month", "status"))
        assert statuses == {MARCH: CreditStatus.ISSUED, month(5): CreditStatus.EARNED_BACK}


def test_escalation_ladder_notice_formal_review_exit_right_and_reset_on_met(tenant_a):
    """Breached Mar, Apr, (May insufficient), Jun, Jul; met Aug; breached Sep:
    notice (Mar, 1), formal review (Apr, 2), exit right (Jun, 3), nothing new in Jul (4), notice again (Sep, 1)."""
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY, active_from=MARCH)
    late = frozenset({"support_first_response"})
    with tenant_a.scope():
        for n, breached, items in [(3, late, 5), (4, late, 5), (5, late, 2), (6, late, 5), (7, late, 5)]:
            deliver_month(engagement, month(n), breached=breached, items=items)
        deliver_month(engagement, month(8))
        deliver_month(engagement, month(9), breached=late)

        for n in range(3, 10):
            finalize_through(engagement, month(n))

        ladder = list(Escalation.objects.order_by("period__month").values_list("period__month", "level", "breaches"))
        assert ladder == [
            (month(3), EscalationLevel.NOTICE, 1),
            (month(4), EscalationLevel.FORMAL_REVIEW, 2),
            (month(6), EscalationLevel.EXIT_RIGHT, 3),
            (month(9), EscalationLevel.NOTICE, 1),
        ]
        notice = Escalation.objects.get(period__month=month(3))
        # Finalized 2026-04-07 00:00 UTC = 01:00 BST, Tuesday (Easter Monday 04-06 is past); 10 business days
        # after Tue 7 April → Tue 21 April, end of day London.
        assert notice.created_at == datetime(2026, 4, 7, tzinfo=UTC)
        assert notice.respond_by.astimezone(engagement.calendar.zone).isoformat() == "2026-04-21T23:59:59.999999+01:00"
        review = Escalation.objects.get(level=EscalationLevel.FORMAL_REVIEW)
        assert review.meeting.kind == MeetingKind.PERFORMANCE_REVIEW
        # Finalized Thu 2026-05-07 (UTC midnight = 01:00 BST); 10 business days later: Fri 8 … Thu 21 May.
        assert review.meeting.scheduled_for.astimezone(engagement.calendar.zone).date() == date(2026, 5, 21)


def test_many_breaches_in_one_period_trigger_an_engagement_level_formal_review(tenant_a):
    """critical_breach_count 3: three targets breached in March → one formal review without a metric."""
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    breached = frozenset({"support_first_response", "session_delivery_rate", "instructor_rating"})
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=breached)
        finalize_through(engagement, MARCH)

        review = Escalation.objects.get(metric="")
        assert (review.level, review.breaches) == (EscalationLevel.FORMAL_REVIEW, 3)
        assert Escalation.objects.filter(level=EscalationLevel.NOTICE).count() == 3
        assert GovernanceMeeting.objects.filter(kind=MeetingKind.PERFORMANCE_REVIEW).count() == 1


def test_formal_reviews_reached_in_one_period_book_one_performance_review_naming_each(tenant_a):
    """Two targets breached in March (notices) and April (formal reviews, 2 < critical count 3): April's two
    formal reviews share one meeting, not two identical ones."""
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    breached = frozenset({"support_first_response", "instructor_rating"})
    with tenant_a.scope():
        for n in (3, 4):
            deliver_month(engagement, month(n), breached=breached)
        finalize_through(engagement, month(4))

        reviews = Escalation.objects.filter(level=EscalationLevel.FORMAL_REVIEW)
        meeting = GovernanceMeeting.objects.get(kind=MeetingKind.PERFORMANCE_REVIEW)
        assert sorted(reviews.values_list("metric", "meeting")) == [
            ("instructor_rating", meeting.pk),
            ("support_first_response", meeting.pk),
        ]
        assert meeting.agenda.count("breached in April 2026 (2).") == 2
        assert meeting.agenda.startswith("Formal performance review: ")


def test_two_breaches_stay_below_the_critical_count(tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response", "instructor_rating"}))
        finalize_through(engagement, MARCH)

        assert not Escalation.objects.filter(metric="").exists()
