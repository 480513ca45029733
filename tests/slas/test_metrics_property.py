"""Property tests: the SLA engine agrees with a plain reference reading of SPEC-SLA §1–2 on random delivery data,
and the credit split of §4 keeps its invariants on random allocations.

The reference below is written from the spec alone: zoneinfo for local dates and the `holidays` package for
public holidays, not the engine's Period or BusinessCalendar, so it is an independent check.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagements.models import Engagement
from scheduling.enums import SessionStatus
from slas.arithmetic import service_credits
from slas.catalog import METRICS
from slas.enums import ReliefKind, ReliefStatus
from slas.models import ReliefEvent, SlaTarget
from tests.factories.slas import counted_items, enrollment, feedback, measured, session, sla_engagement, targets, ticket

pytestmark = pytest.mark.unit

CENT = Decimal("0.01")
GRACE_DAYS = 5
PERCENT_METRICS = ("support_first_response", "enrollment_processing")
MEAN_METRICS = {"instructor_rating": 0, "learner_satisfaction": 1}  # index of the score in (instructor, overall)
MEASURED = (*PERCENT_METRICS, *MEAN_METRICS)
# (timezone, holiday country, subdivision): DST north and south, a half-hour offset without DST.
CALENDARS = [
    ("Europe/London", "GB", "ENG"),
    ("America/New_York", "US", "NY"),
    ("Australia/Sydney", "AU", "NSW"),
    ("Asia/Kolkata", "IN", ""),
]
MONTHS = [date(2026, 3, 1), date(2026, 4, 1), date(2026, 10, 1), date(2026, 12, 1)]


# --- The reference reading of SPEC-SLA §1–2 ---------------------------------------------------------------


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def nth_business_day_end(moment: datetime, n: int, zone: ZoneInfo, public_holidays: holidays.HolidayBase) -> datetime:
    """End (local 23:59:59.999999) of the n-th Monday–Friday non-holiday after the local date of `moment`."""
    day, found = moment.astimezone(zone).date(), 0
    while found < n:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in public_holidays:
            found += 1
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=zone)


@dataclass(frozen=True)
class Relief:
    starts_on: date
    ends_on: date
    metrics: tuple[str, ...]  # empty: every metric
    approved: bool

    def excludes(self, metric: str, anchor: datetime, zone: ZoneInfo) -> bool:
        covered = not self.metrics or metric in self.metrics
        return self.approved and covered and self.starts_on <= anchor.astimezone(zone).date() <= self.ends_on


def outcome(resolved: datetime | None, deadline: datetime, as_of: datetime) -> str:
    """§2: resolved (by as_of) within the deadline is met; unresolved at as_of and not yet due is pending;
    anything else (resolved late, or unresolved past the deadline) failed."""
    if resolved is not None and resolved <= as_of:
        return "met" if resolved <= deadline else "failed"
    return "pending" if deadline > as_of else "failed"


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_result(outcomes: dict[int, str]) -> dict:
    met = sorted(pk for pk, result in outcomes.items() if result == "met")
    failed = sorted(pk for pk, result in outcomes.items() if result == "failed")
    pending = sorted(pk for pk, result in outcomes.items() if result == "pending")
    total = len(met) + len(failed)
    return {
        "value": half_up(Decimal(100) * len(met) / total) if total else None,
        "numerator": len(met),
        "denominator": total,
        "pending": len(pending),
        "inputs": {"met": met, "failed": failed, "pending": pending},
    }


def mean_result(scores: dict[int, int]) -> dict:
    total, count = sum(scores.values()), len(scores)
    return {
        "value": half_up(Decimal(total) / count) if count else None,
        "numerator": total,
        "denominator": count,
        "pending": 0,
        "inputs": {"scored": sorted(scores)},
    }


# --- Random delivery data ------------------------------------------------------------------------------------

# A moment as (day offset from the local 1st of the month, minute of that day): from 2 days before the month to
# 2–5 days after it, so items fall inside, just outside and on the boundaries.
moments = st.tuples(st.integers(-2, 33), st.integers(0, 24 * 60 - 1))


@st.composite
def deliveries(draw: st.DrawFn) -> dict:
    hours = draw(st.integers(1, 72))
    return {
        "calendar": draw(st.sampled_from(CALENDARS)),
        "month": draw(st.sampled_from(MONTHS)),
        "hours": hours,
        "business_days": draw(st.integers(1, 5)),
        # "closed": computed long after the grace days (as_of = the close); else a moment up to 45 days in
        "now": draw(st.just("closed") | st.tuples(st.integers(0, 45), st.integers(0, 24 * 60 - 1))),
        # (opened, minutes to the first response or None)
        "tickets": draw(
            st.lists(st.tuples(moments, st.none() | st.integers(0, 3 * hours * 60)), min_size=1, max_size=8)
        ),
        # (requested, processed: minutes later, None, or exactly at / 1 µs after the business-day deadline)
        "enrollments": draw(
            st.lists(
                st.tuples(moments, st.none() | st.integers(0, 9 * 24 * 60) | st.sampled_from(["due", "late"])),
                min_size=1,
                max_size=6,
            )
        ),
        # (session start, status, [(instructor, overall, minutes after the start it was submitted)])
        "sessions": draw(
            st.lists(
                st.tuples(
                    moments,
                    st.sampled_from([SessionStatus.DELIVERED, SessionStatus.DELIVERED, SessionStatus.CONFIRMED]),
                    st.lists(
                        st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(0, 8 * 24 * 60)),
                        min_size=1,
                        max_size=3,
                    ),
                ),
                min_size=1,
                max_size=3,
            )
        ),
        # (first day offset from the 1st, extra days, metric index or -1 for all, approved)
        "relief": draw(
            st.lists(
                st.tuples(
                    st.integers(-3, 32), st.integers(0, 5), st.integers(-1, 3), st.sampled_from([True, True, False])
                ),
                min_size=1,
                max_size=2,
            )
        ),
    }


def processed_at(requested: datetime, processing: int | str | None, deadline: datetime) -> datetime | None:
    if processing is None:
        return None
    if processing == "due":
        return deadline
    if processing == "late":
        return deadline + timedelta(microseconds=1)
    return requested + timedelta(minutes=processing)


@pytest.fixture
def engagement(tenant_a) -> Engagement:
    with tenant_a.scope():
        engagement, _ = sla_engagement(
            tenant_a,
            targets={
                **targets(*PERCENT_METRICS, threshold=None),
                **targets(*MEAN_METRICS, target=Decimal("4"), threshold=None),
            },
        )
    return engagement


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=deliveries())
def test_engine_agrees_with_the_reference_on_random_delivery(tenant_a, engagement, data):
    timezone, country, subdivision = data["calendar"]
    zone = ZoneInfo(timezone)
    public_holidays = holidays.country_holidays(country, subdiv=subdivision or None, years=range(2026, 2028))
    month = data["month"]
    start, end = local_midnight(month, zone), local_midnight(next_month(month), zone)
    origin = start.astimezone(UTC)

    def at(moment: tuple[int, int]) -> datetime:
        day, minute = moment
        return origin + timedelta(days=day, minutes=minute)

    now = datetime(2027, 1, 1, tzinfo=UTC) if data["now"] == "closed" else at(data["now"])
    as_of = min(now, local_midnight(next_month(month) + timedelta(days=GRACE_DAYS), zone))
    reliefs = [
        Relief(
            month + timedelta(days=first),
            month + timedelta(days=first + extra),
            (MEASURED[metric],) if metric >= 0 else (),
            approved,
        )
        for first, extra, metric, approved in data["relief"]
    ]

    def counted(metric: str, anchor: datetime) -> bool:
        return start <= anchor < end and not any(r.excludes(metric, anchor, zone) for r in reliefs)

    with tenant_a.scope(), transaction.atomic():
        Engagement.objects.filter(pk=engagement.pk).update(
            timezone=timezone, holiday_country=country, holiday_subdivision=subdivision
        )
        engagement.refresh_from_db()
        SlaTarget.objects.filter(schedule__engagement=engagement, metric="support_first_response").update(
            threshold=data["hours"]
        )
        SlaTarget.objects.filter(schedule__engagement=engagement, metric="enrollment_processing").update(
            threshold=data["business_days"]
        )
        for relief in reliefs:
            ReliefEvent.objects.create(
                organization=engagement.organization,
                engagement=engagement,
                kind=ReliefKind.FORCE_MAJEURE,
                starts_on=relief.starts_on,
                ends_on=relief.ends_on,
                metrics=list(relief.metrics),
                reason="Storm",
                status=ReliefStatus.APPROVED if relief.approved else ReliefStatus.REQUESTED,
            )

        expected_tickets = {}
        for opened_at, answer in data["tickets"]:
            opened = at(opened_at)
            answered = None if answer is None else opened + timedelta(minutes=answer)
            pk = ticket(engagement, opened, answered).pk
            if counted("support_first_response", opened):
                expected_tickets[pk] = outcome(answered, opened + timedelta(hours=data["hours"]), as_of)

        host = session(engagement, starts_at=datetime(2027, 6, 1, 9, tzinfo=UTC))
        expected_enrollments = {}
        for requested_at, processing in data["enrollments"]:
            requested = at(requested_at)
            deadline = nth_business_day_end(requested, data["business_days"], zone, public_holidays)
            processed = processed_at(requested, processing, deadline)
            pk = enrollment(host, requested, processed).pk
            if counted("enrollment_processing", requested):
                expected_enrollments[pk] = outcome(processed, deadline, as_of)

        expected_scores = {metric: {} for metric in MEAN_METRICS}
        for session_start, status, forms in data["sessions"]:
            starts_at = at(session_start)
            delivered = session(engagement, starts_at=starts_at, status=status)
            for instructor, overall, submitted_after in forms:
                submitted = starts_at + timedelta(minutes=submitted_after)
                pk = feedback(delivered, instructor, overall, submitted_at=submitted).pk
                for metric, index in MEAN_METRICS.items():
                    if status == SessionStatus.DELIVERED and submitted <= as_of and counted(metric, starts_at):
                        expected_scores[metric][pk] = (instructor, overall)[index]

        results = measured(engagement, f"{month:%Y-%m}", now)
        counted = {metric: counted_items(m) for metric, m in results.items()}
        transaction.set_rollback(True)

    expected = {
        "support_first_response": percent_result(expected_tickets),
        "enrollment_processing": percent_result(expected_enrollments),
        **{metric: mean_result(expected_scores[metric]) for metric in MEAN_METRICS},
    }
    actual = {
        metric: {
            "value": m.value,
            "numerator": m.numerator,
            "denominator": m.denominator,
            "pending": m.pending,
            "inputs": counted[metric],
        }
        for metric, m in results.items()
    }
    assert actual == expected
    assert {m.as_of for m in results.values()} == {as_of}


# --- Service credits (SPEC-SLA §4) -------------------------------------------------------------------------

cents = st.integers(0, 10_000_000).map(lambda n: Decimal(n).scaleb(-2))
allocations = st.dictionaries(
    st.sampled_from(sorted(METRICS)), st.integers(1, 10_000).map(lambda n: Decimal(n).scaleb(-2)), min_size=1
)


@given(at_risk=cents, shares=allocations)
def test_service_credits_never_exceed_the_amount_at_risk(at_risk, shares):
    split = service_credits(at_risk, shares)

    uncapped = {metric: (at_risk * share / 100).quantize(CENT, ROUND_HALF_UP) for metric, share in shares.items()}
    assert split.uncapped == uncapped
    assert split.capped == (sum(uncapped.values()) > at_risk)
    assert set(split.amounts) == set(shares)
    assert all(amount >= 0 and amount.as_tuple().exponent == -2 for amount in split.amounts.values())
    assert split.total <= at_risk
    if split.capped:
        assert split.total == at_risk
        largest = min(shares, key=lambda metric: (-shares[metric], metric))
        total_share = sum(shares.values())
        floors = {m: (at_risk * share / total_share).quantize(CENT, ROUND_FLOOR) for m, share in shares.items()}
        assert {m: a for m, a in split.amounts.items() if m != largest} == {
            m: a for m, a in floors.items() if m != largest
        }
        assert split.amounts[largest] >= floors[largest]
    else:
        assert split.amounts == uncapped
