"""Contract red-flag review: every rule fires on its warning sign and stays quiet on the negotiated clause."""

from collections import Counter

import pytest

from engagements.red_flags import MAX_CONTRACT_CHARS, RULES, review_contract

pytestmark = pytest.mark.unit

GOOD_CONTRACT = """\
SCHEDULE 2 - STATEMENT OF WORK AND SERVICE LEVELS

1. Scope
1.1 The Provider manages end-to-end scheduling for the functions marked in the scope matrix below.
| Function | Provider | Client |
| Training needs analysis | Out of scope | Retained |
| Instructor-led session scheduling | In scope | - |
| Learner enrollment and waitlists | In scope | - |
| Vendor sourcing and management | In scope | - |
| Content development | Out of scope | Retained |
| Compliance tracking | In scope | - |
1.2 Any change to scope, volume or service mix requires a written change request approved by both parties.

2. Service levels
The Provider commits to the following SLA metrics, measured per calendar month:
2.1 Session confirmation: 95% of session requests confirmed within 48 hours.
2.2 Scheduling lead time: 90% of sessions scheduled within 30 days of the request.
2.3 Support first response: 90% of learner tickets answered within 8 hours.
2.4 Enrollment processing: 98% of enrollments processed within 2 business days.
2.5 Mandatory training on time: 97% of compliance assignments completed by their due date.
2.6 Platform uptime: 99.5% of the minutes in the month, planned maintenance excluded.

3. Service credits
3.1 12% of the monthly fee is at risk. Each missed metric gives the Client a service credit of 3% of the
monthly fee, and credits are earned back after three consecutive months at target.

4. Reporting and data
4.1 The Provider shall provide comprehensive reporting: monthly SLA reports against the metrics in section 2.
4.2 The Client has direct access to the raw data in the training management system, and audit rights over
the reporting process.
4.3 All learner records belong to the Client. On request, and on expiry or termination, the Provider will
export all Client data in CSV within 30 days and then delete its copies.

5. Term, renewal and termination
5.1 The initial term is 24 months. The Agreement renews automatically for successive 12-month terms unless
either party gives at least 60 days' written notice before expiry.
5.2 Either party may terminate for convenience on 90 days' written notice.
5.3 The Client may also terminate without penalty after three consecutive months of breach of one metric.

6. Pricing
6.1 Fees are itemized per service line: programme management retainer EUR 18,000 per month, and EUR 35 per
billable learner above 500 learners per month.
6.2 Rates are adjusted each anniversary by the published consumer price index, capped at 3%.
6.3 Disputes unresolved by account management go to the executive sponsors within 30 days.
"""

BAD_CONTRACT = """\
STATEMENT OF WORK - MANAGED TRAINING SERVICES

1. Services
The Provider will deliver end-to-end training management for the Client's learning function. The Provider
will use best efforts to confirm sessions promptly and commercially reasonable efforts to answer learner
questions.

2. Service levels
The Provider will meet high service levels across delivery, learner support and compliance.

3. Reporting
The Provider offers comprehensive reporting. Reports prepared by the Provider are final and binding.

4. Fees
A single monthly fee covers platform access, vendor coordination and reporting.

5. Term
This SoW renews automatically for successive 12-month terms unless the Client gives 30 days' notice.
Either party may terminate this SoW for convenience on six (6) months' written notice.
"""


def findings_of(text, key):
    return [finding for finding in review_contract(text) if finding.rule.key == key]


def metric_lines(count):
    return "\n".join(f"- Metric {n}: {90 + n % 10}% of sessions confirmed within {n + 1} hours." for n in range(count))


def test_rules_table_lists_every_rule_once_with_a_known_severity():
    keys = [rule.key for rule in RULES]

    assert keys == [
        "best_efforts",
        "end_to_end_without_scope",
        "comprehensive_reporting_without_kpis",
        "no_service_credits",
        "no_data_export",
        "provider_controlled_reporting",
        "bundled_pricing",
        "auto_renewal_short_notice",
        "long_termination_notice",
        "sla_metric_count",
    ]
    assert {rule.severity for rule in RULES} == {"high", "medium"}
    assert all(rule.title and rule.explanation for rule in RULES)


def test_good_contract_raises_no_flags():
    assert review_contract(GOOD_CONTRACT) == []


