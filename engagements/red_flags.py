"""Contract red-flag review: point at the clauses of a pasted SoW, SLA or MSA that tend to hurt the client later.

Pure text analysis (no ORM, no database) so a draft can be reviewed before anything is saved. The rules are the
buyer-side warning signs of managed-training contracts: vague commitments ("best efforts", "end-to-end" without a
scope), missing remedies (no service credits, no data export, reporting only the provider can see) and exit traps
(long termination notice, auto-renewal windows outside 60-90 days). Every rule is a heuristic that sends a
reviewer to a clause; it does not replace reading it.

All patterns are precompiled and built from literals, ``\\s+`` and bounded repeats only, so a 500,000-character
paste is reviewed in linear time (no nested quantifiers, hence no catastrophic backtracking).
"""

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_lazy, ngettext

MAX_CONTRACT_CHARS = 500_000
MAX_FINDINGS_PER_RULE = 5
EXCERPT_CONTEXT_CHARS = 60
# The non-renewal and termination-for-convenience notice both should sit in this window (in days).
NOTICE_WINDOW_DAYS = (60, 90)
# "Focus on the five to eight measures that directly determine whether your training function is running."
SLA_METRIC_RANGE = (5, 8)

HIGH = "high"
MEDIUM = "medium"


@dataclass(frozen=True)
class Rule:
    """One warning sign: what it is called, how much it matters, and why a reviewer should push back."""

    key: str
    title: str
    severity: str
    explanation: str


@dataclass(frozen=True)
class Finding:
    """A rule raised by the text, with the span to show the reviewer (absence findings have no span)."""

    rule: Rule
    start: int | None
    end: int | None
    excerpt: str
    detail: str


BEST_EFFORTS = Rule(
    key="best_efforts",
    title=gettext_lazy('"Best efforts" instead of a commitment'),
    severity=HIGH,
    explanation=gettext_lazy(
        # xgettext:no-python-format -- its "%" signs are percentages, not placeholders
        "Best efforts is not an SLA commitment: it removes accountability, because any miss can be excused as "
        "having tried. Replace it with a measurable target and a remedy, e.g. 95 % of sessions confirmed within "
        "48 hours, with a service credit when the target is missed."
    ),
)
END_TO_END_WITHOUT_SCOPE = Rule(
    key="end_to_end_without_scope",
    title=gettext_lazy('"End-to-end" without a defined scope'),
    severity=HIGH,
    explanation=gettext_lazy(
        "End-to-end promises everything and defines nothing: without a list of what is included and excluded it "
        "tends to collapse into narrow delivery once the SoW is written. Add a scope matrix naming who owns needs "
        "analysis, scheduling, enrollment, vendor management, platform administration, compliance tracking and "
        "reporting."
    ),
)
COMPREHENSIVE_REPORTING_WITHOUT_KPIS = Rule(
    key="comprehensive_reporting_without_kpis",
    title=gettext_lazy('"Comprehensive reporting" without KPIs'),
    severity=MEDIUM,
    explanation=gettext_lazy(
        # xgettext:no-python-format -- its "%" signs are percentages, not placeholders
        "Reporting is only valuable if the metrics are agreed in advance; without a measurable KPI the provider "
        "decides what to show. Name the KPIs with targets, e.g. 98 % of completions recorded within 5 business "
        "days, and ask for a sample dashboard and its data sources before signing."
    ),
)
NO_SERVICE_CREDITS = Rule(
    key="no_service_credits",
    title=gettext_lazy("Service levels without service credits"),
    severity=HIGH,
    explanation=gettext_lazy(
        "Service levels without a remedy are targets, not commitments: a miss costs the provider nothing. Put a "
        "share of the monthly fee at risk (typically 5-15 %), allocate it across the metrics as service credits, "
        "and consider earn-back for sustained over-performance."
    ),
)
NO_DATA_EXPORT = Rule(
    key="no_data_export",
    title=gettext_lazy("No data export or portability clause"),
    severity=HIGH,
    explanation=gettext_lazy(
        "Learner records, completions and compliance audit trails belong to the client and are needed to switch "
        "providers or pass an audit. Require export in a standard machine-readable format (e.g. CSV) on request "
        "and within 30 days of termination, and forbid the provider from retaining or reusing the data."
    ),
)
PROVIDER_CONTROLLED_REPORTING = Rule(
    key="provider_controlled_reporting",
    title=gettext_lazy("Provider-controlled reporting"),
    severity=MEDIUM,
    explanation=gettext_lazy(
        "If the provider both delivers the service and controls the performance data, SLA compliance cannot be "
        "verified independently. Negotiate direct access to the raw data, audit rights, or a neutral third-party "
        "verification, particularly for compliance tracking."
    ),
)
BUNDLED_PRICING = Rule(
    key="bundled_pricing",
    title=gettext_lazy("Bundled pricing"),
    severity=MEDIUM,
    explanation=gettext_lazy(
        "A bundled fee hides what each service costs, so components cannot be benchmarked or renegotiated at "
        "renewal. Ask for an itemized cost breakdown per service line, even if the invoice stays a single figure."
    ),
)
AUTO_RENEWAL_SHORT_NOTICE = Rule(
    key="auto_renewal_short_notice",
    title=gettext_lazy("Auto-renewal notice window outside 60-90 days"),
    severity=MEDIUM,
    explanation=gettext_lazy(
        "Auto-renewal is standard, but non-renewal notice should be due 60-90 days before expiry. Under 60 days "
        "leaves too little time to act at the budget cycle; over 90 days sets a deadline long before expiry that "
        "is easy to miss; with no window stated the contract can renew before anyone decides. Check it against "
        "your procurement timeline."
    ),
)
LONG_TERMINATION_NOTICE = Rule(
    key="long_termination_notice",
    title=gettext_lazy("Long termination notice or no termination for convenience"),
    severity=HIGH,
    explanation=gettext_lazy(
        "Six to twelve months' notice, or no right to terminate for convenience at all, protects the provider's "
        "revenue rather than the client. Negotiate termination for convenience on 60-90 days' notice plus "
        "performance-based exit triggers: the right to leave without penalty when agreed SLA targets are "
        "repeatedly missed."
    ),
)
SLA_METRIC_COUNT = Rule(
    key="sla_metric_count",
    title=gettext_lazy("SLA metric count outside 5-8"),
    severity=MEDIUM,
    explanation=gettext_lazy(
        "Focus the SLA on the five to eight measures that decide whether training runs well, each passing the "
        "three M's test (meaningful, measurable, modifiable). Fewer leaves delivery, learner experience, compliance "
        "or quality unmeasured; more dilutes accountability."
    ),
)

