"""The quarter a report covers and the month it shows: one definition for every tile, column, chart and the QBR.

A quarter view never shows a month outside its quarter: the status column, the SLA tiles and their sparklines end
at the quarter's last month that has begun (the running month of the current quarter), and each says which month it
shows.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slas.periods import first_of_next_month

QUARTER_KEY = re.compile(r"(?P<year>(19|20)\d\d)-Q(?P<number>[1-4])")


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter of the organization's timezone: [start, end) as dates and as instants."""

    start: date
    end: date
    timezone: str

    @classmethod
    def containing(cls, day: date, timezone: str) -> "Quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return cls(start, first_of_next_month(first_of_next_month(first_of_next_month(start))), timezone)

    @classmethod
    def named(cls, key: str, timezone: str) -> "Quarter":
        """The quarter a `key` (as in URLs: 2026-Q3) names; ValueError for anything else."""
        match = QUARTER_KEY.fullmatch(key)
        if match is None:
            raise ValueError(f"{key!r} names no quarter.")
        return cls.containing(date(int(match["year"]), 3 * int(match["number"]) - 2, 1), timezone)

    @property
    def number(self) -> int:
        return (self.start.month - 1) // 3 + 1

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.start.year}"

    @property
    def key(self) -> str:
        return f"{self.start.year}-Q{self.number}"

    @property
    def previous(self) -> "Quarter":
        return Quarter.containing(self.start - timedelta(days=1), self.timezone)

    @property
    def following(self) -> "Quarter":
        return Quarter.containing(self.end, self.timezone)

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=ZoneInfo(self.timezone))

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=ZoneInfo(self.timezone))


@dataclass(frozen=True)
class ShownMonth:
    """The months of `quarter` that have begun by `today`: the last of them is where trends end and the latest
    result is looked for (a result is shown only from within the quarter)."""

    quarter: Quarter
    month: date  # the quarter's last begun month

    @classmethod
    def of(cls, quarter: Quarter, today: date) -> "ShownMonth":
        last = (quarter.end - timedelta(days=1)).replace(day=1)
        return cls(quarter, max(quarter.start, min(last, today.replace(day=1))))

    @property
    def months(self) -> list[date]:
        """The quarter's begun months, oldest first."""
        months, month = [], self.quarter.start
        while month <= self.month:
            months.append(month)
            month = first_of_next_month(month)
        return months

    def __contains__(self, month: date) -> bool:
        return self.quarter.start <= month <= self.month
