"""Fee arithmetic of the contract spec (SPEC-SLA §6) as a pure module.

No ORM and no database: the ORM layer converts a SoW version's service lines, the period's usage and the
index series into the frozen dataclasses below, so every figure on a statement can be recomputed by hand
and unit-tested without fixtures. Money is `Decimal` end to end (a float never enters: it would make cents
drift), and every line is rounded to cents once, ROUND_HALF_UP, after its own arithmetic.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from mls import formatting

CENT = Decimal("0.01")
HUNDRED = Decimal("100")

FIXED = "fixed"
PER_LEARNER = "per_learner"
UNIT = "unit"
GAIN_SHARE = "gain_share"
BASES = (FIXED, PER_LEARNER, UNIT, GAIN_SHARE)

USAGE_KEYS = ("delivered_session_hours", "completions", "enrollments")

DEFAULT_VARIANCE_THRESHOLD_PERCENT = Decimal("20")


class MissingIndexValue(ValueError):
    """An annual adjustment needs an index month the user has not entered yet.

    A `ValueError` so callers validating user input catch it with the rest; `months` lists every missing
    month (first day of month) so the form can ask for all of them at once instead of one per attempt.
    """

    def __init__(self, months: list[date]) -> None:
        self.months = tuple(sorted(set(months)))
        listed = ", ".join(f"{month:%Y-%m}" for month in self.months)
        super().__init__(f"Missing index value for {listed}: enter it in the index series to price this period.")


@dataclass(frozen=True)
class Band:
    """One volume band; boundaries count charged learners, like tax brackets."""

    up_to: int | None  # inclusive upper bound of charged learners in this band; None = unbounded (last band only)
    rate: Decimal  # price per learner in this band


@dataclass(frozen=True)
class ServiceLineTerms:
    """The priced terms of one itemized service line of a SoW version."""

    name: str
    basis: str  # "fixed" | "per_learner" | "unit" | "gain_share"
    amount: Decimal = Decimal("0")  # fixed
    bands: tuple[Band, ...] = ()  # per_learner
    included_learners: int = 0  # per_learner
    unit_price: Decimal = Decimal("0")  # unit
    usage_key: str = ""  # unit
    gain_share_percent: Decimal = Decimal("0")  # gain_share
    baseline: Decimal | None = None  # gain_share
    required_uplift: Decimal = Decimal("0")  # gain_share


@dataclass(frozen=True)
class IndexAdjustment:
    """The SoW's indexation clause and the index series entered by the user."""

    start_date: date  # the SoW's start; anniversaries are start_date + n years (n >= 1); Feb 29 -> Feb 28
    cap_percent: Decimal
    index_values: dict[date, Decimal]  # month (first day of month) -> index value


@dataclass(frozen=True)
class Usage:
    """What happened in the period, as counted by the delivery side."""

    billable_learners: int = 0
    delivered_session_hours: Decimal = Decimal("0")
    completions: int = 0
    enrollments: int = 0


VERIFIED = "verified"
OUTCOME_STATES = (VERIFIED, "submitted", "rejected")


@dataclass(frozen=True)
class OutcomeValue:
    """A gain-share line's outcome for the period as recorded; only a verified value is charged on, since one
    side alone must not be able to earn (or withhold) a gain share."""

    value: Decimal
    status: str = VERIFIED  # "verified" | "submitted" | "rejected"
    note: str = ""  # why an unverified value does not count, e.g. "awaiting verification by the client"


@dataclass(frozen=True)
class FeeLine:
    """One priced statement line; `detail` shows the arithmetic so a client can check it by hand."""

    name: str
    basis: str
    quantity: Decimal  # learners, hours, count, 1 for fixed, base amount for gain share
    amount: Decimal  # quantized to cents
    detail: str  # human-readable arithmetic, e.g. "100 × 12.00 + 50 × 10.00"


@dataclass(frozen=True)
class AnnualFactor:
    """One anniversary's adjustment, kept with its raw index change so statements can explain the factor."""

    anniversary: date
    index_change: Decimal  # raw change (may be negative or above the cap)
    cap_percent: Decimal
    factor: Decimal  # 1 + min(max(index_change, 0), cap_percent / 100)

    @property
    def note(self) -> str:
        """E.g. "index +3.20 % (cap 3.00 %) from 2027-03": the raw change and the cap, so capping is visible."""
        change = round_half_up(self.index_change * HUNDRED)
        cap = round_half_up(self.cap_percent)
        limit = f"no decrease, cap {cap:f} %" if change < 0 else f"cap {cap:f} %"
        return f"index {'+' if change >= 0 else ''}{change:f} % ({limit}) from {self.anniversary:%Y-%m}"