RULES: tuple[Rule, ...] = (
    BEST_EFFORTS,
    END_TO_END_WITHOUT_SCOPE,
    COMPREHENSIVE_REPORTING_WITHOUT_KPIS,
    NO_SERVICE_CREDITS,
    NO_DATA_EXPORT,
    PROVIDER_CONTROLLED_REPORTING,
    BUNDLED_PRICING,
    AUTO_RENEWAL_SHORT_NOTICE,
    LONG_TERMINATION_NOTICE,
    SLA_METRIC_COUNT,
)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Number words that appear in notice periods and SLA targets ("sixty (60) days", "forty-eight hours").
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "eighteen": 18,
    "twenty": 20,
    "twenty-four": 24,
    "thirty": 30,
    "forty-five": 45,
    "forty-eight": 48,
    "sixty": 60,
    "seventy-two": 72,
    "ninety": 90,
    "one-hundred-twenty": 120,
    "one-hundred-eighty": 180,
}
_WORD_SEPARATOR = r"[\s-]+(?:and[\s-]+)?"
_NUMBER = (
    r"(?:\d{1,4}|"
    + "|".join(word.replace("-", _WORD_SEPARATOR) for word in sorted(_NUMBER_WORDS, key=len, reverse=True))
    + ")"
)
_DIGITS_IN_PARENTHESES = r"(?:\s*\(\s*\d{1,4}\s*\))?"

# Sentences end at . ! ? before whitespace, or at a line break followed by something other than a lowercase
# letter: a new bullet, table row or numbered clause starts a new unit, a PDF line wrap mid-sentence does not.
# Deliberately case-sensitive.
_SENTENCE_BREAK = re.compile(r"[.!?](?=\s)|\n(?=[ \t]*[^\sa-z])")

_BEST_EFFORTS = _compile(r"\b(?:commercially\s+)?(?:best|reasonable)\s+(?:efforts?|endeavou?rs?)\b")

_END_TO_END = _compile(r"\bend[\s-]+to[\s-]+end\b")
_SCOPE_DEFINITION = _compile(
    r"\bscope\s+matrix|\bin[\s-]+scope\b|\bout[\s-]+of[\s-]+scope\b|\bexclu(?:ded|sions?)\b"
    r"|\bincluded\s+services\b|\bservices\s+included\b"
)

