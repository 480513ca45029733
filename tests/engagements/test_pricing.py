"""Fee arithmetic of SPEC-SLA §6. Every expected figure is a literal worked out by hand in the comment beside it."""

from datetime import date
from decimal import Decimal

import pytest

from engagements.pricing import (
    Band,
    FeeLine,
    IndexAdjustment,
    MissingIndexValue,
    OutcomeValue,
    ServiceLineTerms,
    Usage,
    adjustment_factors,
    fee_lines,
    graduated_amount,
    validate_bands,
    variance_flag,
)

pytestmark = pytest.mark.unit

PERIOD = date(2026, 6, 1)
BANDS = (Band(100, Decimal("12.00")), Band(250, Decimal("10.00")), Band(None, Decimal("8.00")))
RETAINER = ServiceLineTerms(name="Programme management", basis="fixed", amount=Decimal("5000.00"))
# Index series for a SoW starting 2026-03-01: anniversaries 2027-03-01 (uses 2027-02 / 2026-02) and 2028-03-01.
START = date(2026, 3, 1)
INDEX = {
    date(2026, 2, 1): Decimal("100.0"),
    date(2027, 2, 1): Decimal("102.5"),  # 102.5 / 100 - 1 = +2.5 %
    date(2028, 2, 1): Decimal("104.55"),  # 104.55 / 102.5 - 1 = +2.0 %
}


def price(*lines, usage=None, period_start=PERIOD, adjustment=None, outcomes=None):
    return fee_lines(tuple(lines), usage or Usage(), period_start, adjustment, outcomes)


def indexed(index_values=None, *, start=START, cap=Decimal("3.00")):
    return IndexAdjustment(
        start_date=start, cap_percent=cap, index_values=INDEX if index_values is None else index_values
    )


# --- Retainer --------------------------------------------------------------------------------------


def test_fee_lines_prices_retainer_as_fixed_monthly_amount():
    [line] = price(RETAINER, usage=Usage(billable_learners=999))

    # 1 × 5000.00, whatever the volume
    assert line == FeeLine("Programme management", "fixed", Decimal("1"), Decimal("5000.00"), "Fixed fee 5,000.00")


# --- Per learner (graduated bands) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("learners", "amount", "detail"),
    [
        (0, Decimal("0.00"), "0 learners"),  # nobody billable → 0
        (40, Decimal("480.00"), "40 × 12.00"),  # 40 × 12 = 480
        (100, Decimal("1200.00"), "100 × 12.00"),  # exactly at the edge: 100 × 12 = 1200
        (101, Decimal("1210.00"), "100 × 12.00 + 1 × 10.00"),  # 1200 + 1 × 10 = 1210
        (250, Decimal("2700.00"), "100 × 12.00 + 150 × 10.00"),  # 1200 + 150 × 10 = 2700
        # across three bands: 1200 + 1500 + 50 × 8 = 3100
        (300, Decimal("3100.00"), "100 × 12.00 + 150 × 10.00 + 50 × 8.00"),
    ],
)
def test_fee_lines_prices_per_learner_through_graduated_bands(learners, amount, detail):
    terms = ServiceLineTerms(name="Learners", basis="per_learner", bands=BANDS)

    [line] = price(terms, usage=Usage(billable_learners=learners))

    assert line == FeeLine("Learners", "per_learner", Decimal(learners), amount, detail)


def test_graduated_amount_rounds_half_up_once_per_line():
    # 1 × 0.125 = 0.125 → 0.13 half up (banker's rounding would give 0.12)
    assert graduated_amount(1, (Band(None, Decimal("0.125")),)) == (Decimal("0.13"), "1 × 0.125")


# --- Hybrid ---------------------------------------------------------------------------------------

HYBRID_LEARNERS = ServiceLineTerms(
    name="Learners above retainer",
    basis="per_learner",
    included_learners=50,
    bands=(Band(100, Decimal("20.00")), Band(None, Decimal("15.00"))),
)


