"""Business days and deadlines (SPEC-SLA §1): the one implementation shared by change requests and SLAs.

A business day is Monday–Friday that is not a public holiday of the calendar's country/subdivision.
Dates are local dates in the calendar's timezone; stored timestamps are UTC and converted here.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

END_OF_DAY = time(23, 59, 59, 999999)


@cache
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str
    country: str
    subdivision: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("business-day arithmetic needs timezone-aware datetimes")
        return moment.astimezone(self.zone).date()

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _public_holidays(self.country, self.subdivision, day.year)

    def add_business_days(self, day: date, count: int) -> date:
        """The `count`-th business day after `day` (count >= 1)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        while count:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count -= 1
        return day

    def deadline_after(self, moment: datetime, count: int) -> datetime:
        """End (local 23:59:59.999999) of the `count`-th business day after the local date of `moment`."""
        last_day = self.add_business_days(self.local_date(moment), count)
        return datetime.combine(last_day, END_OF_DAY, tzinfo=self.zone)

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Number of business days d with local date(start) < d <= local date(end); 0 if end is not later."""
        first, last = self.local_date(start), self.local_date(end)
        return sum(1 for n in range(1, (last - first).days + 1) if self.is_business_day(first + timedelta(days=n)))