def test_bad_contract_raises_exactly_the_expected_flags_most_severe_first():
    findings = review_contract(BAD_CONTRACT)

    assert [(f.rule.key, None if f.start is None else BAD_CONTRACT[f.start : f.end], f.detail) for f in findings] == [
        ("end_to_end_without_scope", "end-to-end", "no scope matrix, in/out-of-scope list or exclusions found"),
        ("best_efforts", "best efforts", '"best efforts" used instead of a target'),
        (
            "best_efforts",
            "commercially reasonable efforts",
            '"commercially reasonable efforts" used instead of a target',
        ),
        (
            "long_termination_notice",
            "six (6) months",
            "termination notice six (6) months (~180 days): more than 90 days",
        ),
        (
            "no_service_credits",
            None,
            "service levels are mentioned but no service credit, fee reduction or penalty",
        ),
        ("no_data_export", None, "no export, portability or return-of-data clause found"),
        (
            "comprehensive_reporting_without_kpis",
            "comprehensive reporting",
            '"comprehensive reporting" with no measurable KPI (a percentage or time limit)',
        ),
        (
            "provider_controlled_reporting",
            "Reports prepared by the Provider",
            "no client access to raw data, audit right or independent verification found",
        ),
        ("bundled_pricing", "single monthly fee", 'pricing phrase "single monthly fee"'),
        ("auto_renewal_short_notice", "renews automatically", "notice window 30 days: less than 60 days"),
        ("sla_metric_count", None, "0 SLA metrics found; aim for 5-8"),
    ]


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("best_efforts", "The Provider will use best efforts to confirm sessions."),
        ("best_efforts", "The Provider shall use its BEST\n   ENDEAVOURS to fill every seat."),
        ("best_efforts", "Tickets are answered with reasonable endeavors."),
        ("end_to_end_without_scope", "The Provider delivers end-to-end training management."),
        ("end_to_end_without_scope", "End to end ownership of the learning function."),
        ("comprehensive_reporting_without_kpis", "The Provider offers comprehensive reporting."),
        ("comprehensive_reporting_without_kpis", "Robust reporting is available on request."),
        # A percentage in a commercial clause names no KPI to report on.
        ("comprehensive_reporting_without_kpis", "Full reporting. A service credit of 5% of the monthly fee applies."),
        ("provider_controlled_reporting", "Reports prepared by the Provider are final."),
        ("provider_controlled_reporting", "All performance data held by the provider."),
        ("provider_controlled_reporting", "The Provider will provide monthly SLA reports."),
        ("provider_controlled_reporting", "The Provider's reporting is binding on both parties."),
        ("bundled_pricing", "An all-inclusive price of EUR 20,000 per month."),
        ("bundled_pricing", "A single monthly fee covers everything."),
        ("bundled_pricing", "Platform access is bundled with vendor coordination."),
        ("bundled_pricing", "One fee covers scheduling and reporting."),
        ("bundled_pricing", "An inclusive fee of EUR 9,000 applies."),
    ],
)
def test_phrase_rule_flags_its_warning_sign(key, text):
    findings = findings_of(text, key)

    assert len(findings) == 1
    assert findings[0].excerpt == " ".join(text.split())


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("best_efforts", "95% of sessions confirmed within 48 hours."),
        ("best_efforts", "The Provider's efforts are measured monthly."),
        ("end_to_end_without_scope", "End-to-end training management as defined in the scope matrix."),
        ("end_to_end_without_scope", "End-to-end training management. Out of scope: content development."),
        ("end_to_end_without_scope", "Training management. Content development is excluded."),
        (
            "comprehensive_reporting_without_kpis",
            "Comprehensive reporting on: 95% of sessions confirmed within 48 hours.",
        ),
        ("comprehensive_reporting_without_kpis", "Full reporting of enrollments processed in 2 business days."),
        ("comprehensive_reporting_without_kpis", "Monthly reports on the agreed metrics."),
        (
            "provider_controlled_reporting",
            "Reports prepared by the Provider. The Client has direct access to raw data.",
        ),
        (
            "provider_controlled_reporting",
            "The Provider will provide monthly reports, subject to the Client's audit rights.",
        ),
        ("provider_controlled_reporting", "Data held by the provider is subject to independent verification."),
        ("provider_controlled_reporting", "The Client produces the reports from its own system."),
        ("bundled_pricing", "Fees are itemized per service line."),
        ("bundled_pricing", "Services are not bundled."),
        ("bundled_pricing", "Unbundled pricing for every component."),
    ],
)
def test_phrase_rule_stays_quiet_without_its_warning_sign(key, text):
    assert findings_of(text, key) == []


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("The Provider will use Best  Efforts to confirm sessions.", "Best  Efforts"),
        ("It shall use commercially\nreasonable efforts.", "commercially\nreasonable efforts"),
        ("We deliver End-To-End\ntraining management.", "End-To-End"),
        ("Pricing: ALL INCLUSIVE.", "ALL INCLUSIVE"),
        ("The contract Auto-Renews each year.", "Auto-Renews"),
        ("Terminate for convenience on Twelve (12) Months' notice.", "Twelve (12) Months"),
    ],
)
def test_finding_span_is_the_matched_phrase_with_case_preserved(text, phrase):
    spans = [text[f.start : f.end] for f in review_contract(text) if f.start is not None]

    assert spans == [phrase]


