"""Reads of the contracts domain: what a member may see, version diffs, the fee for a period."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from mls import formatting
from mls.enums import Permission
from mls.models import Membership

from . import pricing
from .enums import ChangeRequestStatus, LineBasis, OutcomeStatus, Side, VersionStatus
from .models import (
    ChangeRequest,
    Dispute,
    Engagement,
    GovernanceMeeting,
    MeetingAction,
    OutcomeMeasurement,
    ScopeItem,
    ServiceLine,
    Sow,
    SowVersion,
)

DIFF_VERSION_FIELDS = (
    "effective_from",
    "pricing_model",
    "forecast_learners",
    "variance_threshold_percent",
    "index_series",
    "index_cap_percent",
    "notes",
)


def engagements_for(membership: Membership) -> QuerySet[Engagement]:
    """Provider managers see only their provider's engagements (DESIGN.md §3); everyone else sees all."""
    return membership.visible(Engagement.objects.select_related("provider"))


def sows_for(membership: Membership) -> QuerySet[Sow]:
    return Sow.objects.filter(engagement__in=engagements_for(membership)).select_related("engagement")


def versions_for(membership: Membership) -> QuerySet[SowVersion]:
    return SowVersion.objects.filter(sow__in=sows_for(membership)).select_related("sow__engagement")


def change_requests_for(membership: Membership) -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(sow__in=sows_for(membership)).select_related(
        "sow__engagement", "proposed_version", "base_version"
    )


def draft_version(sow: Sow) -> SowVersion | None:
    """The version being prepared (a new SoW's first, or a change request's proposal)."""
    return sow.versions.filter(status=VersionStatus.DRAFT).order_by("-number").first()


def signed_version(sow: Sow) -> SowVersion | None:
    return sow.versions.filter(status=VersionStatus.SIGNED).first()


def version_in_force(sow: Sow, on: date) -> SowVersion | None:
    """The latest agreed version (signed or since superseded) already effective on `on`."""
    return (
        sow.versions.filter(status__in=[VersionStatus.SIGNED, VersionStatus.SUPERSEDED], effective_from__lte=on)
        .order_by("-number")
        .first()
    )


# --- Diff --------------------------------------------------------------------------------------


@dataclass
class FieldChange:
    label: str
    old: object
    new: object
    choices: dict[str, str] = field(default_factory=dict)  # code → label of a field with choices

    def _shown(self, value: object) -> object:
        if self.choices and value in self.choices:
            return self.choices[value]
        if isinstance(value, Decimal):
            return formatting.money(value, rate=True)
        return value

    @property
    def old_shown(self) -> object:
        """The value before, as people read it: an enum by its label, a price grouped."""
        return self._shown(self.old)

    @property
    def new_shown(self) -> object:
        return self._shown(self.new)


@dataclass
class RowChange:
    key: str
    kind: str  # "added" | "removed" | "changed"
    changes: list[FieldChange] = field(default_factory=list)
    monthly_fee: str = ""  # a service line's price a month, e.g. "£2,160.00" or "£48,250.00 → £50,410.00"


@dataclass
class LineFee:
    """One service line's monthly price in each version; None where the line is absent from that version."""

    name: str
    kind: str  # "added" | "removed" | "changed"
    before: Decimal | None
    after: Decimal | None

    @property
    def difference(self) -> Decimal:
        return (self.after or Decimal("0.00")) - (self.before or Decimal("0.00"))


@dataclass
class FeeImpact:
    """The monthly fee of both versions at list prices and each version's own learner forecast: what a change
    costs is the first question a CR's approver asks, so the diff answers it line by line."""

    currency: str
    forecast_before: int
    forecast_after: int
    lines: list[LineFee]
    total_before: Decimal
    total_after: Decimal

    @property
    def difference(self) -> Decimal:
        return self.total_after - self.total_before


@dataclass
class VersionDiff:
    fields: list[FieldChange]
    scope: list[RowChange]
    lines: list[RowChange]
    fee_impact: FeeImpact | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.fields or self.scope or self.lines)


def _changes(old: object, new: object, names: tuple[str, ...], model: type) -> list[FieldChange]:
    changes = []
    for name in names:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            model_field = model._meta.get_field(name)
            label = str(model_field.verbose_name).capitalize()
            choices = {str(code): str(text) for code, text in model_field.flatchoices}
            changes.append(FieldChange(label, before, after, choices))
    return changes


def _row_diff(old: dict, new: dict, compare: Callable[[Any, Any], list[FieldChange]]) -> list[RowChange]:
    rows = [RowChange(key, "removed") for key in old if key not in new]
    rows += [RowChange(key, "added") for key in new if key not in old]
    for key in old.keys() & new.keys():
        changes = compare(old[key], new[key])
        if changes:
            rows.append(RowChange(key, "changed", changes))
    return sorted(rows, key=lambda row: row.key)


def _bands(line: ServiceLine) -> str:
    return ", ".join(f"≤{band.up_to or '∞'} @ {band.rate}" for band in line.bands.all())