# --- Helpers ------------------------------------------------------------------------------------


def round_half_up(value: Decimal) -> Decimal:
    """Cents, half up: the commercial rounding clients expect (not Python's default banker's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _decimal(value: object, what: str, *, allow_negative: bool = False) -> Decimal:
    """Accept Decimal (or int) only: a float here means a conversion bug upstream that would drift cents."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{what} must be a Decimal, got {type(value).__name__}.")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, got {number}.")
    if not allow_negative and number < 0:
        raise ValueError(f"{what} must not be negative, got {number}.")
    return number


def _count(value: object, what: str) -> int:
    """Learner and event counts are whole, non-negative numbers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, got {type(value).__name__}.")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}.")
    return value


def _money(value: Decimal, currency: str = "") -> str:
    """Prices shown with at least cents and thousands separators ("£1,200.00", "0.025"), as on every page."""
    return formatting.money(value, currency, rate=True)


def _number(value: Decimal | int) -> str:
    """Quantities shown as entered, grouped ("37.5", "1,230")."""
    return f"{Decimal(value).normalize():,f}" if isinstance(value, Decimal) else f"{value:,}"


def _anniversary(start: date, years: int) -> date:
    """`start` + `years` years; a Feb 29 start falls on Feb 28 in non-leap years."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def _previous_month(day: date) -> date:
    """First day of the month before `day`'s month."""
    return date(day.year - 1, 12, 1) if day.month == 1 else date(day.year, day.month - 1, 1)


def _adjust(price: Decimal, factors: list[AnnualFactor]) -> Decimal:
    """Compound the factors, rounding to cents at each anniversary as the contract's published rates are."""
    for factor in factors:
        price = round_half_up(price * factor.factor)
    return price


def _with_notes(detail: str, factors: list[AnnualFactor]) -> str:
    if not factors:
        return detail
    return f"{detail}; " + "; ".join(factor.note for factor in factors)


# --- Annual adjustment --------------------------------------------------------------------------


def annual_factors(adjustment: IndexAdjustment | None, period_start: date) -> list[AnnualFactor]:
    """Every anniversary on or before `period_start` with its capped factor, oldest first.

    The index series is user-entered, so all missing months are reported together (`MissingIndexValue`).
    """
    if adjustment is None:
        return []
    cap = _decimal(adjustment.cap_percent, "Index cap percent")
    by_month = {(month.year, month.month): value for month, value in adjustment.index_values.items()}

    anniversaries = []
    years = 1
    while (anniversary := _anniversary(adjustment.start_date, years)) <= period_start:
        anniversaries.append(anniversary)
        years += 1

    needed = []
    for anniversary in anniversaries:
        month_before = _previous_month(anniversary)
        needed.append((anniversary, month_before, month_before.replace(year=month_before.year - 1)))
    missing = [
        month
        for _, current, earlier in needed
        for month in (earlier, current)
        if (month.year, month.month) not in by_month
    ]
    if missing:
        raise MissingIndexValue(missing)

    factors = []
    for anniversary, current, earlier in needed:
        current_value = _decimal(by_month[(current.year, current.month)], f"Index value for {current:%Y-%m}")
        earlier_value = _decimal(by_month[(earlier.year, earlier.month)], f"Index value for {earlier:%Y-%m}")
        if earlier_value == 0:
            raise ValueError(f"Index value for {earlier:%Y-%m} must be positive to compute a change.")
        change = current_value / earlier_value - 1
        factor = 1 + min(max(change, Decimal("0")), cap / HUNDRED)
        factors.append(AnnualFactor(anniversary=anniversary, index_change=change, cap_percent=cap, factor=factor))
    return factors


def adjustment_factors(adjustment: IndexAdjustment | None, period_start: date) -> list[tuple[date, Decimal]]:
    """The anniversaries on or before `period_start` with their factor 1 + min(max(change, 0), cap/100).

    An anniversary applies to periods starting on or after it; a negative index change never lowers prices.
    """
    return [(factor.anniversary, factor.factor) for factor in annual_factors(adjustment, period_start)]


# --- Bands --------------------------------------------------------------------------------------