def test_finding_excerpt_collapses_whitespace_and_keeps_sixty_characters_of_context():
    text = "x" * 100 + " We will use\n\nbest   efforts here. " + "y" * 100

    (finding,) = findings_of(text, "best_efforts")

    # The phrase spans [114, 128): context is [54, 188), i.e. 46 x's, the sentence, and 188 - 135 = 53 y's.
    assert (finding.start, finding.end) == (114, 128)
    assert finding.excerpt == "..." + "x" * 46 + " We will use best efforts here. " + "y" * 53 + "..."


def test_phrase_rule_reports_at_most_five_findings():
    text = " ".join(f"Clause {n}: the Provider uses best efforts." for n in range(7))

    assert len(findings_of(text, "best_efforts")) == 5


@pytest.mark.parametrize(
    "text",
    [
        "The SLA targets are reviewed quarterly.",
        "Service levels are set out in Schedule 2.",
        "The service-level schedule applies from go-live.",
    ],
)
def test_no_service_credits_flags_service_levels_without_a_remedy(text):
    findings = findings_of(text, "no_service_credits")

    assert [(f.start, f.end, f.excerpt) for f in findings] == [(None, None, "")]


@pytest.mark.parametrize(
    "text",
    [
        "The SLA is backed by service credits of 5% of the monthly fee.",
        "A missed service level leads to a fee reduction.",
        "Each SLA breach carries a penalty.",
        "The Provider schedules sessions.",
    ],
)
def test_no_service_credits_stays_quiet_with_a_remedy_or_without_service_levels(text):
    assert findings_of(text, "no_service_credits") == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("The Provider hosts all learner records on its platform.", True),
        ("The Provider will export all learner records in CSV on request.", False),
        ("The Client's data portability rights survive termination.", False),
        ("On expiry the return of data is completed within 30 days.", False),
        ("Records are delivered in a machine-readable format.", False),
        ("A data transfer to the successor provider is included.", False),
    ],
)
def test_no_data_export_flags_only_contracts_without_an_export_clause(text, flagged):
    assert len(findings_of(text, "no_data_export")) == int(flagged)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (
            "The Agreement renews automatically unless the Client gives 30 days' notice.",
            "notice window 30 days: less than 60 days",
        ),
        (
            "The Agreement shall automatically renew for successive one-year terms.",
            "no notice window stated",
        ),
        (
            "Auto-renewal applies unless notice is given 120 days before expiry.",
            "notice window 120 days: more than 90 days",
        ),
        (
            "The SoW is automatically renewed unless either party gives one month's written notice.",
            "notice window one month (~30 days): less than 60 days",
        ),
        (
            "The SoW renews automatically unless notice is given at least 6 weeks before the renewal date.",
            "notice window 6 weeks (~42 days): less than 60 days",
        ),
        (
            "The SoW renews automatically for 12-month terms. Notice of non-renewal must be given 30 days before"
            " the renewal date.",
            "notice window 30 days: less than 60 days",
        ),
        (
            "The SoW renews automatically with a notice period of 4 months.",
            "notice window 4 months (~120 days): more than 90 days",
        ),
        (
            "The SoW renews automatically unless either party gives 20 business days' notice.",
            "notice window 20 business days (~28 days): less than 60 days",
        ),
    ],
)
def test_auto_renewal_flags_missing_or_out_of_range_notice_window(text, detail):
    assert [f.detail for f in findings_of(text, "auto_renewal_short_notice")] == [detail]