@pytest.mark.parametrize(
    ("billable", "charged", "amount", "arithmetic"),
    [
        (30, 0, Decimal("0.00"), "30 billable − 50 included = 0 charged"),  # below: covered
        (50, 0, Decimal("0.00"), "50 billable − 50 included = 0 charged"),  # at: covered
        (51, 1, Decimal("20.00"), "51 billable − 50 included = 1 charged: 1 × 20.00"),  # 1 × 20 = 20
        # 200 - 50 = 150 charged: 100 × 20 + 50 × 15 = 2000 + 750 = 2750
        (200, 150, Decimal("2750.00"), "200 billable − 50 included = 150 charged: 100 × 20.00 + 50 × 15.00"),
    ],
)
def test_fee_lines_hybrid_charges_only_learners_above_included(billable, charged, amount, arithmetic):
    retainer, learners = price(RETAINER, HYBRID_LEARNERS, usage=Usage(billable_learners=billable))

    assert retainer.amount == Decimal("5000.00")  # the retainer covers the first 50 learners
    assert learners == FeeLine("Learners above retainer", "per_learner", Decimal(charged), amount, arithmetic)


# --- Consumption ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "usage_key", "unit_price", "quantity", "amount", "detail"),
    [
        # 37.5 × 80.00 = 3000.00
        (
            Usage(delivered_session_hours=Decimal("37.5")),
            "delivered_session_hours",
            Decimal("80.00"),
            Decimal("37.5"),
            Decimal("3000.00"),
            "37.5 delivered session hours × 80.00",
        ),
        # 12.25 × 95.50 = 1146 + 23.875 = 1169.875 → 1169.88 half up
        (
            Usage(delivered_session_hours=Decimal("12.25")),
            "delivered_session_hours",
            Decimal("95.50"),
            Decimal("12.25"),
            Decimal("1169.88"),
            "12.25 delivered session hours × 95.50",
        ),
        # 17 × 45.00 = 765.00
        (
            Usage(completions=17),
            "completions",
            Decimal("45.00"),
            Decimal("17"),
            Decimal("765.00"),
            "17 completions × 45.00",
        ),
        # 230 × 3.50 = 805.00
        (
            Usage(enrollments=230),
            "enrollments",
            Decimal("3.50"),
            Decimal("230"),
            Decimal("805.00"),
            "230 enrollments × 3.50",
        ),
        # 5 × 0.025 = 0.125 → 0.13 half up
        (Usage(completions=5), "completions", Decimal("0.025"), Decimal("5"), Decimal("0.13"), "5 completions × 0.025"),
    ],
)
def test_fee_lines_prices_consumption_by_usage_key(usage, usage_key, unit_price, quantity, amount, detail):
    terms = ServiceLineTerms(name="Usage", basis="unit", unit_price=unit_price, usage_key=usage_key)

    [line] = price(terms, usage=usage)

    assert line == FeeLine("Usage", "unit", quantity, amount, detail)


def test_fee_lines_keep_every_service_line_itemized():
    lines = (
        ServiceLineTerms(name="Hours", basis="unit", unit_price=Decimal("80.00"), usage_key="delivered_session_hours"),
        ServiceLineTerms(name="Completions", basis="unit", unit_price=Decimal("45.00"), usage_key="completions"),
        ServiceLineTerms(name="Enrollments", basis="unit", unit_price=Decimal("3.50"), usage_key="enrollments"),
    )
    usage = Usage(delivered_session_hours=Decimal("37.5"), completions=17, enrollments=230)

    priced = fee_lines(lines, usage, PERIOD)

    # 37.5 × 80 = 3000.00; 17 × 45 = 765.00; 230 × 3.50 = 805.00 — three lines, never one bundled figure
    assert [(line.name, line.amount) for line in priced] == [
        ("Hours", Decimal("3000.00")),
        ("Completions", Decimal("765.00")),
        ("Enrollments", Decimal("805.00")),
    ]


# --- Outcome based --------------------------------------------------------------------------------

