"""Values of SPEC-SLA §2–3 by hand: means of feedback scores, utilization as sums of seats, ROUND_HALF_UP
quantization, the min_sample floor and the manual metric's verification, through finalization.

Engagements are in Europe/London with a 48,250.00 retainer and 12 % at risk: at_risk = 5,790.00, so a breached
target of allocation 10 % costs 579.00.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mls.enums import Role
from scheduling.enums import SessionStatus
from slas import services
from slas.enums import ManualStatus, MeasurementStatus
from slas.models import Breach, ServiceCredit
from tests.factories.slas import (
    attendance,
    counted_items,
    enrollment,
    feedback,
    finalized,
    measured,
    outage,
    session,
    sla_engagement,
    targets,
    ticket,
)

pytestmark = pytest.mark.unit

AFTER_GRACE = datetime(2026, 4, 20, tzinfo=UTC)


def utc(day: int, hour: int = 9, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def test_feedback_means_count_delivered_sessions_starting_in_the_period(tenant_a):
    """Delivered sessions starting 2 and 10 Mar, six feedback forms (instructor, overall): (5,4) (4,4) (3,5) and
    (5,5) (4,3) (4,3). instructor_rating = 25 / 6 = 4.1666… → 4.17 < 4.2; learner_satisfaction = 24 / 6 = 4.00
    ≥ 4.0. Not counted (each scored 1): a cancelled session of 5 Mar, a confirmed but undelivered one of 6 Mar,
    a delivered one of 27 Feb, a delivered one starting 31 Mar 23:30 UTC (1 Apr BST), and a form submitted
    after as_of."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(
            tenant_a,
            targets={
                **targets("instructor_rating", target=Decimal("4.2")),
                **targets("learner_satisfaction", target=Decimal("4.0")),
            },
        )
        first = session(engagement, starts_at=utc(2), status=SessionStatus.DELIVERED)
        second = session(engagement, starts_at=utc(10), status=SessionStatus.DELIVERED)
        scored = [feedback(first, 5, 4), feedback(first, 4, 4), feedback(first, 3, 5)]
        scored += [feedback(second, 5, 5), feedback(second, 4, 3), feedback(second, 4, 3)]
        feedback(second, 1, 1, submitted_at=datetime(2026, 4, 30, tzinfo=UTC))
        for starts_at, status in (
            (utc(5), SessionStatus.CANCELLED),
            (utc(6), SessionStatus.CONFIRMED),
            (utc(27, month=2), SessionStatus.DELIVERED),
            (utc(31, 23, 30), SessionStatus.DELIVERED),
        ):
            feedback(session(engagement, starts_at=starts_at, status=status), 1, 1)

        results = measured(engagement, "2026-03", AFTER_GRACE)

    rating, satisfaction = results["instructor_rating"], results["learner_satisfaction"]
    assert (rating.value, rating.numerator, rating.denominator) == (Decimal("4.17"), 25, 6)
    assert (satisfaction.value, satisfaction.numerator, satisfaction.denominator) == (Decimal("4.00"), 24, 6)
    assert (rating.meets_target, satisfaction.meets_target) == (False, True)
    assert counted_items(rating) == counted_items(satisfaction) == {"scored": sorted(form.pk for form in scored)}


def test_training_utilization_sums_seats_not_ratios(tenant_a):
    """Delivered sessions: 9 present of capacity 10 (90 %) and 10 present of capacity 40 (25 %). Sums: 19 / 50 =
    38.00 — the mean of the ratios would be 57.50. An absent learner takes no seat; a provider-cancelled session
    (capacity 20), a confirmed undelivered one and a delivered February one are not counted."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("training_utilization", target=Decimal("75")))
        small = session(engagement, starts_at=utc(2), status=SessionStatus.DELIVERED, capacity=10)
        large = session(engagement, starts_at=utc(3), status=SessionStatus.DELIVERED, capacity=40)
        for course_session, present, absent in ((small, 9, 1), (large, 10, 5)):
            for _ in range(present):
                attendance(enrollment(course_session, utc(1)))
            for _ in range(absent):
                attendance(enrollment(course_session, utc(1)), present=False)
        session(engagement, starts_at=utc(4), status=SessionStatus.CANCELLED, capacity=20)
        attendance(enrollment(session(engagement, starts_at=utc(5), capacity=20), utc(1)))
        february = session(engagement, starts_at=utc(27, month=2), status=SessionStatus.DELIVERED, capacity=5)
        attendance(enrollment(february, utc(20, month=2)))

        m = measured(engagement, "2026-03", AFTER_GRACE)["training_utilization"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("38.00"), 19, 50)
    assert counted_items(m) == {"sessions": sorted([small.pk, large.pk])}


# --- Quantization: ROUND_HALF_UP on Decimals (SPEC-SLA §2) ---------------------------------------------------


def test_uptime_of_exactly_94_995_rounds_up_and_meets_95(tenant_a):
    """January 2026 (GMT): 744 h = 2,678,400 s. Planned maintenance of 18,400 s (5 h 6 min 40 s) leaves
    2,660,000 s; unplanned 133,133 s (36 h 58 min 53 s) down leaves 2,526,867 s up.
    100 · 2,526,867 / 2,660,000 = 94.995 exactly (= 18999/20000) → 95.00 half-up (a float gives 94.99499…),
    so the 95 target is met and nothing is breached. Minutes: 42,114.45 up of 44,333.3333."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("platform_uptime", target=Decimal("95")))
        maintenance = datetime(2026, 1, 4, 1, tzinfo=UTC)
        outage(engagement, maintenance, maintenance + timedelta(seconds=18_400), planned=True)
        down = datetime(2026, 1, 14, tzinfo=UTC)
        outage(engagement, down, down + timedelta(hours=36, minutes=58, seconds=53))

        m = finalized(engagement, "2026-01", datetime(2026, 2, 20, tzinfo=UTC))["platform_uptime"]

        breaches = Breach.objects.filter(engagement=engagement).count()
    assert (m.value, m.numerator, m.denominator) == (Decimal("95.00"), Decimal("42114.4500"), Decimal("44333.3333"))
    assert (m.status, m.meets_target, breaches) == (MeasurementStatus.MET, True, 0)