@pytest.mark.parametrize(
    "text",
    [
        "The Agreement renews automatically unless either party gives sixty (60) days' written notice.",
        "The Agreement renews automatically unless either party gives 3 months' notice before expiry.",
        "Auto-renewal: notice of non-renewal is due no later than 75 days before the renewal date.",
        "The Agreement does not renew automatically.",
        "There is no automatic renewal.",
        "The Agreement ends on 31 December 2027.",
    ],
)
def test_auto_renewal_stays_quiet_with_a_60_to_90_day_window_or_no_auto_renewal(text):
    assert findings_of(text, "auto_renewal_short_notice") == []


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (
            "Either party may terminate for convenience on six (6) months' written notice.",
            "termination notice six (6) months (~180 days): more than 90 days",
        ),
        (
            "The Client may terminate for convenience upon 180 days prior written notice.",
            "termination notice 180 days: more than 90 days",
        ),
        (
            "Termination for convenience requires a notice period of twelve months.",
            "termination notice twelve months (~360 days): more than 90 days",
        ),
        (
            "The Client may terminate this Agreement for material breach.",
            "no termination-for-convenience clause",
        ),
    ],
)
def test_long_termination_notice_flags_long_notice_or_no_convenience_exit(text, detail):
    assert [f.detail for f in findings_of(text, "long_termination_notice")] == [detail]


@pytest.mark.parametrize(
    "text",
    [
        "Either party may terminate for convenience on 90 days' notice.",
        "The Client may terminate for convenience with sixty (60) days' written notice.",
        # "12 months" is a lock-in period, not a notice period.
        "Either party may terminate for convenience on 60 days' notice after the first 12 months.",
        "The Provider schedules sessions for six months ahead.",
    ],
)
def test_long_termination_notice_stays_quiet_on_a_short_convenience_exit(text):
    assert findings_of(text, "long_termination_notice") == []


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (metric_lines(4), "4 SLA metrics found; aim for 5-8"),
        (metric_lines(9), "9 SLA metrics found; aim for 5-8"),
        ("The Provider will meet high service levels.", "0 SLA metrics found; aim for 5-8"),
        # Repeats count once, commercial percentages not at all: 3 distinct service targets.
        (
            metric_lines(3) + "\n" + metric_lines(3) + "\nA credit of 5% of the monthly fee applies.",
            "3 SLA metrics found; aim for 5-8",
        ),
    ],
)
def test_sla_metric_count_flags_fewer_than_five_or_more_than_eight(text, detail):
    assert [(f.start, f.detail) for f in findings_of(text, "sla_metric_count")] == [(None, detail)]


@pytest.mark.parametrize(
    "text",
    [
        metric_lines(5),
        metric_lines(8),
        # A target wrapped over two lines by a PDF paste is still one metric (with four others: five).
        metric_lines(4) + "\n- Enrollment: 98% of enrollments processed\n  within two business days.",
    ],
)
def test_sla_metric_count_stays_quiet_between_five_and_eight(text):
    assert findings_of(text, "sla_metric_count") == []


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_review_contract_rejects_empty_text(text):
    with pytest.raises(ValueError, match=r"^Paste the contract text to review\.$"):
        review_contract(text)


def test_review_contract_rejects_text_over_the_size_limit():
    with pytest.raises(ValueError, match=r"accepts at most 500,000"):
        review_contract("a" * (MAX_CONTRACT_CHARS + 1))


@pytest.mark.parametrize(
    "text",
    [
        # Long runs of whitespace and half-matches are where backtracking regexes blow up.
        "best " + " " * (MAX_CONTRACT_CHARS - 20) + "efforts",
        ("end - to - " * 50_000)[:MAX_CONTRACT_CHARS],
        ("renews automatically 12 (12 " * 20_000)[:MAX_CONTRACT_CHARS],
        ("99.9 within sixty-" * 30_000)[:MAX_CONTRACT_CHARS],
        (BAD_CONTRACT * 300)[:MAX_CONTRACT_CHARS],
    ],
)
def test_review_contract_handles_maximum_size_adversarial_text(text):
    # How fast is measured in bench/red_flags.py (ratio against a plain regex scan), never timed here.
    findings = review_contract(text)

    per_rule = Counter(finding.rule.key for finding in findings)
    assert all(count <= 5 for count in per_rule.values())
    assert all(f.start is None or 0 <= f.start < f.end <= len(text) for f in findings)