_BROAD_REPORTING = _compile(r"\b(?:comprehensive|full|robust)\s+reporting\b")

# An SLA metric target: a percentage, or a time limit. Plain "N days" needs a limiting word ("within 30 days")
# because contracts are full of day counts that are not targets; hours, minutes and business days almost always are.
_METRIC_TARGET = _compile(
    r"\d{1,3}(?:\.\d{1,2})?\s*(?:%|percent\b|per\s+cent\b)"
    rf"|\b(?:within|in|under|than|most|maximum|max)\s+{_NUMBER}{_DIGITS_IN_PARENTHESES}[\s-]*"
    r"(?:(?:business|working|calendar)\s+)?(?:hours?|days?|minutes?|mins?)\b"
    rf"|\b{_NUMBER}{_DIGITS_IN_PARENTHESES}[\s-]*(?:hours?|minutes?|(?:business|working)\s+days?)\b"
)
# Sentences about money and the contract's life also carry percentages and day counts ("a credit of 5 % of the
# monthly fee", "export within 30 days of termination"); they are commercial terms, not service metrics.
_COMMERCIAL_TERMS = _compile(
    r"credit|\bfees?\b|\bpric|invoice|payment|\bpaid\b|liabilit|discount|\bindex|inflation|\bcap(?:s|ped)?\b"
    r"|at[\s-]+risk|terminat|renew|\bnotice\b|\bexport|portab|dispute|penalt"
)

_SERVICE_LEVELS = _compile(r"\bSLAs?\b|\bservice[\s-]+levels?\b")
_SERVICE_CREDITS = _compile(r"\bcredit|\bfee\s+reductions?\b|\bpenalt(?:y|ies)\b")

_DATA_EXPORT = _compile(
    r"\bexport|portab|\breturn\s+of\s+(?:all\s+)?(?:the\s+)?(?:client\s+)?data\b|\bdata\s+transfer"
    r"|\bmachine[\s-]+readable\b"
)

_PARTY = r"(?:the\s+)?(?:provider|supplier|vendor|contractor)"
_PROVIDER_REPORTING = _compile(
    r"\breports?\s+(?:(?:are|will\s+be|shall\s+be)\s+)?(?:prepared|produced|generated|compiled|maintained|issued)"
    rf"\s+(?:solely\s+|exclusively\s+)?by\s+{_PARTY}\b"
    rf"|\b{_PARTY}['\u2019]s\s+(?:own\s+)?(?:reporting|reports|performance\s+data)\b"
    r"|\b(?:performance\s+)?(?:data|records)\s+(?:(?:is|are|will\s+be|shall\s+be)\s+)?"
    rf"(?:held|stored|owned|controlled|maintained|retained|hosted)\s+(?:solely\s+|exclusively\s+)?by\s+{_PARTY}\b"
    rf"|\b{_PARTY}\s+(?:will|shall)\s+(?:provide|supply|deliver|issue|prepare|produce|publish|send)\s+"
    r"(?:\w+\s+){0,3}?report(?:s|ing)?\b"
    rf"|\b{_PARTY}\s+(?:owns|controls|maintains|retains|holds)\s+(?:all\s+)?(?:the\s+)?(?:performance\s+)?"
    r"(?:data|reports|reporting|records)\b"
)
_INDEPENDENT_ACCESS = _compile(
    r"\braw\s+data\b|\bdirect\s+access\b|\b(?:client|customer)\s+access\b|\baudit\s+rights?\b|\bright\s+to\s+audit\b"
    r"|\bindependent(?:ly)?\s+verif|\bthird[\s-]+party\s+verification\b"
)

_BUNDLED_PRICING = _compile(
    r"\ball[\s-]+inclusive\b|\bsingle\s+(?:(?:monthly|annual|fixed)\s+)?(?:fee|price|charge)\b|\bbundl(?:e|ed|ing)\b"
    r"|\bone\s+fee\s+covers\b|\binclusive\s+(?:fee|price|rate)\b"
)

_AUTO_RENEWAL = _compile(
    r"\bautomatic(?:ally)?\s+renew(?:s|ed|al|ing)?\b|\bauto[\s-]?renew(?:s|ed|al|ing)?\b"
    r"|\brenew(?:s|ed|al)?\s+automatically\b"
)
_RENEWAL_WORD = _compile(r"renew")

