"""What an engagement template holds, and the built-in templates every organization may start from.

A template is the usual shape of a contract, not a contract: the scope matrix, a pricing skeleton (the SoW's pricing
model and its service lines), 5–8 recommended SLA targets with their allocations and the at-risk percent, the
governance cadence and the contract-date defaults. The wizard (`services.templates`) turns one into an engagement.

Built-in templates are code, not rows: they are the same for every organization, change with a release and are
reviewed like code; an organization's own templates (`EngagementTemplate`) store the same content as JSON. The
thresholds are the seeds' typical ones (SPEC-SLA §3–4; seed 003: five to eight measures, 60–90 days' notice,
monthly operational reviews and quarterly business reviews).
"""

from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from slas.catalog import METRICS

from .enums import (
    EngagementModel,
    LineBasis,
    MeetingKind,
    PricingModel,
    Responsibility,
    StandardService,
    UsageKey,
    VendorModel,
)

BUILT_IN_PREFIX = "builtin:"


@dataclass(frozen=True)
class LineSpec:
    """A service line of the pricing skeleton; a per-learner line has graduated bands `(up_to, rate)`."""

    name: str
    basis: str
    amount: Decimal = Decimal("0")
    included_learners: int = 0
    unit_price: Decimal = Decimal("0")
    usage_key: str = ""
    bands: tuple[tuple[int | None, Decimal], ...] = ()


@dataclass(frozen=True)
class TargetSpec:
    metric: str
    target: Decimal
    allocation_percent: Decimal
    threshold: int | None = None  # None: the catalog's default (or the MSA's for change requests)


@dataclass(frozen=True)
class CadenceSpec:
    """Meetings of one kind every `every_months`, scheduled for the engagement's first `months` months."""

    kind: str
    every_months: int
    months: int = 6


