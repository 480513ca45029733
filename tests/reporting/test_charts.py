"""The SVG charts say in words what they draw, leave gaps for missing months and colour bars against a target."""

import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.charts import GREEN, RED, bar_chart, sparkline

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))  # noqa: S314 (our own output)


def test_sparkline_describes_values_and_target_in_words():
    svg = sparkline([Decimal("91.5"), None, Decimal("88")], label="Completion rate", target=Decimal("90"))
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Completion rate"
    assert root.find(f"{SVG}desc").text == "Completion rate: 91.5, no result, 88; target 90"
    # the missing month splits the line in two; the latest value misses the target, so its dot is red
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert root.find(f"{SVG}circle").get("fill") == RED


def test_sparkline_lower_is_better_and_empty():
    assert f'fill="{GREEN}"' in sparkline([5, 3], label="Days", target=4, higher_is_better=False)
    empty = _parse(sparkline([None, None], label="Nothing"))
    assert empty.find(f"{SVG}polyline") is None
    assert empty.find(f"{SVG}desc").text == "Nothing: no result, no result"


def test_bar_chart_colours_each_bar_against_the_target_and_escapes_labels():
    svg = bar_chart(["Jan", "<Feb>", "Mar"], [Decimal("95"), Decimal("80"), None], title="On-time", unit="%", target=90)
    root = _parse(svg)
    fills = [rect.get("fill") for rect in root.iter(f"{SVG}rect")]
    assert fills == [GREEN, RED]
    assert "&lt;Feb&gt;" in svg
    assert root.find(f"{SVG}desc").text == "Jan: 95 %; <Feb>: 80 %; Mar: no result; target 90 %"


@given(
    st.lists(
        st.one_of(st.none(), st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False)),
        min_size=1,
        max_size=24,
    ),
    st.one_of(st.none(), st.integers(min_value=-1000, max_value=10**6)),
)
def test_any_series_renders_well_formed_svg_with_finite_coordinates(values, target):
    labels = [f"M{index}" for index in range(len(values))]
    for svg in (
        sparkline(values, label="x", target=target),
        bar_chart(labels, values, title="x", target=target),
    ):
        _parse(svg)
        assert not re.search(r"nan|inf", svg.split("<desc>")[0] + svg.split("</desc>")[1])