BASE_FEE = ServiceLineTerms(name="Base fee", basis="fixed", amount=Decimal("10000.00"))
GAIN_SHARE = ServiceLineTerms(
    name="Gain share",
    basis="gain_share",
    gain_share_percent=Decimal("15"),
    baseline=Decimal("70"),
    required_uplift=Decimal("5"),
)


@pytest.mark.parametrize(
    ("outcome", "amount", "detail"),
    [
        # 80 >= 70 + 5: 15 % × 10000.00 = 1500.00
        (Decimal("80"), Decimal("1500.00"), "15 % of 10,000.00; outcome 80 vs target 75 (baseline 70 + uplift 5) met"),
        # exactly 75 >= 75: met, 1500.00
        (Decimal("75"), Decimal("1500.00"), "15 % of 10,000.00; outcome 75 vs target 75 (baseline 70 + uplift 5) met"),
        # 74.9 < 75: listed at 0.00 with the reason
        (
            Decimal("74.9"),
            Decimal("0.00"),
            "not charged: outcome 74.9 vs target 75 (baseline 70 + uplift 5) not met (15 % of 10,000.00)",
        ),
        # no measurement: listed at 0.00 with the reason
        (None, Decimal("0.00"), "not charged: no outcome value for the period (15 % of 10,000.00)"),
    ],
)
def test_fee_lines_gain_share_charged_only_when_outcome_beats_baseline(outcome, amount, detail):
    outcomes = {} if outcome is None else {"Gain share": OutcomeValue(outcome)}

    base, gain = price(BASE_FEE, GAIN_SHARE, outcomes=outcomes)

    assert base.amount == Decimal("10000.00")
    assert gain == FeeLine("Gain share", "gain_share", Decimal("10000.00"), amount, detail)


@pytest.mark.parametrize(
    ("outcome", "detail"),
    [
        (
            OutcomeValue(Decimal("80"), "submitted", "awaiting verification by the client"),
            "not charged: outcome 80 awaiting verification by the client (15 % of 10,000.00)",
        ),
        (
            OutcomeValue(Decimal("80"), "rejected", "rejected by the client (wrong quarter)"),
            "not charged: outcome 80 rejected by the client (wrong quarter) (15 % of 10,000.00)",
        ),
        (OutcomeValue(Decimal("80"), "submitted"), "not charged: outcome 80 submitted (15 % of 10,000.00)"),
    ],
)
def test_fee_lines_gain_share_not_charged_on_an_unverified_outcome_that_beats_the_target(outcome, detail):
    # 80 >= 70 + 5 would earn 1500.00, but only a verified value counts
    _, gain = price(BASE_FEE, GAIN_SHARE, outcomes={"Gain share": outcome})

    assert gain == FeeLine("Gain share", "gain_share", Decimal("10000.00"), Decimal("0.00"), detail)


def test_fee_lines_gain_share_reads_the_outcome_of_its_own_line():
    other = ServiceLineTerms(
        name="Time to competency", basis="gain_share", gain_share_percent=Decimal("10"), baseline=Decimal("30")
    )
    outcomes = {"Gain share": OutcomeValue(Decimal("76")), "Time to competency": OutcomeValue(Decimal("29.99"))}

    _, gain, competency = price(BASE_FEE, GAIN_SHARE, other, outcomes=outcomes)

    assert gain.amount == Decimal("1500.00")  # 76 >= 75: 15 % × 10000.00
    assert competency.amount == Decimal("0.00")  # 29.99 < 30 + 0


def test_fee_lines_gain_share_without_baseline_is_listed_at_zero():
    terms = ServiceLineTerms(name="Gain share", basis="gain_share", gain_share_percent=Decimal("15"))

    _, gain = price(BASE_FEE, terms, outcomes={"Gain share": OutcomeValue(Decimal("99"))})

    assert gain.amount == Decimal("0.00")
    assert gain.detail == "not charged: no outcome baseline set (15 % of 10,000.00)"


