"""Time in the SLA engine (SPEC-SLA §1): periods are local calendar months, DST months are 743 or 745 hours, and
business-day deadlines skip weekends and the public holidays of the engagement's country and subdivision.

Europe/London in 2026: BST from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engagements.models import Engagement
from slas.periods import Period
from tests.factories.slas import (
    change_request,
    counted_items,
    enrollment,
    measured,
    outage,
    relief,
    session,
    sla_engagement,
    targets,
    ticket,
)

pytestmark = pytest.mark.unit

LONDON = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)


def utc_hours(period: Period) -> Decimal:
    """The period's true length: the difference of its bounds as UTC instants (an aware subtraction within one
    tzinfo would give the wall-clock difference, 744 h for both March and October)."""
    return Decimal((period.end.astimezone(UTC) - period.start.astimezone(UTC)) / HOUR)


@pytest.mark.parametrize(
    ("month", "start_utc", "end_utc", "hours"),
    [
        # GMT → BST on 29 Mar: 1 Mar 00:00 GMT = 00:00 UTC, 1 Apr 00:00 BST = 31 Mar 23:00 UTC: 31·24 − 1 = 743 h.
        ("2026-03", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, 23, tzinfo=UTC), 743),
        # BST → GMT on 25 Oct: 1 Oct 00:00 BST = 30 Sep 23:00 UTC, 1 Nov 00:00 GMT: 31·24 + 1 = 745 h.
        ("2026-10", datetime(2026, 9, 30, 23, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC), 745),
        # No change in January: 744 h.
        ("2026-01", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), 744),
    ],
)
def test_period_bounds_are_local_midnights(month, start_utc, end_utc, hours):
    period = Period.parse(month, "Europe/London")

    assert (period.start, period.end) == (start_utc, end_utc)
    assert (period.start.astimezone(LONDON).time(), period.end.astimezone(LONDON).time()) == (
        datetime.min.time(),
        datetime.min.time(),
    )
    assert utc_hours(period) == hours


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), date(2026, 4, 1)),  # 1 Apr 00:30 BST
        (datetime(2026, 3, 31, 22, 59, tzinfo=UTC), date(2026, 3, 1)),  # 31 Mar 23:59 BST
        (datetime(2026, 3, 1, 0, 30, tzinfo=LONDON), date(2026, 3, 1)),  # 1 Mar 00:30 GMT
        (datetime(2026, 9, 30, 23, 30, tzinfo=UTC), date(2026, 10, 1)),  # 1 Oct 00:30 BST
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), date(2026, 10, 1)),  # 31 Oct 23:30 GMT
    ],
)
def test_period_containing_uses_the_local_date(moment, month):
    assert Period.containing(moment, "Europe/London").month == month


def test_period_closes_at_local_midnight_after_the_grace_days():
    """March closes 5 calendar days after its end: 6 Apr 00:00 BST = 5 Apr 23:00 UTC; as_of is the earlier of that
    and now."""
    march = Period.parse("2026-03", "Europe/London")
    before, after = datetime(2026, 3, 20, 12, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)

    assert march.closes_at(5) == datetime(2026, 4, 5, 23, tzinfo=UTC)
    assert (march.as_of(before, 5), march.as_of(after, 5)) == (before, datetime(2026, 4, 5, 23, tzinfo=UTC))


def test_items_belong_to_the_month_of_their_local_time(tenant_a):
    """H = 8, every ticket answered within the hour. 2026-03-31 23:30 UTC is 1 Apr 00:30 BST: April's.
    2026-03-01 00:30 GMT is March's; 2026-02-28 23:30 UTC (GMT too) is February's. 2026-09-30 23:30 UTC is
    1 Oct 00:30 BST: October's; 2026-10-31 23:30 UTC is still 31 Oct (GMT): October's."""
    after_october = datetime(2026, 12, 1, tzinfo=UTC)
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("support_first_response", threshold=8))

        def answered(opened: datetime) -> object:
            return ticket(engagement, opened, opened + timedelta(minutes=30))

        april_first = answered(datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
        march_first = answered(datetime(2026, 3, 1, 0, 30, tzinfo=LONDON))
        february_last = answered(datetime(2026, 2, 28, 23, 30, tzinfo=UTC))
        october_first = answered(datetime(2026, 9, 30, 23, 30, tzinfo=UTC))
        october_last = answered(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))

        met = {
            month: counted_items(measured(engagement, month, after_october)["support_first_response"])["met"]
            for month in ("2026-02", "2026-03", "2026-04", "2026-09", "2026-10")
        }

    assert met == {
        "2026-02": [february_last.pk],
        "2026-03": [march_first.pk],
        "2026-04": [april_first.pk],
        "2026-09": [],
        "2026-10": sorted([october_first.pk, october_last.pk]),
    }


@pytest.mark.parametrize(
    ("month", "outage_start", "value", "minutes"),
    [
        # March is 743 h = 44,580 min; 10 h down: 733 / 743 = 98.6541… → 98.65 (a 744 h month would give 98.66).
        ("2026-03", datetime(2026, 3, 10, 8, tzinfo=UTC), Decimal("98.65"), Decimal("44580")),
        # October is 745 h = 44,700 min; 10 h down: 735 / 745 = 98.6577… → 98.66.
        ("2026-10", datetime(2026, 10, 10, 8, tzinfo=UTC), Decimal("98.66"), Decimal("44700")),
    ],
)
def test_platform_uptime_uses_the_true_length_of_a_dst_month(tenant_a, month, outage_start, value, minutes):
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("platform_uptime", target=Decimal("99.5")))
        down = outage(engagement, outage_start, outage_start + 10 * HOUR)

        m = measured(engagement, month, datetime(2026, 12, 1, tzinfo=UTC))["platform_uptime"]

    assert (m.value, m.numerator, m.denominator) == (value, minutes - 600, minutes)
    assert counted_items(m) == {"unplanned_outages": [down.pk], "planned_outages": [], "down_minutes": "600.0000"}


def test_platform_uptime_excludes_planned_maintenance_and_relief_and_merges_overlaps(tenant_a):
    """January 2026 (GMT, 744 h). Planned maintenance 5 Jan 02:00–06:00 (4 h) and relief on 10 Jan (24 h) leave
    716 h. Unplanned: 10 Jan 23:00–11 Jan 01:00 (only the hour after the relief day counts) and 20 Jan
    10:00–12:00 overlapping 11:00–13:00 (3 h, not 4). Down 1 + 3 = 4 h: 712 / 716 = 99.4413… → 99.44;
    712 h = 42,720 min of 716 h = 42,960 min."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("platform_uptime", target=Decimal("99.5")))
        planned = outage(
            engagement, datetime(2026, 1, 5, 2, tzinfo=UTC), datetime(2026, 1, 5, 6, tzinfo=UTC), planned=True
        )
        across_relief = outage(engagement, datetime(2026, 1, 10, 23, tzinfo=UTC), datetime(2026, 1, 11, 1, tzinfo=UTC))
        first = outage(engagement, datetime(2026, 1, 20, 10, tzinfo=UTC), datetime(2026, 1, 20, 12, tzinfo=UTC))
        overlapping = outage(engagement, datetime(2026, 1, 20, 11, tzinfo=UTC), datetime(2026, 1, 20, 13, tzinfo=UTC))
        relief(engagement, tenant_a, date(2026, 1, 10), date(2026, 1, 10))

        m = measured(engagement, "2026-01", datetime(2026, 3, 1, tzinfo=UTC))["platform_uptime"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("99.44"), Decimal("42720"), Decimal("42960"))
    assert counted_items(m) == {
        "unplanned_outages": sorted([across_relief.pk, first.pk, overlapping.pk]),
        "planned_outages": [planned.pk],
        "down_minutes": "240.0000",
    }


