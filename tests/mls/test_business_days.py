"""Business days per SPEC-SLA §1, on fixed dates with real public holidays."""

from datetime import UTC, date, datetime

import pytest

from mls.business_days import BusinessCalendar

pytestmark = pytest.mark.unit

LONDON = BusinessCalendar("Europe/London", "GB", "ENG")
BERLIN = BusinessCalendar("Europe/Berlin", "DE")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 24), True),  # Thursday
        (date(2026, 12, 25), False),  # Christmas Day (Friday)
        (date(2026, 12, 26), False),  # Saturday
        (date(2026, 12, 28), False),  # Boxing Day substitute (Monday), England
        (date(2026, 12, 29), True),  # Tuesday
    ],
)
def test_is_business_day_knows_weekends_and_substitute_holidays(day, expected):
    assert LONDON.is_business_day(day) is expected


def test_deadline_after_skips_weekend_and_national_holiday():
    # Submitted Thursday 2026-12-24 10:00 London. Business days after: Tue 29 (1), Wed 30 (2), Thu 31 (3),
    # Fri 1 Jan is New Year's Day (skip), Mon 4 Jan (4), Tue 5 Jan (5).
    submitted = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)

    deadline = LONDON.deadline_after(submitted, 5)

    assert deadline.isoformat() == "2027-01-05T23:59:59.999999+00:00"


def test_deadline_after_uses_the_local_date_not_the_utc_date():
    # 2026-07-02 23:30 UTC is already Friday 3 July 01:30 in Berlin (CEST): 1 business day later is Monday 6 July.
    moment = datetime(2026, 7, 2, 23, 30, tzinfo=UTC)

    deadline = BERLIN.deadline_after(moment, 1)

    assert deadline.isoformat() == "2026-07-06T23:59:59.999999+02:00"


def test_deadline_after_ten_business_days_default_response_window():
    # Monday 2026-03-02 (England): 10 business days later is Monday 16 March, end of day GMT.
    assert LONDON.deadline_after(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 10).isoformat() == (
        "2026-03-16T23:59:59.999999+00:00"
    )


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Thursday 24 → Tuesday 29: 25 holiday, 26–27 weekend, 28 substitute holiday, 29 counts → 1.
        (datetime(2026, 12, 24, 9, tzinfo=UTC), datetime(2026, 12, 29, 9, tzinfo=UTC), 1),
        # Same local day → 0 (the start day itself never counts).
        (datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 2, 17, tzinfo=UTC), 0),
        # End before start → 0.
        (datetime(2026, 3, 5, 8, tzinfo=UTC), datetime(2026, 3, 2, 17, tzinfo=UTC), 0),
        # Mon 2 → Mon 9 March: Tue–Fri (4) + Mon (1) = 5.
        (datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 9, 8, tzinfo=UTC), 5),
    ],
)
def test_business_days_between_counts_days_after_start_up_to_end(start, end, expected):
    assert LONDON.business_days_between(start, end) == expected


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        LONDON.deadline_after(datetime(2026, 3, 2, 9, 0), 1)
