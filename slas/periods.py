"""SLA periods (SPEC-SLA §1): calendar months in the engagement's timezone, with their UTC bounds.

A period is [local 00:00 on the 1st, local 00:00 on the 1st of next month); DST months are 743 or 745 hours.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mls.months import FIRST_YEAR, LAST_YEAR, MONTH_PATTERN, parse_month  # noqa: F401 - periods' own rule


def first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    month: date  # first day of the month
    timezone: str

    @classmethod
    def parse(cls, text: str, timezone: str) -> "Period":
        """`YYYY-MM` → that month in `timezone`; ValueError with a readable message otherwise."""
        return cls(parse_month(text), timezone)

    @classmethod
    def containing(cls, moment: datetime, timezone: str) -> "Period":
        local = moment.astimezone(ZoneInfo(timezone)).date()
        return cls(local.replace(day=1), timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def next_month(self) -> date:
        return first_of_next_month(self.month)

    @property
    def last_day(self) -> date:
        return self.next_month - timedelta(days=1)

    @property
    def start(self) -> datetime:
        return self.midnight(self.month)

    @property
    def end(self) -> datetime:
        return self.midnight(self.next_month)

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.zone)

    def days(self) -> Iterator[tuple[date, datetime, datetime]]:
        """Each local day of the period with its [start, end) instants."""
        day = self.month
        while day < self.next_month:
            following = day + timedelta(days=1)
            yield day, self.midnight(day), self.midnight(following)
            day = following

    def closes_at(self, grace_days: int) -> datetime:
        """When the period becomes final: its end plus the grace days (local calendar days)."""
        return self.midnight(self.next_month + timedelta(days=grace_days))

    def as_of(self, now: datetime, grace_days: int) -> datetime:
        """SPEC-SLA §2: the evaluation time, min(now, period end + grace days)."""
        return min(now, self.closes_at(grace_days))

    def __str__(self) -> str:
        return self.label


def months_between(first: date, last: date) -> list[date]:
    """First days of every month from `first`'s month to `last`'s month, inclusive."""
    month, months = first.replace(day=1), []
    while month <= last:
        months.append(month)
        month = first_of_next_month(month)
    return months
