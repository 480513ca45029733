"""Template filters of the SLA pages: a metric from its key, and how a measured value reads."""

from decimal import Decimal

from django import template
from django.utils import formats
from django.utils.translation import gettext

from slas import selectors
from slas.catalog import METRICS, Direction, Kind, Metric
from slas.models import Measurement

register = template.Library()


def plain(number: Decimal) -> str:
    """95.00 → "95", 99.50 → "99.5" (German "99,5"): targets and counts without trailing zeros."""
    return formats.number_format(Decimal(f"{number.normalize():f}"))


@register.filter
def metric(key: str) -> Metric | None:
    return METRICS.get(key)


@register.filter
def rag(measurement: Measurement) -> selectors.Rag:
    return selectors.rag_of(measurement)


@register.filter
def sample(measurement: Measurement) -> str:
    return selectors.sample_label(measurement)


@register.filter
def measured(value: Decimal | None, key: str) -> str:
    """A value in its metric's unit: "92.31 %" or "4.40 of 5"; "—" when there is none."""
    if value is None:
        return "—"
    shown = formats.number_format(value)  # the stored places, in the reader's decimal mark
    return gettext("%(value)s of 5") % {"value": shown} if METRICS[key].kind == Kind.MEAN else f"{shown} %"


@register.filter
def target_text(target: Decimal, key: str) -> str:
    """ "≥ 95 %", "≥ 4.2 of 5" (or ≤ for lower-is-better metrics)."""
    definition = METRICS[key]
    sign = "≥" if definition.direction == Direction.HIGHER_IS_BETTER else "≤"
    if definition.kind == Kind.MEAN:
        return gettext("%(sign)s %(target)s of 5") % {"sign": sign, "target": plain(target)}
    return f"{sign} {plain(target)} %"