def test_mean_of_4_125_rounds_half_up_to_4_13(tenant_a):
    """Eight instructor scores 5, 5, 4, 4, 4, 4, 4, 3 = 33: 33 / 8 = 4.125 → 4.13 half-up (half-even, and
    Python's round() on the float, give 4.12), which meets a 4.13 target."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("instructor_rating", target=Decimal("4.13")))
        delivered = session(engagement, starts_at=utc(2), status=SessionStatus.DELIVERED)
        for score in (5, 5, 4, 4, 4, 4, 4, 3):
            feedback(delivered, score, 4)

        m = finalized(engagement, "2026-03", AFTER_GRACE)["instructor_rating"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("4.13"), 33, 8)
    assert (m.status, m.meets_target) == (MeasurementStatus.MET, True)


# --- The min_sample floor at finalization ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("late", "open_", "status", "credits"),
    [
        # 4 failed < 5: insufficient data, value 0.00 kept for the record, no breach, no credit.
        (4, 0, MeasurementStatus.INSUFFICIENT_DATA, []),
        # 5 failed: 0 / 5 = 0.00 < 95, breached: credit 5,790.00 · 10 % = 579.00.
        (5, 0, MeasurementStatus.BREACHED, [Decimal("579.00")]),
        # 3 failed and 3 still pending at the close: pending items are not in the sample, 3 < 5.
        (3, 3, MeasurementStatus.INSUFFICIENT_DATA, []),
    ],
)
def test_too_few_items_at_finalization_is_insufficient_data(tenant_a, late, open_, status, credits):
    """H = 240 h (10 days), min_sample 5. Unanswered tickets opened 2 Mar are due 12 Mar: failed. Unanswered
    tickets opened 31 Mar 12:00 UTC are due 10 Apr 12:00 UTC, after March closes (5 Apr 23:00 UTC): pending."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("support_first_response", threshold=240, min_sample=5))
        for _ in range(late):
            ticket(engagement, utc(2))
        for _ in range(open_):
            ticket(engagement, utc(31, 12))

        m = finalized(engagement, "2026-03", AFTER_GRACE)["support_first_response"]

        amounts = list(ServiceCredit.objects.filter(engagement=engagement).values_list("amount", flat=True))
        breaches = Breach.objects.filter(engagement=engagement).count()
    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("0.00"), 0, late, open_)
    assert m.status == status
    assert (breaches, amounts) == (len(credits), credits)


# --- The manual metric: counts once the other side verifies (SPEC-SLA §3) --------------------------------


@pytest.fixture
def _media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.usefixtures("_media_root")
@pytest.mark.parametrize(
    ("review", "status", "result", "credits"),
    [
        # Never reviewed by the client: pending verification (value 97.50 of 100 kept), no breach, no credit.
        (None, MeasurementStatus.PENDING_VERIFICATION, (Decimal("97.50"), 100), []),
        # Verified: 97.50 < 98, breached: 5,790.00 · 10 % = 579.00.
        ("verify", MeasurementStatus.BREACHED, (Decimal("97.50"), 100), [Decimal("579.00")]),
        # Disputed: never counts; nothing else was submitted, so there is no value at all.
        ("dispute", MeasurementStatus.INSUFFICIENT_DATA, (None, 0), []),
    ],
)
def test_completion_reporting_accuracy_counts_only_once_verified(tenant_a, review, status, result, credits):
    """The provider audits 40 completion records of March and submits 97.50 % with evidence. While it waits for
    the client, the provisional measurement shows the value but does not judge it."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(
            tenant_a, targets=targets("completion_reporting_accuracy", target=Decimal("98"), min_sample=20)
        )
        manual = services.submit_manual_measurement(
            engagement=engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            month=datetime(2026, 3, 1).date(),
            metric="completion_reporting_accuracy",
            value=Decimal("97.50"),
            sample_size=40,
            evidence=SimpleUploadedFile("audit.pdf", b"%PDF-1.4 audit sample", content_type="application/pdf"),
        )
        provisional = measured(engagement, "2026-03", datetime(2026, 4, 2, tzinfo=UTC))["completion_reporting_accuracy"]
        director = tenant_a.members[Role.LD_DIRECTOR]
        if review == "verify":
            services.verify_manual_measurement(manual=manual, membership=director)
        elif review == "dispute":
            services.dispute_manual_measurement(manual=manual, membership=director, reason="Sample left out 3 sites")

        m = finalized(engagement, "2026-03", AFTER_GRACE)["completion_reporting_accuracy"]

        amounts = list(ServiceCredit.objects.filter(engagement=engagement).values_list("amount", flat=True))
    assert (provisional.status, provisional.value, provisional.meets_target) == (
        MeasurementStatus.PROVISIONAL,
        Decimal("97.50"),
        None,
    )
    assert counted_items(provisional) == {"manual_measurement": manual.pk, "status": ManualStatus.SUBMITTED}
    assert (m.status, m.value, m.denominator) == (status, *result)
    assert amounts == credits