def test_fee_lines_gain_share_base_sums_all_fixed_lines_and_rounds_half_up():
    second = ServiceLineTerms(name="Platform", basis="fixed", amount=Decimal("2500.50"))
    terms = ServiceLineTerms(
        name="Gain share", basis="gain_share", gain_share_percent=Decimal("12.5"), baseline=Decimal("0")
    )

    # gain share listed first: its base still sums both fixed lines, whatever their position
    gain, _, _ = price(terms, BASE_FEE, second, outcomes={"Gain share": OutcomeValue(Decimal("1"))})

    # base 10000.00 + 2500.50 = 12500.50; 12.5 % × 12500.50 = 1562.5625 → 1562.56
    assert (gain.quantity, gain.amount) == (Decimal("12500.50"), Decimal("1562.56"))


# --- Annual adjustment ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period_start", "expected"),
    [
        (date(2026, 3, 1), []),  # the start itself is not an anniversary
        (date(2027, 2, 1), []),  # before the first anniversary: factor 1
        (date(2027, 3, 1), [(date(2027, 3, 1), Decimal("1.025"))]),  # anniversary month: 102.5 / 100 = +2.5 % < 3 %
        (date(2027, 12, 1), [(date(2027, 3, 1), Decimal("1.025"))]),  # still the first year
        # second anniversary: 104.55 / 102.5 = +2.0 %
        (date(2028, 3, 1), [(date(2027, 3, 1), Decimal("1.025")), (date(2028, 3, 1), Decimal("1.02"))]),
    ],
)
def test_adjustment_factors_list_anniversaries_on_or_before_period(period_start, expected):
    assert adjustment_factors(indexed(), period_start) == expected


def test_adjustment_factors_without_clause_are_empty():
    assert adjustment_factors(None, date(2030, 1, 1)) == []


@pytest.mark.parametrize(
    ("start", "period_start", "expected"),
    [
        # mid-month start: the 2027-03-15 anniversary applies from the April period (uses 2027-02 / 2026-02)
        (date(2026, 3, 15), date(2027, 3, 1), []),
        (date(2026, 3, 15), date(2027, 4, 1), [(date(2027, 3, 15), Decimal("1.025"))]),
        # Feb 29 start: anniversary on Feb 28 in 2029 (uses 2029-01 / 2028-01: 102 / 100 = +2 %)
        (date(2028, 2, 29), date(2029, 2, 1), []),
        (date(2028, 2, 29), date(2029, 3, 1), [(date(2029, 2, 28), Decimal("1.02"))]),
    ],
)
def test_adjustment_factors_anniversary_date_edges(start, period_start, expected):
    index = {**INDEX, date(2028, 1, 1): Decimal("100"), date(2029, 1, 1): Decimal("102")}

    assert adjustment_factors(indexed(index, start=start), period_start) == expected


@pytest.mark.parametrize(
    ("index_2027_02", "factor", "amount", "note"),
    [
        # +2.0 % under the 3 % cap: 5000.00 × 1.02 = 5100.00
        (Decimal("102"), Decimal("1.02"), Decimal("5100.00"), "index +2.00 % (cap 3.00 %) from 2027-03"),
        # +3.2 % capped at 3 %: 5000.00 × 1.03 = 5150.00
        (Decimal("103.2"), Decimal("1.03"), Decimal("5150.00"), "index +3.20 % (cap 3.00 %) from 2027-03"),
        # -1.5 %: never a decrease, factor 1 → 5000.00
        (Decimal("98.5"), Decimal("1"), Decimal("5000.00"), "index -1.50 % (no decrease, cap 3.00 %) from 2027-03"),
        # 0 %: factor 1 → 5000.00
        (Decimal("100"), Decimal("1"), Decimal("5000.00"), "index +0.00 % (cap 3.00 %) from 2027-03"),
    ],
)
def test_fee_lines_adjust_fixed_amount_by_capped_index(index_2027_02, factor, amount, note):
    adjustment = indexed({date(2026, 2, 1): Decimal("100"), date(2027, 2, 1): index_2027_02})

    [line] = price(RETAINER, period_start=date(2027, 3, 1), adjustment=adjustment)

    assert adjustment_factors(adjustment, date(2027, 3, 1)) == [(date(2027, 3, 1), factor)]
    assert line.amount == amount
    assert line.detail == f"Fixed fee 5,000.00, adjusted to {amount:,}; {note}"


