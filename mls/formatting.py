"""How numbers, money and codes read for people, in one place.

Plain functions so emails, notifications and PDFs say the same as the pages; the template filters in
`mls.templatetags.mls` wrap them. Amounts stay `Decimal` until the last moment: a float would print cents wrong.

They follow the active language (Django's DECIMAL_SEPARATOR / THOUSAND_SEPARATOR of it): English reads
"£1,447.50" and "85.71 %", German "1.447,50 €" and "85,71 %". What machines read — CSV exports, API payloads —
never goes through here: those print `Decimal`s with a dot and dates in ISO 8601.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils import formats
from django.utils.translation import get_language

from slas.catalog import METRICS

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
MINUS = "−"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


# Languages whose money reads figure first ("1.447,50 €"); elsewhere the symbol leads ("£1,447.50").
SYMBOL_AFTER_FIGURE = frozenset({"de"})


def _grouped(value: Decimal, places: int, *, trim: bool = False) -> str:
    """`value` rounded half-up to `places` with the active language's separators, sign kept apart for the caller;
    `trim` drops trailing decimal zeros ("93.50" → "93.5", "100.0" → "100")."""
    quantum = Decimal(1).scaleb(-places)
    text = f"{abs(value.quantize(quantum, rounding=ROUND_HALF_UP)):,.{places}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.translate(
        str.maketrans({",": formats.get_format("THOUSAND_SEPARATOR"), ".": formats.get_format("DECIMAL_SEPARATOR")})
    )


def _symbol_after_figure() -> bool:
    return (get_language() or "").split("-")[0] in SYMBOL_AFTER_FIGURE


def money(value: object, currency: str = "", *, rate: bool = False) -> str:
    """`Decimal("2160")`, "GBP" → "£2,160.00" (German: "2.160,00 £"); a code without a symbol follows the figure:
    "2,160.00 CHF".

    A negative amount reads "−£117.00" (a true minus). A `rate` (a unit price such as 0.025 per learner) keeps
    its sub-cent digits, since rounding it would misstate the contract. Not a number → "—".
    """
    amount = _decimal(value)
    if amount is None:
        return "—"
    sign = MINUS if amount < 0 else ""
    exponent = amount.as_tuple().exponent
    places = -exponent if rate and isinstance(exponent, int) and exponent < -2 else 2
    figure = _grouped(amount, places)
    symbol = CURRENCY_SYMBOLS.get((currency or "").upper())
    if symbol and not _symbol_after_figure():
        return f"{sign}{symbol}{figure}"
    if symbol:
        return f"{sign}{figure} {symbol}"
    return f"{sign}{figure} {currency.upper()}".rstrip()


def amount(value: object) -> str:
    """A money figure for a table whose header names the currency: `Decimal("-2316")` → "−2,316.00"."""
    number = _decimal(value)
    if number is None:
        return "—"
    return f"{MINUS if number < 0 else ''}{_grouped(number, 2)}"


def percent(value: object, places: int = 1) -> str:
    """`Decimal("93.50")` → "93.5 %": up to `places` decimals, trailing zeros dropped, a space before the sign."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = _grouped(number, places, trim=True)
    return f"{MINUS if number < 0 and text != '0' else ''}{text} %"


def count(value: object) -> str:
    """`12500` → "12,500"; a fractional count (hours) keeps up to two decimals: "1,234.5"."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = _grouped(number, 0 if number == number.to_integral_value() else 2, trim=True)
    return f"{MINUS if number < 0 else ''}{text}"


def label(value: object, choices: type[models.Choices]) -> str:
    """An enum value by its label ("per_learner" → "Per billable learner (graduated bands)"), never the raw code;
    an unknown code reads as words ("some_code" → "Some code")."""
    try:
        return str(choices(value).label)
    except ValueError:
        return _words(str(value))


def metric_label(key: str) -> str:
    """A catalog metric key by its name ("completion_rate" → "Completion rate")."""
    metric = METRICS.get(key)
    return metric.name if metric else _words(key)


def _words(code: str) -> str:
    phrase = code.replace("_", " ").strip()
    return phrase[:1].upper() + phrase[1:]
