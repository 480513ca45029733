"""Months as people and integrators write them, `YYYY-MM`: one rule for the SLA periods, fee statements, outcome
values and every `?month=` filter."""

import re
from datetime import date

from .validators import EARLIEST_YEAR, LATEST_YEAR

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# The months an engagement can have: the years every typed date may have (mls.validators). Beyond them a month is a
# typo, and year 1 or 9999 has no UTC bounds in every zone (a period's end is the 1st of the next month).
FIRST_YEAR, LAST_YEAR = EARLIEST_YEAR, LATEST_YEAR


def parse_month(text: str) -> date:
    """`YYYY-MM` → the first day of that month; ValueError with a readable message otherwise."""
    match = MONTH_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a month; use YYYY-MM, e.g. 2026-09.")
    if not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise ValueError(f"Give a month of the years {FIRST_YEAR} to {LAST_YEAR}.")
    return date(int(match[1]), int(match[2]), 1)


def months_before(day: date, count: int) -> list[date]:
    """The first days of the `count` months before `day`'s month, oldest first (the demo's year of history)."""
    year, month = day.year, day.month
    months = []
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append(date(year, month, 1))
    return months[::-1]