@pytest.mark.parametrize(
    ("period_start", "amount"),
    [
        (date(2027, 2, 1), Decimal("1500.30")),  # before any anniversary
        (date(2027, 3, 1), Decimal("1537.81")),  # 1500.30 × 1.025 = 1537.8075 → 1537.81
        # 1537.81 × 1.02 = 1568.5662 → 1568.57 (compounding unrounded would give 1568.56)
        (date(2028, 3, 1), Decimal("1568.57")),
    ],
)
def test_fee_lines_compound_adjustment_rounding_each_anniversary(period_start, amount):
    terms = ServiceLineTerms(name="Retainer", basis="fixed", amount=Decimal("1500.30"))

    [line] = price(terms, period_start=period_start, adjustment=indexed())

    assert line.amount == amount


def test_fee_lines_adjust_rates_and_prices_but_not_gain_share_percent():
    adjustment = indexed({date(2026, 2, 1): Decimal("100"), date(2027, 2, 1): Decimal("103.2")})  # capped: × 1.03
    lines = (
        BASE_FEE,
        GAIN_SHARE,
        ServiceLineTerms(name="Learners", basis="per_learner", bands=BANDS),
        ServiceLineTerms(name="Hours", basis="unit", unit_price=Decimal("80.00"), usage_key="delivered_session_hours"),
    )
    usage = Usage(billable_learners=101, delivered_session_hours=Decimal("37.5"))
    outcomes = {"Gain share": OutcomeValue(Decimal("80"))}

    base, gain, learners, hours = fee_lines(lines, usage, date(2027, 3, 1), adjustment, outcomes)

    assert base.amount == Decimal("10300.00")  # 10000.00 × 1.03
    assert gain.amount == Decimal("1545.00")  # 15 % (not adjusted) × 10300.00
    # 12.00 × 1.03 = 12.36; 10.00 × 1.03 = 10.30; 100 × 12.36 + 1 × 10.30 = 1236.00 + 10.30 = 1246.30
    assert learners.amount == Decimal("1246.30")
    assert learners.detail == "100 × 12.36 + 1 × 10.30; index +3.20 % (cap 3.00 %) from 2027-03"
    assert hours.amount == Decimal("3090.00")  # 80.00 × 1.03 = 82.40; 37.5 × 82.40 = 3090.00


@pytest.mark.parametrize(
    ("index_values", "period_start", "months"),
    [
        ({date(2027, 2, 1): Decimal("102")}, date(2027, 3, 1), "2026-02"),  # the earlier month is missing
        ({date(2026, 2, 1): Decimal("100")}, date(2027, 3, 1), "2027-02"),  # the month before the anniversary
        ({}, date(2028, 3, 1), "2026-02, 2027-02, 2028-02"),  # all reported at once
    ],
)
def test_adjustment_factors_missing_index_value_names_the_month(index_values, period_start, months):
    with pytest.raises(MissingIndexValue, match=f"Missing index value for {months}:"):
        adjustment_factors(indexed(index_values), period_start)


def test_fee_lines_missing_index_value_is_a_value_error():
    with pytest.raises(ValueError, match="2028-02"):
        price(
            RETAINER,
            period_start=date(2028, 3, 1),
            adjustment=indexed({k: v for k, v in INDEX.items() if k.year < 2028}),
        )


def test_adjustment_factors_reject_zero_earlier_index():
    with pytest.raises(ValueError, match="2026-02 must be positive"):
        adjustment_factors(indexed({date(2026, 2, 1): Decimal("0"), date(2027, 2, 1): Decimal("1")}), date(2027, 3, 1))