@dataclass(frozen=True)
class TemplateContent:
    description: str
    engagement_model: str
    vendor_model: str
    term_months: int
    termination_notice_days: int
    renewal_notice_days: int
    sow_title: str
    pricing_model: str
    forecast_learners: int
    at_risk_percent: Decimal
    lines: tuple[LineSpec, ...]
    scope: tuple[tuple[str, str], ...]
    targets: tuple[TargetSpec, ...]
    meetings: tuple[CadenceSpec, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (Decimals as strings, so no float ever touches a price or a target)."""

        def plain(value: object) -> object:
            if isinstance(value, (Decimal, Promise)):  # a built-in template's texts are lazily translated
                return str(value)
            if isinstance(value, (list, tuple)):
                return [plain(item) for item in value]
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            return value

        return plain(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TemplateContent":
        """Parse stored content; a malformed one is a ValidationError (never a 500 when a page reads it)."""
        try:
            content = cls(
                description=str(data.get("description", "")),
                engagement_model=data["engagement_model"],
                vendor_model=data["vendor_model"],
                term_months=int(data["term_months"]),
                termination_notice_days=int(data["termination_notice_days"]),
                renewal_notice_days=int(data["renewal_notice_days"]),
                sow_title=str(data["sow_title"]),
                pricing_model=data["pricing_model"],
                forecast_learners=int(data["forecast_learners"]),
                at_risk_percent=Decimal(data["at_risk_percent"]),
                lines=tuple(
                    LineSpec(
                        name=line["name"],
                        basis=line["basis"],
                        amount=Decimal(line.get("amount", "0")),
                        included_learners=int(line.get("included_learners", 0)),
                        unit_price=Decimal(line.get("unit_price", "0")),
                        usage_key=line.get("usage_key", ""),
                        bands=tuple(
                            (None if up_to is None else int(up_to), Decimal(rate))
                            for up_to, rate in line.get("bands", ())
                        ),
                    )
                    for line in data["lines"]
                ),
                scope=tuple((service, responsibility) for service, responsibility in data["scope"]),
                targets=tuple(
                    TargetSpec(
                        metric=target["metric"],
                        target=Decimal(target["target"]),
                        allocation_percent=Decimal(target["allocation_percent"]),
                        threshold=None if target.get("threshold") is None else int(target["threshold"]),
                    )
                    for target in data["targets"]
                ),
                meetings=tuple(
                    CadenceSpec(meeting["kind"], int(meeting["every_months"]), int(meeting.get("months", 6)))
                    for meeting in data.get("meetings", ())
                ),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            raise ValidationError(
                gettext("The template's content is not readable (%(error)s).") % {"error": error}
            ) from error
        content.validate()
        return content

    def validate(self) -> None:
        """The choices exist and the numbers are in range; the domain services check the rest when it is used."""
        problems = []
        if self.engagement_model not in EngagementModel.values or self.vendor_model not in VendorModel.values:
            problems.append(gettext("Unknown engagement or vendor model."))
        if self.pricing_model not in PricingModel.values:
            problems.append(gettext("Unknown pricing model %(model)r.") % {"model": self.pricing_model})
        if not 1 <= self.term_months <= 120:
            problems.append(gettext("The term must be 1–120 months."))
        for line in self.lines:
            if line.basis not in LineBasis.values or (line.usage_key and line.usage_key not in UsageKey.values):
                problems.append(gettext("Service line %(line)r has an unknown basis or usage.") % {"line": line.name})
        for service, responsibility in self.scope:
            if service not in StandardService.values or responsibility not in Responsibility.values:
                problems.append(
                    gettext("Scope row %(service)r is not a standard service with a responsibility.")
                    % {"service": service}
                )
        for target in self.targets:
            if target.metric not in METRICS:
                problems.append(gettext("Unknown SLA metric %(metric)r.") % {"metric": target.metric})
        for meeting in self.meetings:
            if meeting.kind not in MeetingKind.values or not 1 <= meeting.every_months <= 12:
                message = gettext("Meeting cadence %(kind)r every %(months)s months is unknown.")
                problems.append(message % {"kind": meeting.kind, "months": meeting.every_months})
        if problems:
            raise ValidationError(problems)


@dataclass(frozen=True)
class BuiltInTemplate:
    key: str  # stable: the wizard's choice value is BUILT_IN_PREFIX + key
    name: str
    content: TemplateContent


# Every standard service, with who does it in a managed learning service (seed 001's scope of an MLS).
_MANAGED_SCOPE = (
    (StandardService.NEEDS_ANALYSIS, Responsibility.CLIENT_RETAINED),
    (StandardService.CONTENT_DEVELOPMENT, Responsibility.EXCLUDED),
    (StandardService.SCHEDULING, Responsibility.INCLUDED),
    (StandardService.ENROLLMENT_MANAGEMENT, Responsibility.INCLUDED),
    (StandardService.VENDOR_SOURCING, Responsibility.INCLUDED),
    (StandardService.PLATFORM_ADMINISTRATION, Responsibility.CLIENT_RETAINED),
    (StandardService.COMPLIANCE_TRACKING, Responsibility.INCLUDED),
    (StandardService.REPORTING_ANALYTICS, Responsibility.INCLUDED),
    (StandardService.LEARNER_SUPPORT, Responsibility.INCLUDED),
)
_GOVERNANCE = (
    CadenceSpec(MeetingKind.MONTHLY_OPERATIONAL_REVIEW, every_months=1, months=6),
    CadenceSpec(MeetingKind.QUARTERLY_BUSINESS_REVIEW, every_months=3, months=6),
)

BUILT_IN_TEMPLATES: dict[str, BuiltInTemplate] = {
    template.key: template
    for template in (
        BuiltInTemplate(
            "per-learner-delivery",
            _("Managed training delivery (per learner)"),
            TemplateContent(
                description=_(
                    # xgettext:no-python-format -- its "%" signs are percentages, not placeholders
                    "The provider schedules, enrols, delivers and supports training; you pay per billable learner per "
                    "month on graduated volume bands. Six delivery and quality targets, 12 % of the fee at risk."
                ),
                engagement_model=EngagementModel.MANAGED_SERVICES,
                vendor_model=VendorModel.MASTER_SERVICE_PROVIDER,
                term_months=36,
                termination_notice_days=90,
                renewal_notice_days=90,
                sow_title="Training delivery",
                pricing_model=PricingModel.PER_LEARNER,
                forecast_learners=500,
                at_risk_percent=Decimal("12"),
                lines=(
                    LineSpec(
                        "Training delivery per learner",
                        LineBasis.PER_LEARNER,
                        bands=((200, Decimal("28.00")), (500, Decimal("24.00")), (None, Decimal("21.50"))),
                    ),
                ),
                scope=_MANAGED_SCOPE,
                targets=(
                    TargetSpec("session_delivery_rate", Decimal("98"), Decimal("25")),
                    TargetSpec("support_first_response", Decimal("90"), Decimal("20"), threshold=8),
                    TargetSpec("enrollment_processing", Decimal("95"), Decimal("15"), threshold=2),
                    TargetSpec("completion_reporting_timeliness", Decimal("95"), Decimal("10"), threshold=5),
                    TargetSpec("learner_satisfaction", Decimal("4.2"), Decimal("15")),
                    TargetSpec("instructor_rating", Decimal("4.2"), Decimal("15")),
                ),
                meetings=_GOVERNANCE,
            ),
        ),
        BuiltInTemplate(
            "fixed-fee-managed-learning",
            _("Fixed-fee managed learning service"),
            TemplateContent(
                description=_(
                    # xgettext:no-python-format -- its "%" signs are percentages, not placeholders
                    "A fixed monthly fee for a defined scope of learning operations, including compliance tracking and "
                    "the learning platform. Six targets across delivery, support, compliance and the platform, 10 % of "
                    "the fee at risk."
                ),
                engagement_model=EngagementModel.MANAGED_SERVICES,
                vendor_model=VendorModel.MASTER_SERVICE_PROVIDER,
                term_months=36,
                termination_notice_days=90,
                renewal_notice_days=90,
                sow_title="Managed learning service",
                pricing_model=PricingModel.RETAINER,
                forecast_learners=0,
                at_risk_percent=Decimal("10"),
                lines=(LineSpec("Managed learning service fee", LineBasis.FIXED, amount=Decimal("36000.00")),),
                # The platform is the provider's here: its uptime is one of the targets.
                scope=tuple(
                    (service, Responsibility.INCLUDED if service == StandardService.PLATFORM_ADMINISTRATION else who)
                    for service, who in _MANAGED_SCOPE
                ),
                targets=(
                    TargetSpec("session_delivery_rate", Decimal("98"), Decimal("20")),
                    TargetSpec("support_first_response", Decimal("95"), Decimal("20"), threshold=8),
                    TargetSpec("mandatory_training_on_time", Decimal("90"), Decimal("20")),
                    TargetSpec("platform_uptime", Decimal("99.5"), Decimal("15")),
                    TargetSpec("learner_satisfaction", Decimal("4.2"), Decimal("10")),
                    TargetSpec("change_request_response", Decimal("90"), Decimal("15")),
                ),
                meetings=_GOVERNANCE,
            ),
        ),
    )
}