def version_diff(old: SowVersion, new: SowVersion) -> VersionDiff:
    """What changed from `old` to `new`: terms field by field, scope rows and service lines row by row."""
    scope_old = {item.label: item for item in old.scope_items.all()}
    scope_new = {item.label: item for item in new.scope_items.all()}
    lines_old = {line.name: line for line in old.service_lines.prefetch_related("bands")}
    lines_new = {line.name: line for line in new.service_lines.prefetch_related("bands")}

    def compare_scope(a: ScopeItem, b: ScopeItem) -> list[FieldChange]:
        return _changes(a, b, ("responsibility", "notes"), ScopeItem)

    def compare_lines(a: ServiceLine, b: ServiceLine) -> list[FieldChange]:
        changes = _changes(a, b, ServiceLine.PRICE_FIELDS, ServiceLine)
        if a.basis == b.basis == LineBasis.PER_LEARNER and _bands(a) != _bands(b):
            changes.append(FieldChange(_("Volume bands"), _bands(a), _bands(b)))
        return changes

    line_rows = _row_diff(lines_old, lines_new, compare_lines)
    impact = _priced_impact(old, new, line_rows)
    for row, fee in zip(line_rows, impact.lines if impact else [], strict=False):
        shown = [formatting.money(amount, impact.currency) for amount in (fee.before, fee.after) if amount is not None]
        row.monthly_fee = " → ".join(shown) if fee.before != fee.after else ""
    return VersionDiff(
        fields=_changes(old, new, DIFF_VERSION_FIELDS, SowVersion),
        scope=_row_diff(scope_old, scope_new, compare_scope),
        lines=line_rows,
        fee_impact=impact,
    )


def _priced_impact(old: SowVersion, new: SowVersion, line_rows: list[RowChange]) -> FeeImpact | None:
    """No impact to show without line changes, or while a draft's terms cannot be priced yet (a per-learner line
    still without bands): the diff itself stays readable either way."""
    if not line_rows:
        return None
    try:
        return fee_impact(old, new, line_rows)
    except ValueError:
        return None


def _monthly_fees(version: SowVersion) -> dict[str, Decimal]:
    """Each line's monthly price at list prices (no indexation) and the version's forecast learners; usage-priced
    and gain-share lines have no forecast of their usage, so they count at what the forecast alone implies."""
    usage = pricing.Usage(billable_learners=version.forecast_learners)
    fees = pricing.fee_lines(pricing_terms(version), usage, version.effective_from)
    return {fee.name: fee.amount for fee in fees}


def fee_impact(old: SowVersion, new: SowVersion, line_rows: list[RowChange]) -> FeeImpact:
    """The monthly price before → after of every added, removed or changed service line, and of the whole SoW."""
    before, after = _monthly_fees(old), _monthly_fees(new)
    lines = [LineFee(row.key, row.kind, before.get(row.key), after.get(row.key)) for row in line_rows]
    return FeeImpact(
        currency=new.sow.engagement.currency,
        forecast_before=old.forecast_learners,
        forecast_after=new.forecast_learners,
        lines=lines,
        total_before=sum(before.values(), Decimal("0.00")),
        total_after=sum(after.values(), Decimal("0.00")),
    )


# --- Fees --------------------------------------------------------------------------------------


def pricing_terms(version: SowVersion) -> tuple[pricing.ServiceLineTerms, ...]:
    return tuple(
        pricing.ServiceLineTerms(
            name=line.name,
            basis=line.basis,
            amount=line.amount,
            bands=tuple(pricing.Band(band.up_to, band.rate) for band in line.bands.all()),
            included_learners=line.included_learners,
            unit_price=line.unit_price,
            usage_key=line.usage_key,
            gain_share_percent=line.gain_share_percent,
            baseline=line.baseline,
            required_uplift=line.required_uplift,
        )
        for line in version.service_lines.prefetch_related("bands").order_by("id")
    )


def index_adjustment(version: SowVersion) -> pricing.IndexAdjustment | None:
    if version.index_series_id is None:
        return None
    first = version.sow.versions.order_by("number").first()
    return pricing.IndexAdjustment(
        start_date=first.effective_from,
        cap_percent=version.index_cap_percent,
        index_values=dict(version.index_series.values.values_list("month", "value")),
    )


def fee_for_period(sow: Sow, period_start: date, usage: pricing.Usage) -> list[pricing.FeeLine]:
    """SPEC-SLA §6: the itemized fee of `sow` for the month starting `period_start`, given that month's usage.

    Usage (billable learners, delivered hours, completions, enrollments) is measured from delivery data by the
    caller; the version in force and the index adjustment come from the contract, and each gain-share line's
    outcome from its recorded (and, to count, verified) outcome measurement of the month.
    """
    version = version_in_force(sow, period_start)
    if version is None:
        return []
    terms = pricing_terms(version)
    outcomes = period_outcomes(version, period_start) if any(t.basis == LineBasis.GAIN_SHARE for t in terms) else {}
    currency = sow.engagement.currency
    return pricing.fee_lines(terms, usage, period_start, index_adjustment(version), outcomes, currency=currency)