# --- Business days and public holidays ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subdivision", "deadline_day"),
    [
        # England: Good Friday 3 Apr and Easter Monday 6 Apr are holidays: Thu 2 Apr + 2 = Tue 7 (1), Wed 8 (2).
        ("ENG", date(2026, 4, 8)),
        # Scotland keeps Good Friday but not Easter Monday: Mon 6 (1), Tue 7 (2).
        ("SCT", date(2026, 4, 7)),
    ],
)
def test_enrollment_deadline_skips_weekends_and_public_holidays(tenant_a, subdivision, deadline_day):
    """Two enrollments requested Thu 2 Apr 10:00 BST, N = 2: processed at the deadline (end of the 2nd business
    day, 23:59:59.999999 BST) is met, 1 µs later failed: 1 / 2 = 50.00."""
    requested = datetime(2026, 4, 2, 10, tzinfo=LONDON)
    deadline = datetime.combine(deadline_day, datetime.max.time(), tzinfo=LONDON)
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("enrollment_processing", threshold=2))
        Engagement.objects.filter(pk=engagement.pk).update(holiday_subdivision=subdivision)
        engagement.refresh_from_db()
        course_session = session(engagement, starts_at=datetime(2026, 4, 20, 9, tzinfo=UTC))
        on_time = enrollment(course_session, requested, deadline)
        late = enrollment(course_session, requested, deadline + MICROSECOND)

        m = measured(engagement, "2026-04", datetime(2026, 6, 1, tzinfo=UTC))["enrollment_processing"]

    assert engagement.calendar.deadline_after(requested, 2) == deadline
    assert (m.value, m.numerator, m.denominator) == (Decimal("50.00"), 1, 2)
    assert counted_items(m) == {"met": [on_time.pk], "failed": [late.pk], "pending": []}


def test_change_request_deadline_and_sla_deadline_come_from_one_calendar(tenant_a):
    """A change request submitted Thu 2 Apr 10:00 BST with the MSA's 10 business days: Tue 7 – Fri 10 Apr (4),
    13–17 Apr (9), Mon 20 Apr (10), Good Friday and Easter Monday skipped. respond_by, set from
    engagement.calendar.deadline_after, is the engine's deadline too: answered at respond_by is met, 1 µs
    later failed. 1 / 2 = 50.00."""
    submitted = datetime(2026, 4, 2, 10, tzinfo=LONDON)
    deadline = datetime(2026, 4, 20, 23, 59, 59, 999999, tzinfo=LONDON)
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("change_request_response", threshold=10))
        on_time = change_request(engagement, tenant_a, submitted, responded_at=deadline)
        late = change_request(engagement, tenant_a, submitted, responded_at=deadline + MICROSECOND)

        m = measured(engagement, "2026-04", datetime(2026, 6, 1, tzinfo=UTC))["change_request_response"]

    assert engagement.cr_response_business_days == 10
    assert engagement.calendar.deadline_after(submitted, 10) == on_time.respond_by == late.respond_by == deadline
    assert (m.value, m.numerator, m.denominator) == (Decimal("50.00"), 1, 2)
    assert counted_items(m) == {"met": [on_time.pk], "failed": [late.pk], "pending": []}
