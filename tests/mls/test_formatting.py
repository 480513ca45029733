"""The formatting vocabulary: money, percentages, counts and labels as people read them."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from engagements.enums import LineBasis
from mls import formatting

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (Decimal("2160"), "GBP", "£2,160.00"),
        (Decimal("36000.00"), "GBP", "£36,000.00"),
        (Decimal("1234567.891"), "EUR", "€1,234,567.89"),  # half up to cents
        (Decimal("0.005"), "USD", "$0.01"),  # half up, not banker's rounding
        (Decimal("2160"), "CHF", "2,160.00 CHF"),  # no symbol: the code follows the figure
        (Decimal("-117"), "GBP", "−£117.00"),  # a true minus before the symbol
        (Decimal("12.5"), "", "12.50"),
        (None, "GBP", "—"),
        ("not a number", "GBP", "—"),
    ],
)
def test_money_reads_with_symbol_and_thousands_separators(value, currency, text):
    assert formatting.money(value, currency) == text


def test_money_keeps_the_sub_cent_digits_of_a_rate():
    assert formatting.money(Decimal("0.025"), "GBP", rate=True) == "£0.025"
    assert formatting.money(Decimal("12"), "GBP", rate=True) == "£12.00"


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("93.50"), 1, "93.5 %"),
        (Decimal("100.00"), 1, "100 %"),
        (Decimal("12.345"), 2, "12.35 %"),  # half up
        (Decimal("0"), 1, "0 %"),
        (None, 1, "—"),
    ],
)
def test_percent_drops_trailing_zeros_and_spaces_the_sign(value, places, text):
    assert formatting.percent(value, places) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(12500, "12,500"), (0, "0"), (Decimal("1234.50"), "1,234.5"), (-3, "−3"), (None, "—")],
)
def test_count_groups_thousands(value, text):
    assert formatting.count(value) == text


def test_amount_is_a_signed_grouped_figure_for_tables():
    assert formatting.amount(Decimal("-2316")) == "−2,316.00"


def test_label_reads_an_enum_value_by_its_label_never_the_code():
    assert formatting.label("per_learner", LineBasis) == "Per billable learner (graduated bands)"
    assert formatting.label("retired_code", LineBasis) == "Retired code"


def test_metric_label_reads_a_catalog_key_by_its_name():
    assert formatting.metric_label("support_first_response") == "Support first response"
    assert formatting.metric_label("unknown_metric") == "Unknown metric"


def test_template_filters_use_the_same_vocabulary():
    template = Template(
        "{% load mls %}{{ fee|money:'GBP' }} | {{ fee|amount }} | {{ share|percent }} | {{ learners|count }} | "
        "{{ basis|basis_label }} | {{ key|metric_label }} | {{ price|rate:'EUR' }}"
    )

    text = template.render(
        Context(
            {
                "fee": Decimal("2160"),
                "share": Decimal("93.50"),
                "learners": 1200,
                "basis": "fixed",
                "key": "support_first_response",
                "price": Decimal("0.125"),
            }
        )
    )

    assert text == ("£2,160.00 | 2,160.00 | 93.5 % | 1,200 | Fixed monthly amount | Support first response | €0.125")


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en-gb", ["£1,447.50", "−£117.00", "2,160.00 CHF", "€0.125", "85.71 %", "1,234.5", "−2,316.00"]),
        ("de", ["1.447,50 £", "−117,00 £", "2.160,00 CHF", "0,125 €", "85,71 %", "1.234,5", "−2.316,00"]),
    ],
)
def test_numbers_and_money_follow_the_active_language(language, texts):
    with translation.override(language):
        read = [
            formatting.money(Decimal("1447.5"), "GBP"),
            formatting.money(Decimal("-117"), "GBP"),
            formatting.money(Decimal("2160"), "CHF"),
            formatting.money(Decimal("0.125"), "EUR", rate=True),
            formatting.percent(Decimal("85.714"), 2),  # half up: 85.714 → 85.71
            formatting.count(Decimal("1234.50")),
            formatting.amount(Decimal("-2316")),
        ]

    assert read == texts


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en-gb", "3 Feb 2027 | 3 Feb 2027 14:30 | 3 Feb | February 2027"),
        ("de", "3. Februar 2027 | 03.02.2027 14:30 | 3. Feb | Februar 2027"),
    ],
)
def test_dates_follow_the_active_language_by_format_name(language, text):
    template = Template(
        '{{ at|date }} | {{ at|date:"SHORT_DATETIME_FORMAT" }} | {{ at|date:"MONTH_DAY_FORMAT" }} | '
        '{{ at|date:"YEAR_MONTH_FORMAT" }}'
    )

    with translation.override(language):
        rendered = template.render(Context({"at": datetime(2027, 2, 3, 14, 30, tzinfo=UTC)}))

    assert rendered == text