def validate_bands(bands: tuple[Band, ...] | list[Band]) -> None:
    """Reject band tables that would leave learners unpriced or priced twice.

    Every learner must fall in exactly one band, hence strictly increasing bounds and an unbounded last band.
    """
    if not bands:
        raise ValueError(_("A per-learner line needs at least one volume band."))
    previous = 0
    for position, band in enumerate(bands, start=1):
        _decimal(band.rate, f"Band {position} rate")
        is_last = position == len(bands)
        if band.up_to is None:
            if not is_last:
                message = _("Band %(position)s is unbounded but only the last band may be unbounded.")
                raise ValueError(message % {"position": position})
            continue
        if isinstance(band.up_to, bool) or not isinstance(band.up_to, int):
            message = _("Band %(position)s upper bound must be a whole number of learners, got %(up_to)r.")
            raise ValueError(message % {"position": position, "up_to": band.up_to})
        if band.up_to <= 0:
            message = _("Band %(position)s upper bound must be a positive number of learners, got %(up_to)s.")
            raise ValueError(message % {"position": position, "up_to": band.up_to})
        if band.up_to <= previous:
            message = _(
                "Band upper bounds must be strictly increasing: band %(position)s (%(up_to)s) does not exceed the "
                "previous bound (%(previous)s)."
            )
            raise ValueError(message % {"position": position, "up_to": band.up_to, "previous": previous})
        if is_last:
            raise ValueError(_("The last band must be unbounded (no upper limit) so every learner is priced."))
        previous = band.up_to


def graduated_amount(learners: int, bands: tuple[Band, ...], currency: str = "") -> tuple[Decimal, str]:
    """Price `learners` through graduated bands (learners 1..b1 at r1, b1+1..b2 at r2, …), rounded to cents.

    Returns the amount and the arithmetic, e.g. ("1210.00", "100 × 12.00 + 1 × 10.00").
    """
    learners = _count(learners, "Learners")
    validate_bands(bands)
    total = Decimal("0")
    parts = []
    lower = 0
    for band in bands:
        if lower >= learners:
            break
        upper = learners if band.up_to is None else min(band.up_to, learners)
        in_band = upper - lower
        total += in_band * band.rate
        parts.append(f"{_number(in_band)} × {_money(band.rate, currency)}")
        lower = upper
    return round_half_up(total), " + ".join(parts) if parts else "0 learners"


# --- Fee lines ----------------------------------------------------------------------------------


def _validate_usage(usage: Usage) -> None:
    _count(usage.billable_learners, "Billable learners")
    _decimal(usage.delivered_session_hours, "Delivered session hours")
    _count(usage.completions, "Completions")
    _count(usage.enrollments, "Enrollments")


def _validate_outcomes(outcomes: Mapping[str, OutcomeValue]) -> None:
    for name, outcome in outcomes.items():
        _decimal(outcome.value, f"Outcome value of {name!r}", allow_negative=True)
        if outcome.status not in OUTCOME_STATES:
            raise ValueError(f"Outcome of {name!r}: unknown status {outcome.status!r}.")


def _validate_terms(line: ServiceLineTerms) -> None:
    """Check a line before pricing anything, so a statement is never half-priced."""
    label = f"Service line {line.name!r}"
    if line.basis not in BASES:
        raise ValueError(f"{label}: unknown basis {line.basis!r} (expected one of {', '.join(BASES)}).")
    if line.basis == FIXED:
        _decimal(line.amount, f"{label} amount")
    elif line.basis == PER_LEARNER:
        _count(line.included_learners, f"{label} included learners")
        try:
            validate_bands(line.bands)
        except ValueError as error:
            raise ValueError(f"{label}: {error}") from error
    elif line.basis == UNIT:
        if line.usage_key not in USAGE_KEYS:
            raise ValueError(f"{label}: unknown usage {line.usage_key!r} (expected one of {', '.join(USAGE_KEYS)}).")
        _decimal(line.unit_price, f"{label} unit price")
    else:
        _decimal(line.gain_share_percent, f"{label} gain share percent")
        _decimal(line.required_uplift, f"{label} required uplift")
        if line.baseline is not None:
            _decimal(line.baseline, f"{label} baseline", allow_negative=True)


def _fixed_line(line: ServiceLineTerms, factors: list[AnnualFactor], currency: str) -> FeeLine:
    amount = round_half_up(_adjust(line.amount, factors))
    detail = f"Fixed fee {_money(line.amount, currency)}"
    if factors:
        detail += f", adjusted to {_money(amount, currency)}"
    return FeeLine(line.name, line.basis, Decimal("1"), amount, _with_notes(detail, factors))


