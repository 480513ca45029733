"""What the dashboard's reads share: money rounded to the cent, runs of months."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _months_back(month: date, count: int) -> list[date]:
    """`count` first-of-months ending with `month`, oldest first."""
    months = [month]
    while len(months) < count:
        months.insert(0, (months[0] - timedelta(days=1)).replace(day=1))
    return months