_TERMINATION = _compile(r"\bterminat")
_TERMINATION_FOR_CONVENIENCE = _compile(
    r"\bfor\s+(?:its\s+|their\s+|the\s+client['\u2019]s\s+)?convenience\b|\bwithout\s+cause\b|\bfor\s+any\s+reason\b"
)

_DURATION = _compile(
    rf"\b(?P<number>{_NUMBER})(?:\s*\(\s*(?P<digits>\d{{1,4}})\s*\))?[\s-]*"
    r"(?P<unit>(?:business|working|calendar)\s+days?|days?|weeks?|months?)\b"
)
# A duration is a notice period when notice follows it ("60 days' written notice", "30 days before expiry") ...
_NOTICE_AFTER = _compile(
    r"(?:['\u2019]s?)?\s+(?:of\s+)?(?:(?:prior|advance|written)\s+){0,2}"
    r"(?:notice|before|prior|in\s+advance|preceding|ahead)\b"
)
# ... or precedes it ("a notice period of at least 90 days").
_NOTICE_BEFORE = _compile(
    r"\bnotice(?:\s+period)?(?:\s+of)?(?:\s+(?:at\s+least|not\s+less\s+than|no\s+less\s+than|a\s+minimum\s+of))?\s+$"
)
_NOTICE_LOOKBEHIND_CHARS = 60

# "not bundled", "does not renew automatically", "no automatic renewal": the clause says the opposite.
_NEGATION_BEFORE = _compile(r"\b(?:not|no|never|without)\s+(?:\w+\s+)?$")
_NEGATION_LOOKBEHIND_CHARS = 25


@dataclass(frozen=True)
class _Contract:
    """The pasted text and its sentence spans, computed once per review."""

    text: str
    sentences: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, text: str) -> "_Contract":
        sentences, start = [], 0
        for match in _SENTENCE_BREAK.finditer(text):
            if text[start : match.end()].strip():
                sentences.append((start, match.end()))
            start = match.end()
        if text[start:].strip():
            sentences.append((start, len(text)))
        return cls(text, tuple(sentences))

    def sentence_index(self, position: int) -> int:
        """Index of the sentence containing ``position``: a phrase match is never inside a blank gap."""
        return max(0, bisect_right(self.sentences, (position, len(self.text) + 1)) - 1)

    def sla_metric_targets(self) -> set[str]:
        """Distinct sentence parts stating a service target, whitespace- and case-normalized.

        A part is a sentence, or a piece of one between semicolons, so a table row or a bullet is one metric and
        "95 % within 48 hours" is not counted twice. Commercial sentences (credits, fees, notice, export) are
        skipped: their numbers are not service levels.
        """
        targets = set()
        for start, end in self.sentences:
            for part in self.text[start:end].split(";"):
                if _METRIC_TARGET.search(part) and not _COMMERCIAL_TERMS.search(part):
                    targets.add(" ".join(part.lower().split()))
        return targets


def review_contract(text: str) -> list[Finding]:
    """Return the red flags raised by a pasted SoW, SLA or MSA, most severe first, then in reading order."""
    if not text or not text.strip():
        raise ValueError(gettext("Paste the contract text to review."))
    if len(text) > MAX_CONTRACT_CHARS:
        message = gettext(
            "The contract text is %(length)s characters long; the review accepts at most %(limit)s. Paste the SoW, "
            "SLA or MSA sections to review."
        )
        raise ValueError(message % {"length": f"{len(text):,}", "limit": f"{MAX_CONTRACT_CHARS:,}"})
    contract = _Contract.parse(text)
    findings = [finding for check in _CHECKS for finding in check(contract)]
    rule_order = {rule.key: index for index, rule in enumerate(RULES)}
    severity_order = {HIGH: 0, MEDIUM: 1}
    return sorted(
        findings,
        key=lambda f: (
            severity_order[f.rule.severity],
            len(text) if f.start is None else f.start,
            rule_order[f.rule.key],
        ),
    )


def _excerpt(text: str, start: int, end: int) -> str:
    low, high = max(0, start - EXCERPT_CONTEXT_CHARS), min(len(text), end + EXCERPT_CONTEXT_CHARS)
    body = " ".join(text[low:high].split())
    return ("..." if low > 0 else "") + body + ("..." if high < len(text) else "")


def _at(rule: Rule, text: str, start: int, end: int, detail: str) -> Finding:
    return Finding(rule=rule, start=start, end=end, excerpt=_excerpt(text, start, end), detail=detail)


