"""Server-rendered SVG charts, shared by the dashboard and the QBR PDF (no JavaScript, no CDN).

Every chart is an `<svg role="img">` with a `<title>` and a `<desc>` that say in words what the picture shows, so a
screen reader (and `pdftotext`) gets the same information. Colours are inline attributes rather than CSS classes so
WeasyPrint draws them the same as the browser. A value of `None` is a month without a result: it leaves a gap.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

Number = Decimal | int | float

GREEN = "#1b7f3b"
RED = "#b42318"
GREY = "#667085"
INK = "#1d2939"
GRID = "#d0d5dd"


@dataclass(frozen=True)
class _Scale:
    """Maps values onto the vertical pixel range [bottom, top] with a little headroom around the data."""

    low: float
    high: float
    top: float
    bottom: float

    @classmethod
    def fit(cls, values: Sequence[float], *, top: float, bottom: float, include_zero: bool) -> "_Scale":
        low, high = min(values), max(values)
        if include_zero:
            low, high = min(low, 0.0), max(high, 0.0)
        if high == low:
            high, low = high + 1, low - (0 if include_zero and low == 0 else 1)
        return cls(low=low, high=high, top=top, bottom=bottom)

    def y(self, value: float) -> float:
        return round(self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top), 1)


def _floats(values: Sequence[Number | None]) -> list[float | None]:
    return [None if value is None else float(value) for value in values]


def _number(value: Number) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, Decimal | float) else f"{value:,}"


def _meets(value: float, target: float | None, higher_is_better: bool) -> bool | None:
    if target is None:
        return None
    return value >= target if higher_is_better else value <= target


def sparkline(
    values: Sequence[Number | None],
    *,
    label: str,
    target: Number | None = None,
    higher_is_better: bool = True,
    months: Sequence[str] | None = None,
    width: int = 200,
    height: int = 64,
) -> SafeString:
    """A small trend line, oldest value first, on a labelled scale (its lowest and highest value, the month under
    each point); the target is a dashed line, the latest value a dot coloured by whether it meets the target. The
    values are also the `aria-label`, so the chart reads the same without the picture."""
    points = _floats(values)
    known = [value for value in points if value is not None]
    goal = None if target is None else float(target)
    names = list(months) if months is not None else []
    no_result = _("no result")
    description = f"{label}: " + (", ".join(no_result if v is None else _number(v) for v in values) or _("no results"))
    spoken = description
    if names and len(names) == len(values):
        said = [f"{name} {no_result if v is None else _number(v)}" for name, v in zip(names, values, strict=True)]
        spoken = f"{label}: " + ", ".join(said)
    if goal is not None:
        description += "; " + _("target %(value)s") % {"value": _number(target)}
        spoken += "; " + _("target %(value)s") % {"value": _number(target)}
    head = format_html(
        '<svg class="chart chart--sparkline" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}">'
        "<title>{}</title><desc>{}</desc>",
        spoken,
        width,
        height,
        width,
        height,
        label,
        description,
    )
    if not known:
        return format_html("{}</svg>", head)
    left, right, top, bottom = 34, width - (18 if names else 6), 6, height - (16 if names else 6)
    scale = _Scale.fit([*known, *([] if goal is None else [goal])], top=top, bottom=bottom, include_zero=False)
    step = (right - left) / max(len(points) - 1, 1)

    def x(index: int) -> float:
        return round(left + index * step, 1)

    segments: list[list[str]] = [[]]
    for index, value in enumerate(points):
        if value is None:
            segments.append([])
            continue
        segments[-1].append(f"{x(index)},{scale.y(value)}")
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="1.5" />',
        ((" ".join(segment), INK) for segment in segments if segment),
    )
    low, high = min(known), max(known)
    axis = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="9" text-anchor="end" fill="{}">{}</text>',
        ((left - 4, scale.y(value) + 3, GREY, _number(value)) for value in dict.fromkeys([high, low])),
    )
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="{}">{}</text>',
        ((x(index), height - 4, GREY, name) for index, name in enumerate(names[: len(points)])),
    )
    goal_line = (
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-dasharray="3 2" />',
            left,
            right,
            scale.y(goal),
            scale.y(goal),
            GREY,
        )
        if goal is not None
        else ""
    )
    last_index = max(index for index, value in enumerate(points) if value is not None)
    last = points[last_index]
    meets = _meets(last, goal, higher_is_better)
    dot = format_html(
        '<circle cx="{}" cy="{}" r="2.5" fill="{}" />',
        x(last_index),
        scale.y(last),
        INK if meets is None else (GREEN if meets else RED),
    )
    return format_html("{}{}{}{}{}{}</svg>", head, axis, ticks, goal_line, lines, dot)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[Number | None],
    *,
    title: str,
    unit: str = "",
    target: Number | None = None,
    target_label: str = "",
    higher_is_better: bool = True,
    width: int = 560,
    height: int = 200,
) -> SafeString:
    """Vertical bars with a labelled reference line (a target or a budget). With a reference, each bar is green
    when it meets it and red when it does not; without one, bars are neutral."""
    bars = _floats(values)
    goal = None if target is None else float(target)
    known = [value for value in bars if value is not None]
    left, right, top, bottom = 56, 8, 12, height - 28
    scale = _Scale.fit([*known, *([] if goal is None else [goal])] or [0.0], top=top, bottom=bottom, include_zero=True)
    slot = (width - left - right) / max(len(bars), 1)
    suffix = f" {unit}" if unit else ""
    target_label = target_label or _("target")
    no_result = _("no result")
    description = "; ".join(
        f"{name}: {no_result if value is None else _number(value) + suffix}"
        for name, value in zip(labels, values, strict=True)
    )
    if goal is not None:
        description += f"; {target_label} {_number(target)}{suffix}"
    axis = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" />'
        '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="{}">{}</text>',
        (
            (left, width - right, scale.y(tick), scale.y(tick), GRID, left - 4, scale.y(tick) + 3, GREY, _number(tick))
            for tick in _ticks(scale)
        ),
    )
    columns = []
    for index, (name, value) in enumerate(zip(labels, bars, strict=True)):
        x = left + index * slot
        columns.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="{}">{}</text>',
                round(x + slot / 2, 1),
                height - 12,
                INK,
                name,
            )
        )
        if value is None:
            continue
        meets = _meets(value, goal, higher_is_better)
        y0, y1 = sorted((scale.y(value), scale.y(0.0)))
        columns.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}{}</title></rect>',
                round(x + slot * 0.15, 1),
                y0,
                round(slot * 0.7, 1),
                max(round(y1 - y0, 1), 0.5),
                GREY if meets is None else (GREEN if meets else RED),
                name,
                _number(value),
                suffix,
            )
        )
    reference = (
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1.5" stroke-dasharray="6 3" />'
            '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="{}">{} {}</text>',
            left,
            width - right,
            scale.y(goal),
            scale.y(goal),
            INK,
            width - right,
            scale.y(goal) - 3,
            INK,
            target_label,
            _number(target),
        )
        if goal is not None
        else ""
    )
    return format_html(
        '<svg class="chart chart--bars" role="img" width="{}" height="{}" viewBox="0 0 {} {}">'
        "<title>{}</title><desc>{}</desc>{}{}{}</svg>",
        width,
        height,
        width,
        height,
        title,
        description or _("no data"),
        axis,
        SafeString("".join(columns)),
        reference,
    )


def _ticks(scale: _Scale, count: int = 4) -> list[float]:
    """Evenly spaced gridline values across the scale, rounded to a readable step."""
    raw = (scale.high - scale.low) / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1 if raw == 0 else _small_magnitude(raw)
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = (scale.low // step) * step
    return [round(first + i * step, 6) for i in range(count + 2) if scale.low <= first + i * step <= scale.high]


def _small_magnitude(raw: float) -> float:
    magnitude = 1.0
    while magnitude > raw:
        magnitude /= 10
    return magnitude