# --- Volume variance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("billable", "forecast", "threshold", "flagged"),
    [
        (119, 100, Decimal("20"), False),  # 100 × 1.20 = 120; 119 is below
        (120, 100, Decimal("20"), False),  # exactly at the threshold: not "more than"
        (121, 100, Decimal("20"), True),  # 121 > 120
        (110, 100, Decimal("10"), False),  # 100 × 1.10 = 110, at
        (111, 100, Decimal("10"), True),  # 111 > 110
        (8, 7, Decimal("20"), False),  # 7 × 1.20 = 8.4; 8 is below
        (9, 7, Decimal("20"), True),  # 9 > 8.4
        (5, 0, Decimal("20"), False),  # no forecast: nothing to vary from
    ],
)
def test_variance_flag_only_above_threshold(billable, forecast, threshold, flagged):
    assert variance_flag(billable, forecast, threshold) is flagged


def test_variance_flag_defaults_to_twenty_percent():
    # 100 × 1.20 = 120
    assert (variance_flag(120, 100), variance_flag(121, 100)) == (False, True)


# --- Validation -----------------------------------------------------------------------------------


def test_validate_bands_accepts_increasing_bounds_ending_unbounded():
    validate_bands(BANDS)
    validate_bands((Band(None, Decimal("0")),))


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ((), "at least one volume band"),
        ((Band(None, Decimal("-1.00")),), "Band 1 rate must not be negative"),
        ((Band(None, 12.0),), "Band 1 rate must be a Decimal"),
        ((Band(100, Decimal("12")), Band(200, Decimal("10"))), "last band must be unbounded"),
        ((Band(None, Decimal("12")), Band(None, Decimal("10"))), "only the last band may be unbounded"),
        ((Band(100, Decimal("12")), Band(100, Decimal("10")), Band(None, Decimal("8"))), "strictly increasing"),
        ((Band(200, Decimal("12")), Band(100, Decimal("10")), Band(None, Decimal("8"))), "strictly increasing"),
        ((Band(0, Decimal("12")), Band(None, Decimal("10"))), "must be a positive number"),
        ((Band(10.5, Decimal("12")), Band(None, Decimal("10"))), "must be a whole number"),
        ((Band(True, Decimal("12")), Band(None, Decimal("10"))), "must be a whole number"),
    ],
)
def test_validate_bands_rejects_malformed_tables(bands, message):
    with pytest.raises(ValueError, match=message):
        validate_bands(bands)


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (ServiceLineTerms(name="U", basis="unit", unit_price=Decimal("1"), usage_key="attendances"), "unknown usage"),
        (
            ServiceLineTerms(name="U", basis="unit", unit_price=Decimal("-1"), usage_key="completions"),
            "must not be neg",
        ),
        (ServiceLineTerms(name="F", basis="fixed", amount=Decimal("-0.01")), "amount must not be negative"),
        (ServiceLineTerms(name="F", basis="fixed", amount=5000.0), "amount must be a Decimal"),
        (ServiceLineTerms(name="G", basis="gain_share", gain_share_percent=Decimal("-5")), "percent must not be neg"),
        (ServiceLineTerms(name="L", basis="per_learner"), "'L': A per-learner line needs at least one volume band"),
        (ServiceLineTerms(name="X", basis="tiered"), "unknown basis 'tiered'"),
    ],
)
def test_fee_lines_rejects_invalid_terms(terms, message):
    with pytest.raises(ValueError, match=message):
        price(terms)


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        (OutcomeValue(80.0), "Outcome value of 'Gain share' must be a Decimal"),
        (OutcomeValue(Decimal("NaN")), "must be a finite number"),
        (OutcomeValue(Decimal("80"), "disputed"), "unknown status 'disputed'"),
    ],
)
def test_fee_lines_rejects_invalid_outcomes(outcome, message):
    with pytest.raises(ValueError, match=message):
        price(BASE_FEE, GAIN_SHARE, outcomes={"Gain share": outcome})


def test_fee_lines_rejects_negative_usage():
    with pytest.raises(ValueError, match="Billable learners must not be negative"):
        price(RETAINER, usage=Usage(billable_learners=-1))