def _absent(rule: Rule, detail: str) -> Finding:
    return Finding(rule=rule, start=None, end=None, excerpt="", detail=detail)


def _quoted(phrase: str) -> str:
    return '"' + " ".join(phrase.split()) + '"'


def _is_negated(text: str, start: int) -> bool:
    return _NEGATION_BEFORE.search(text[max(0, start - _NEGATION_LOOKBEHIND_CHARS) : start]) is not None


def _phrases(
    rule: Rule, pattern: re.Pattern[str], text: str, detail: Callable[[str], str], *, skip_negated: bool = False
) -> list[Finding]:
    """One finding per match of ``pattern``, capped so one repeated phrase does not bury the other flags."""
    findings = []
    for match in pattern.finditer(text):
        if skip_negated and _is_negated(text, match.start()):
            continue
        findings.append(_at(rule, text, match.start(), match.end(), detail(match.group())))
        if len(findings) == MAX_FINDINGS_PER_RULE:
            break
    return findings


def _best_efforts(contract: _Contract) -> list[Finding]:
    return _phrases(
        BEST_EFFORTS,
        _BEST_EFFORTS,
        contract.text,
        lambda p: gettext("%(phrase)s used instead of a target") % {"phrase": _quoted(p)},
    )


def _end_to_end_without_scope(contract: _Contract) -> list[Finding]:
    """Any scope signal anywhere (scope matrix, in/out of scope, exclusions) is taken as a defined scope."""
    if _SCOPE_DEFINITION.search(contract.text):
        return []
    return _phrases(
        END_TO_END_WITHOUT_SCOPE,
        _END_TO_END,
        contract.text,
        lambda _: gettext("no scope matrix, in/out-of-scope list or exclusions found"),
    )


def _comprehensive_reporting_without_kpis(contract: _Contract) -> list[Finding]:
    """KPIs count as named when the text states at least one SLA metric target (see ``sla_metric_targets``).

    A number with a percent or time unit is a KPI only outside commercial clauses: "a credit of 5 % of the fee"
    or "36 months" names nothing to report on.
    """
    if contract.sla_metric_targets():
        return []
    return _phrases(
        COMPREHENSIVE_REPORTING_WITHOUT_KPIS,
        _BROAD_REPORTING,
        contract.text,
        lambda p: gettext("%(phrase)s with no measurable KPI (a percentage or time limit)") % {"phrase": _quoted(p)},
    )


def _no_service_credits(contract: _Contract) -> list[Finding]:
    if not _SERVICE_LEVELS.search(contract.text) or _SERVICE_CREDITS.search(contract.text):
        return []
    return [
        _absent(
            NO_SERVICE_CREDITS, gettext("service levels are mentioned but no service credit, fee reduction or penalty")
        )
    ]


def _no_data_export(contract: _Contract) -> list[Finding]:
    if _DATA_EXPORT.search(contract.text):
        return []
    return [_absent(NO_DATA_EXPORT, gettext("no export, portability or return-of-data clause found"))]


def _provider_controlled_reporting(contract: _Contract) -> list[Finding]:
    """Provider-side reporting is fine once the client can check it: raw data, direct access, audit or verification."""
    if _INDEPENDENT_ACCESS.search(contract.text):
        return []
    return _phrases(
        PROVIDER_CONTROLLED_REPORTING,
        _PROVIDER_REPORTING,
        contract.text,
        lambda _: gettext("no client access to raw data, audit right or independent verification found"),
    )


def _bundled_pricing(contract: _Contract) -> list[Finding]:
    return _phrases(
        BUNDLED_PRICING,
        _BUNDLED_PRICING,
        contract.text,
        lambda p: gettext("pricing phrase %(phrase)s") % {"phrase": _quoted(p)},
        skip_negated=True,
    )


def _notice_windows(text: str, start: int, end: int) -> list[tuple[re.Match[str], int]]:
    """Durations in ``text[start:end]`` that are notice periods, each with its length in calendar days.

    Weeks count 7 days, months 30, business days 7/5 of a calendar day. Durations that are not notice
    ("successive 12-month terms") are ignored.
    """
    windows = []
    for match in _DURATION.finditer(text, start, end):
        lookbehind = text[max(start, match.start() - _NOTICE_LOOKBEHIND_CHARS) : match.start()]
        if _NOTICE_AFTER.match(text, match.end()) or _NOTICE_BEFORE.search(lookbehind):
            windows.append((match, _days(match)))
    return windows