def _per_learner_line(line: ServiceLineTerms, usage: Usage, factors: list[AnnualFactor], currency: str) -> FeeLine:
    bands = tuple(Band(band.up_to, _adjust(band.rate, factors)) for band in line.bands)
    charged = max(usage.billable_learners - line.included_learners, 0)
    amount, arithmetic = graduated_amount(charged, bands, currency)
    if line.included_learners:
        included = (
            f"{_number(usage.billable_learners)} billable {formatting.MINUS} {_number(line.included_learners)} "
            f"included = {_number(charged)} charged"
        )
        arithmetic = f"{included}: {arithmetic}" if charged else included
    return FeeLine(line.name, line.basis, Decimal(charged), amount, _with_notes(arithmetic, factors))


def _unit_line(line: ServiceLineTerms, usage: Usage, factors: list[AnnualFactor], currency: str) -> FeeLine:
    quantity = Decimal(getattr(usage, line.usage_key))
    price = _adjust(line.unit_price, factors)
    amount = round_half_up(quantity * price)
    detail = f"{_number(quantity)} {line.usage_key.replace('_', ' ')} × {_money(price, currency)}"
    return FeeLine(line.name, line.basis, quantity, amount, _with_notes(detail, factors))


def _gain_share_line(line: ServiceLineTerms, outcome: OutcomeValue | None, base: Decimal, currency: str) -> FeeLine:
    """Always listed, at 0.00 with the reason when not earned, so the statement stays itemized."""
    zero = Decimal("0.00")
    percent = f"{_number(line.gain_share_percent)} % of {_money(base, currency)}"
    if outcome is None:
        return FeeLine(line.name, line.basis, base, zero, f"not charged: no outcome value for the period ({percent})")
    if line.baseline is None:
        return FeeLine(line.name, line.basis, base, zero, f"not charged: no outcome baseline set ({percent})")
    if outcome.status != VERIFIED:
        reason = outcome.note or outcome.status
        return FeeLine(
            line.name, line.basis, base, zero, f"not charged: outcome {_number(outcome.value)} {reason} ({percent})"
        )
    target = line.baseline + line.required_uplift
    comparison = (
        f"outcome {_number(outcome.value)} vs target {_number(target)} "
        f"(baseline {_number(line.baseline)} + uplift {_number(line.required_uplift)})"
    )
    if outcome.value < target:
        return FeeLine(line.name, line.basis, base, zero, f"not charged: {comparison} not met ({percent})")
    amount = round_half_up(base * line.gain_share_percent / HUNDRED)
    return FeeLine(line.name, line.basis, base, amount, f"{percent}; {comparison} met")


def fee_lines(
    lines: tuple[ServiceLineTerms, ...],
    usage: Usage,
    period_start: date,
    adjustment: IndexAdjustment | None = None,
    outcomes: Mapping[str, OutcomeValue] | None = None,
    currency: str = "",
) -> list[FeeLine]:
    """Price each service line for the period starting `period_start` (first day of the month), in order.

    One `FeeLine` per service line, never bundled. Fixed amounts, band rates and unit prices carry the
    annual adjustment; the gain share percentage does not, but its base is the sum of the adjusted fixed lines.
    `outcomes` holds each gain-share line's recorded outcome for the period, by line name; `currency` only
    decorates the amounts written into each line's explanation.
    """
    outcomes = outcomes or {}
    for line in lines:
        _validate_terms(line)
    _validate_usage(usage)
    _validate_outcomes(outcomes)
    factors = annual_factors(adjustment, period_start)

    priced: list[FeeLine | None] = [
        _fixed_line(line, factors, currency) if line.basis == FIXED else None for line in lines
    ]
    fixed_total = sum((fee.amount for fee in priced if fee is not None), Decimal("0.00"))

    result = []
    for line, fee in zip(lines, priced, strict=True):
        if fee is not None:
            result.append(fee)
        elif line.basis == PER_LEARNER:
            result.append(_per_learner_line(line, usage, factors, currency))
        elif line.basis == UNIT:
            result.append(_unit_line(line, usage, factors, currency))
        else:
            result.append(_gain_share_line(line, outcomes.get(line.name), fixed_total, currency))
    return result


# --- Volume variance ----------------------------------------------------------------------------


def variance_flag(
    billable_learners: int,
    forecast_learners: int,
    threshold_percent: Decimal = DEFAULT_VARIANCE_THRESHOLD_PERCENT,
) -> bool:
    """True ("change order recommended") when billable > forecast × (1 + threshold/100), strictly.

    No forecast (0) means nothing to vary from, so no flag.
    """
    billable = _count(billable_learners, "Billable learners")
    forecast = _count(forecast_learners, "Forecast learners")
    threshold = _decimal(threshold_percent, "Variance threshold percent")
    if forecast == 0:
        return False
    return Decimal(billable) > forecast * (1 + threshold / HUNDRED)
