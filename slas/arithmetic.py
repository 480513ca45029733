"""The money and ladder arithmetic of SPEC-SLA §2, §4 and §5, as pure functions over Decimals and statuses.

Kept free of the database so every rule can be checked against hand-computed cases.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from .enums import UNMEASURED, EscalationLevel, MeasurementStatus

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def floor_to_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_FLOOR)


def percentage(met: Decimal | int, total: Decimal | int) -> Decimal:
    """100 · met / total, to 2 decimals half-up (SPEC-SLA §2). `total` must be positive."""
    return round_half_up(HUNDRED * Decimal(met) / Decimal(total))


def mean(total: Decimal | int, count: int) -> Decimal:
    return round_half_up(Decimal(total) / Decimal(count))


def at_risk_amount(monthly_fee: Decimal, at_risk_percent: Decimal) -> Decimal:
    return round_half_up(monthly_fee * at_risk_percent / HUNDRED)


@dataclass(frozen=True)
class CreditSplit:
    amounts: dict[str, Decimal]
    uncapped: dict[str, Decimal]
    capped: bool

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), Decimal("0.00"))


def service_credits(at_risk: Decimal, allocations: Mapping[str, Decimal]) -> CreditSplit:
    """SPEC-SLA §4: each breached metric's credit, capped at `at_risk` with a proportional split.

    `allocations` maps each breached metric to its allocation percent. When capped, every share is floored to
    the cent and the cents left over go to the largest allocation (ties: lowest metric key).
    """
    uncapped = {metric: round_half_up(at_risk * share / HUNDRED) for metric, share in allocations.items()}
    if sum(uncapped.values(), Decimal(0)) <= at_risk:
        return CreditSplit(uncapped, uncapped, capped=False)
    total_allocation = sum(allocations.values(), Decimal(0))
    amounts = {metric: floor_to_cent(at_risk * share / total_allocation) for metric, share in allocations.items()}
    largest = min(allocations, key=lambda metric: (-allocations[metric], metric))
    amounts[largest] += at_risk - sum(amounts.values(), Decimal(0))
    return CreditSplit(amounts, uncapped, capped=True)


@dataclass(frozen=True)
class PeriodOutcome:
    """A finalized measurement as the ladder sees it."""

    month: date
    status: str
    beats_margin: bool = False  # met with the value beating the target by the earn-back margin


def earned_back_in(later: Iterable[PeriodOutcome], periods: int) -> date | None:
    """SPEC-SLA §5: the month in which a credit is earned back, given the metric's finalized outcomes after the
    credit's period (in order): the first `periods` measured periods must all be met by the margin."""
    good = 0
    for outcome in later:
        if outcome.status in UNMEASURED:
            continue
        if outcome.status != MeasurementStatus.MET or not outcome.beats_margin:
            return None
        good += 1
        if good == periods:
            return outcome.month
    return None


@dataclass(frozen=True)
class Rung:
    month: date
    level: str
    breaches: int


def escalation_ladder(history: Iterable[PeriodOutcome], formal_review_after: int, exit_right_after: int) -> list[Rung]:
    """SPEC-SLA §5: the rungs reached by one metric, counting consecutive breached periods (insufficient data
    skipped, a met period resets); each rung in the month the streak first reaches its threshold."""
    thresholds = ((1, EscalationLevel.NOTICE), (formal_review_after, EscalationLevel.FORMAL_REVIEW))
    thresholds += ((exit_right_after, EscalationLevel.EXIT_RIGHT),)
    streak, rungs = 0, []
    for outcome in history:
        if outcome.status in UNMEASURED:
            continue
        if outcome.status != MeasurementStatus.BREACHED:
            streak = 0
            continue
        streak += 1
        rungs.extend(Rung(outcome.month, level, streak) for threshold, level in thresholds if streak == threshold)
    return rungs