def _days(duration: re.Match[str]) -> int:
    if duration["digits"]:
        count = int(duration["digits"])
    elif duration["number"].isdigit():
        count = int(duration["number"])
    else:
        words = [word for word in re.split(r"[\s-]+", duration["number"].lower()) if word != "and"]
        count = _NUMBER_WORDS["-".join(words)]
    unit = duration["unit"].lower()
    if unit.startswith(("business", "working")):
        return round(count * 7 / 5)
    if unit.startswith("week"):
        return count * 7
    if unit.startswith("month"):
        return count * 30
    return count


def _describe_window(duration: re.Match[str], days: int) -> str:
    """Calendar days as written ("30 days"); other units with their equivalent ("6 months (~180 days)")."""
    phrase = " ".join(duration.group().split())
    if " ".join(duration["unit"].lower().split()) in {"day", "days", "calendar day", "calendar days"}:
        return phrase
    return gettext("%(phrase)s (~%(days)s days)") % {"phrase": phrase, "days": days}


def _auto_renewal_short_notice(contract: _Contract) -> list[Finding]:
    """The renewal clause is the sentence naming auto-renewal, plus the next one when it still talks about
    renewal ("Notice of non-renewal must be given ..."); its first notice period decides."""
    text, findings = contract.text, []
    low, high = NOTICE_WINDOW_DAYS
    for match in _AUTO_RENEWAL.finditer(text):
        if _is_negated(text, match.start()):
            continue
        index = contract.sentence_index(match.start())
        start, end = contract.sentences[index]
        windows = _notice_windows(text, start, end)
        if not windows and index + 1 < len(contract.sentences):
            next_start, next_end = contract.sentences[index + 1]
            if _RENEWAL_WORD.search(text, next_start, next_end):
                windows = _notice_windows(text, next_start, next_end)
        if not windows:
            detail = gettext("no notice window stated")
        else:
            duration, days = windows[0]
            if low <= days <= high:
                continue
            reason = gettext("less than 60 days") if days < low else gettext("more than 90 days")
            detail = gettext("notice window %(window)s: %(reason)s") % {
                "window": _describe_window(duration, days),
                "reason": reason,
            }
        findings.append(_at(AUTO_RENEWAL_SHORT_NOTICE, text, match.start(), match.end(), detail))
        if len(findings) == MAX_FINDINGS_PER_RULE:
            break
    return findings


def _long_termination_notice(contract: _Contract) -> list[Finding]:
    """Flags every notice period over 90 days in a termination sentence, and a contract that can be terminated
    but has no termination-for-convenience right. Sentences about auto-renewal are left to that rule."""
    text, findings = contract.text, []
    for start, end in contract.sentences:
        if not _TERMINATION.search(text, start, end) or _AUTO_RENEWAL.search(text, start, end):
            continue
        for duration, days in _notice_windows(text, start, end):
            if days > NOTICE_WINDOW_DAYS[1] and len(findings) < MAX_FINDINGS_PER_RULE:
                detail = gettext("termination notice %(window)s: more than 90 days") % {
                    "window": _describe_window(duration, days)
                }
                findings.append(_at(LONG_TERMINATION_NOTICE, text, duration.start(), duration.end(), detail))
    if _TERMINATION.search(text) and not _TERMINATION_FOR_CONVENIENCE.search(text):
        findings.append(_absent(LONG_TERMINATION_NOTICE, gettext("no termination-for-convenience clause")))
    return findings


def _sla_metric_count(contract: _Contract) -> list[Finding]:
    count = len(contract.sla_metric_targets())
    low, high = SLA_METRIC_RANGE
    if low <= count <= high:
        return []
    found = ngettext(
        "%(count)s SLA metric found; aim for %(low)s-%(high)s",
        "%(count)s SLA metrics found; aim for %(low)s-%(high)s",
        count,
    )
    return [_absent(SLA_METRIC_COUNT, found % {"count": count, "low": low, "high": high})]


_CHECKS: tuple[Callable[[_Contract], list[Finding]], ...] = (
    _best_efforts,
    _end_to_end_without_scope,
    _comprehensive_reporting_without_kpis,
    _no_service_credits,
    _no_data_export,
    _provider_controlled_reporting,
    _bundled_pricing,
    _auto_renewal_short_notice,
    _long_termination_notice,
    _sla_metric_count,
)