def may_edit_version(membership: Membership, version: SowVersion) -> bool:
    """Drafts only: a first version by contract managers, a CR's proposal by the proposing side while a draft."""
    if not version.is_editable:
        return False
    change_request = version.change_requests.first()
    if change_request is None:
        return membership.has_permission(Permission.MANAGE_CONTRACTS)
    if change_request.status != ChangeRequestStatus.DRAFT:
        return False
    if change_request.proposed_by_side == Side.PROVIDER:
        return membership.is_provider_side
    return membership.has_permission(Permission.MANAGE_CONTRACTS)


def engagement_list(membership: Membership, *, search: str = "", status: str = "") -> QuerySet[Engagement]:
    engagements = engagements_for(membership)
    if search:
        engagements = engagements.filter(Q(name__icontains=search) | Q(provider__name__icontains=search))
    if status:
        engagements = engagements.filter(status=status)
    return engagements.order_by("name", "pk")


def meetings_for(membership: Membership) -> QuerySet[GovernanceMeeting]:
    return GovernanceMeeting.objects.filter(engagement__in=engagements_for(membership)).select_related("engagement")


def meeting_actions_for(membership: Membership) -> QuerySet[MeetingAction]:
    return MeetingAction.objects.filter(meeting__in=meetings_for(membership)).select_related("meeting__engagement")


def disputes_for(membership: Membership) -> QuerySet[Dispute]:
    return Dispute.objects.filter(engagement__in=engagements_for(membership)).select_related("engagement__provider")


# --- Outcome measurements ----------------------------------------------------------------------


def outcome_measurements_for(membership: Membership) -> QuerySet[OutcomeMeasurement]:
    """Outcome values of the engagements the member sees (a provider manager: its provider's only)."""
    return OutcomeMeasurement.objects.filter(engagement__in=engagements_for(membership)).select_related(
        "engagement", "service_line__version__sow", "submitted_by", "reviewed_by"
    )


def outcome_lines_of(engagement: Engagement) -> QuerySet[ServiceLine]:
    """The engagement's gain-share lines of agreed versions: the lines an outcome value can be recorded for."""
    return (
        ServiceLine.objects.filter(
            version__sow__engagement=engagement,
            version__status__in=[VersionStatus.SIGNED, VersionStatus.SUPERSEDED],
            basis=LineBasis.GAIN_SHARE,
        )
        .select_related("version__sow")
        .order_by("version__sow__reference", "version__number", "id")
    )


def outcome_recording_side(membership: Membership) -> str | None:
    """The side a member records and verifies outcome values for, on engagements they see: a provider's account
    manager (who logs delivery) or the client's SLA managers; None for anyone else (a viewer)."""
    if membership.is_provider_side:
        return Side.PROVIDER if membership.has_permission(Permission.LOG_DELIVERY) else None
    return Side.CLIENT if membership.has_permission(Permission.MANAGE_SLAS) else None


def outcome_side(membership: Membership, engagement: Engagement) -> str:
    """`outcome_recording_side` on `engagement`: a provider acts on its own engagements only."""
    side = outcome_recording_side(membership)
    if side is None or not membership.acts_for(engagement.provider_id):
        raise ValidationError(_("Your role cannot record or verify outcome values of this engagement."))
    return side


def outcome_side_or_none(membership: Membership, engagement: Engagement) -> str | None:
    """`outcome_side`, or None: the pages offer a form or button only to members whose post would be accepted."""
    try:
        return outcome_side(membership, engagement)
    except ValidationError:
        return None


def may_review_outcome(membership: Membership, measurement: OutcomeMeasurement) -> bool:
    """The other side verifies or rejects a submitted value (engagements.services.outcomes._reviewable_outcome)."""
    side = outcome_side_or_none(membership, measurement.engagement)
    return side is not None and side != measurement.submitted_side


def _other_side(side: str) -> str:
    return str((Side.PROVIDER if side == Side.CLIENT else Side.CLIENT).label).lower()


def period_outcomes(version: SowVersion, month: date) -> dict[str, pricing.OutcomeValue]:
    """Each gain-share line's outcome of `month`, by line name: the live value (verified, or awaiting the other
    side), else the latest rejected one, so the statement can say why no gain share is charged."""
    measurements = OutcomeMeasurement.objects.filter(
        service_line__version=version, month=month.replace(day=1)
    ).select_related("service_line")
    found: dict[str, OutcomeMeasurement] = {}
    for measurement in measurements.order_by("submitted_at", "id"):
        current = found.get(measurement.service_line.name)
        if current is None or current.status == OutcomeStatus.REJECTED:
            found[measurement.service_line.name] = measurement
    return {name: _outcome_value(measurement) for name, measurement in found.items()}


def _outcome_value(measurement: OutcomeMeasurement) -> pricing.OutcomeValue:
    reviewer = _other_side(measurement.submitted_side)
    if measurement.status == OutcomeStatus.SUBMITTED:
        note = f"awaiting verification by the {reviewer}"
    elif measurement.status == OutcomeStatus.REJECTED:
        note = f"rejected by the {reviewer} ({measurement.rejection_reason}); no verified value for the period"
    else:
        note = ""
    return pricing.OutcomeValue(value=measurement.value, status=measurement.status, note=note)
