"""Writes of the contracts domain. Each use case is atomic and audited (SPEC-SLA §6–7)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from mls.audit import save_audited
from mls.enums import Permission, roles_with
from mls.models import Membership, User
from mls.services import notify

from . import pricing
from .enums import (
    AWAITING_APPROVAL,
    DISPUTE_LADDER,
    PRICING_MODEL_BASES,
    ChangeRequestStatus,
    DisputeTier,
    EngagementStatus,
    LineBasis,
    OutcomeStatus,
    Side,
    VersionStatus,
)
from .models import (
    ChangeRequest,
    ContractMilestone,
    ContractReminder,
    Dispute,
    DisputeStep,
    Engagement,
    GovernanceMeeting,
    IndexSeries,
    IndexValue,
    MeetingAction,
    OutcomeMeasurement,
    ScopeItem,
    ServiceLine,
    Sow,
    SowVersion,
    VolumeBand,
)
from .selectors import outcome_side, version_in_force

# --- Engagements -------------------------------------------------------------------------------


def _require_own_provider(organization_id: int, fields: dict[str, Any]) -> None:
    provider = fields.get("provider")
    if provider is not None and provider.organization_id != organization_id:
        raise ValidationError({"provider": "Choose a provider of this organization."})


def _refuse_taken_external_id(engagement: Engagement, fields: dict[str, Any]) -> None:
    """An integration finds the engagement by its external_id, so two engagements never share one."""
    external_id = fields.get("external_id", "")
    other = (
        Engagement.objects.filter(external_id=external_id).exclude(pk=engagement.pk).first() if external_id else None
    )
    if other is not None:
        raise ValidationError({"external_id": f"Engagement {other.name} already has external_id {external_id}."})


@transaction.atomic
def create_engagement(*, organization: Any, actor: User, **fields: Any) -> Engagement:
    _require_own_provider(organization.pk, fields)
    _refuse_taken_external_id(Engagement(), fields)
    engagement = Engagement(organization=organization, **fields)
    engagement.full_clean()
    engagement.save()
    engagement.log_action("engagement.created", actor=actor)
    return engagement


@transaction.atomic
def update_engagement(*, engagement: Engagement, actor: User, **fields: Any) -> Engagement:
    _require_own_provider(engagement.organization_id, fields)
    _refuse_taken_external_id(engagement, fields)
    return save_audited(engagement, actor=actor, action="engagement.updated", changes=fields)


# --- SoWs and versions -------------------------------------------------------------------------


@transaction.atomic
def create_sow(
    *, engagement: Engagement, actor: User, reference: str, title: str, effective_from: date, pricing_model: str
) -> Sow:
    """A new SoW with an empty draft v1 to fill in (scope matrix, service lines) and sign."""
    if engagement.sows.filter(reference=reference).exists():
        raise ValidationError({"reference": f"{engagement} already has a SoW {reference}."})
    sow = Sow(organization=engagement.organization, engagement=engagement, reference=reference, title=title)
    sow.full_clean()
    sow.save()
    version = SowVersion(
        organization=sow.organization, sow=sow, number=1, effective_from=effective_from, pricing_model=pricing_model
    )
    version.full_clean()
    version.save()
    sow.log_action("sow.created", actor=actor)
    version.log_action("sow_version.created", actor=actor)
    return sow


def _require_draft(version: SowVersion) -> None:
    # Lock and re-read: the caller's object may predate a signature or a submission.
    version.status = SowVersion.objects.select_for_update().values_list("status", flat=True).get(pk=version.pk)
    if not version.is_editable:
        raise ValidationError(
            f"{version} is {version.get_status_display().lower()}: it cannot be edited. Propose a change request."
        )
    change_request = version.change_requests.first()
    if change_request is not None and change_request.status != ChangeRequestStatus.DRAFT:
        # The other side approves exactly what it saw: a submitted proposal is frozen.
        raise ValidationError(
            f"{change_request} is {change_request.get_status_display().lower()}; its proposal can no longer change."
        )


@transaction.atomic
def update_sow(*, sow: Sow, actor: User, title: str) -> Sow:
    """A SoW's own name; its terms change only through versions and change requests."""
    return save_audited(sow, actor=actor, action="sow.updated", changes={"title": title})


@transaction.atomic
def update_draft_version(*, version: SowVersion, actor: User, **fields: Any) -> SowVersion:
    _require_draft(version)
    return save_audited(version, actor=actor, action="sow_version.updated", changes=fields)


@transaction.atomic
def set_scope_item(
    *, version: SowVersion, actor: User, service: str, responsibility: str, custom_name: str = "", notes: str = ""
) -> ScopeItem:
    """Add or change one scope-matrix row of a draft version (one row per service)."""
    _require_draft(version)
    item = ScopeItem.objects.filter(version=version, service=service, custom_name=custom_name).first()
    item = item or ScopeItem(organization=version.organization, version=version, service=service)
    item.custom_name, item.responsibility, item.notes = custom_name, responsibility, notes
    item.full_clean()
    item.save()
    item.log_action("scope_item.saved", actor=actor)
    return item


@transaction.atomic
def remove_scope_item(*, item: ScopeItem, actor: User) -> None:
    _require_draft(item.version)
    item.log_action("scope_item.removed", actor=actor, deleted=True)
    item.delete()


@transaction.atomic
def add_service_line(
    *, version: SowVersion, actor: User, bands: list[tuple[int | None, Decimal]] = (), **fields: Any
) -> ServiceLine:
    """Add a priced line to a draft version; per-learner lines need graduated bands (validated)."""
    _require_draft(version)
    line = ServiceLine(organization=version.organization, version=version, **fields)
    line.full_clean()
    if line.basis == LineBasis.PER_LEARNER:
        try:
            pricing.validate_bands(tuple(pricing.Band(up_to, rate) for up_to, rate in bands))
        except ValueError as error:
            raise ValidationError({"bands": str(error)}) from error
    elif bands:
        raise ValidationError({"bands": "Only per-learner lines have volume bands."})
    line.save()
    for up_to, rate in bands:
        VolumeBand.objects.create(organization=line.organization, line=line, up_to=up_to, rate=rate)
    line.log_action("service_line.added", actor=actor)
    return line


@transaction.atomic
def remove_service_line(*, line: ServiceLine, actor: User) -> None:
    _require_draft(line.version)
    line.log_action("service_line.removed", actor=actor, deleted=True)
    line.delete()


def signing_problems(version: SowVersion) -> list[str]:
    """Why `version` cannot be signed yet (empty when it can)."""
    problems = []
    if not version.scope_items.exists():
        problems.append("The scope matrix is empty: say which services are included, excluded or client-retained.")
    bases = set(version.service_lines.values_list("basis", flat=True))
    expected = PRICING_MODEL_BASES[version.pricing_model]
    if not bases:
        problems.append("There are no service lines: pricing must be itemized.")
    elif bases != expected:
        names = ", ".join(sorted(LineBasis(b).label.lower() for b in expected))
        problems.append(f"A {version.get_pricing_model_display().lower()} SoW is priced with: {names}.")
    if version.pricing_model == "hybrid" and not version.service_lines.filter(included_learners__gt=0).exists():
        problems.append("A hybrid SoW's per-learner line must say how many learners the retainer includes.")
    return problems


@transaction.atomic
def sign_version(*, version: SowVersion, actor: User, now: datetime | None = None) -> SowVersion:
    """Sign the first version of a SoW. Later versions are signed by approving their change request."""
    now = now or timezone.now()
    version = SowVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    if version.change_requests.exists():
        raise ValidationError("This version belongs to a change request: it is signed when both sides approve it.")
    if SowVersion.objects.filter(sow=version.sow_id, status=VersionStatus.SIGNED).exists():
        raise ValidationError("This SoW already has a signed version; amend it with a change request.")
    return _sign(version, actor, now)


def _sign(version: SowVersion, actor: User, now: datetime) -> SowVersion:
    problems = signing_problems(version)
    if problems:
        raise ValidationError(problems)
    version.status, version.signed_at, version.signed_by = VersionStatus.SIGNED, now, actor
    # Bypass the immutability guard only for this transition: the row is still a draft in the database.
    version.save(update_fields=["status", "signed_at", "signed_by"])
    version.log_action("sow_version.signed", actor=actor)
    return version


# --- Change requests ---------------------------------------------------------------------------


def acting_side(membership: Membership, engagement: Engagement, *, approving: bool = False) -> str:
    """Which side of the contract a member acts for; refuses members who may not act on change requests, and a
    provider's account manager on another provider's engagement."""
    permission = Permission.APPROVE_CHANGES if approving else Permission.PROPOSE_CHANGES
    if not membership.has_permission(permission) or not membership.acts_for(engagement.provider_id):
        raise ValidationError("Your role cannot act on change requests of this engagement.")
    return Side.PROVIDER if membership.is_provider_side else Side.CLIENT


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _copy_version(base: SowVersion, number: int, now: datetime) -> SowVersion:
    """A draft copy of `base`, effective from next month by default: an amendment never rewrites past fees."""
    fields = {name: getattr(base, name) for name in SowVersion.audited_fields if name not in {"number", "status"}}
    today = timezone.localdate(now, timezone=base.sow.engagement.calendar.zone)
    fields["effective_from"] = max(base.effective_from, _first_of_next_month(today))
    draft = SowVersion.objects.create(organization=base.organization, sow=base.sow, number=number, **fields)
    ScopeItem.objects.bulk_create(
        ScopeItem(
            organization=base.organization,
            version=draft,
            service=item.service,
            custom_name=item.custom_name,
            responsibility=item.responsibility,
            notes=item.notes,
        )
        for item in base.scope_items.all()
    )
    for line in base.service_lines.prefetch_related("bands"):
        copy = ServiceLine.objects.create(
            organization=base.organization,
            version=draft,
            **{name: getattr(line, name) for name in ("name", *ServiceLine.PRICE_FIELDS)},
        )
        VolumeBand.objects.bulk_create(
            VolumeBand(organization=base.organization, line=copy, up_to=band.up_to, rate=band.rate)
            for band in line.bands.all()
        )
    return draft


@transaction.atomic
def propose_change_request(
    *, sow: Sow, membership: Membership, title: str, description: str, now: datetime | None = None
) -> ChangeRequest:
    """Open a draft CR whose proposed version starts as a copy of the signed version."""
    now = now or timezone.now()
    side = acting_side(membership, sow.engagement)
    base = SowVersion.objects.filter(sow=sow, status=VersionStatus.SIGNED).first()
    if base is None:
        raise ValidationError("Sign the SoW's first version before proposing changes to it.")
    next_number = (SowVersion.objects.filter(sow=sow).aggregate(n=Max("number"))["n"] or 0) + 1
    cr_number = (ChangeRequest.objects.filter(sow=sow).aggregate(n=Max("number"))["n"] or 0) + 1
    change_request = ChangeRequest(
        organization=sow.organization,
        sow=sow,
        number=cr_number,
        title=title,
        description=description,
        proposed_by_side=side,
        proposed_by=membership.user,
        base_version=base,
        proposed_version=_copy_version(base, next_number, now),
    )
    change_request.full_clean()
    change_request.save()
    change_request.log_action("change_request.proposed", actor=membership.user)
    return change_request


# The checks each change-request action makes before writing, public so a page shows a button only when the
# service would accept it (mls/templatetags/actions.py).


def check_submit_change_request(membership: Membership, change_request: ChangeRequest) -> None:
    if acting_side(membership, change_request.sow.engagement) != change_request.proposed_by_side:
        raise ValidationError("Only the proposing side submits its change request.")
    if change_request.status != ChangeRequestStatus.DRAFT:
        raise ValidationError("Only a draft change request can be submitted.")


def check_approve_change_request(membership: Membership, change_request: ChangeRequest) -> str:
    """The approving side, when the request awaits its approval."""
    side = acting_side(membership, change_request.sow.engagement, approving=True)
    if side not in AWAITING_APPROVAL.get(change_request.status, frozenset()):
        raise ValidationError(f"This change request is not awaiting the {Side(side).label.lower()}'s approval.")
    return side


def check_reject_change_request(membership: Membership, change_request: ChangeRequest) -> str:
    """The rejecting side, while the request is submitted and not yet approved by both."""
    side = acting_side(membership, change_request.sow.engagement, approving=True)
    if change_request.status not in AWAITING_APPROVAL:
        raise ValidationError("Only a submitted change request can be rejected.")
    return side


def check_withdraw_change_request(membership: Membership, change_request: ChangeRequest) -> None:
    if acting_side(membership, change_request.sow.engagement) != change_request.proposed_by_side:
        raise ValidationError("Only the proposing side can withdraw its change request.")
    if not change_request.is_open:
        raise ValidationError(f"This change request is already {change_request.get_status_display().lower()}.")


def _locked(change_request: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.select_for_update().select_related("sow__engagement").get(pk=change_request.pk)


@transaction.atomic
def submit_change_request(
    *, change_request: ChangeRequest, membership: Membership, now: datetime | None = None
) -> ChangeRequest:
    """Submit for the other side's response, due N business days later (MSA, engagement calendar)."""
    now = now or timezone.now()
    change_request = _locked(change_request)
    check_submit_change_request(membership, change_request)
    engagement = change_request.sow.engagement
    change_request.submitted_at = now
    change_request.respond_by = engagement.calendar.deadline_after(
        change_request.submitted_at, engagement.cr_response_business_days
    )
    change_request.status = ChangeRequestStatus.SUBMITTED
    change_request.save()
    change_request.log_action("change_request.submitted", actor=membership.user)
    return change_request


@transaction.atomic
def approve_change_request(
    *, change_request: ChangeRequest, membership: Membership, now: datetime | None = None
) -> ChangeRequest:
    """Record one side's approval; the second approval signs the proposed version and supersedes the base."""
    now = now or timezone.now()
    change_request = _locked(change_request)
    side = check_approve_change_request(membership, change_request)
    if side == Side.CLIENT:
        change_request.client_approved_at, change_request.client_approved_by = now, membership.user
    else:
        change_request.provider_approved_at, change_request.provider_approved_by = now, membership.user
    if side == change_request.receiving_side and change_request.responded_at is None:
        change_request.responded_at = now
    both = change_request.client_approved_at and change_request.provider_approved_at
    if both:
        _adopt_proposed_version(change_request, membership.user, now)
        change_request.status = ChangeRequestStatus.APPROVED
    else:
        change_request.status = (
            ChangeRequestStatus.APPROVED_BY_CLIENT if side == Side.CLIENT else ChangeRequestStatus.APPROVED_BY_PROVIDER
        )
    change_request.save()
    change_request.log_action(f"change_request.{change_request.status}", actor=membership.user)
    return change_request


def _adopt_proposed_version(change_request: ChangeRequest, actor: User, now: datetime) -> None:
    base = SowVersion.objects.select_for_update().get(pk=change_request.base_version_id)
    if base.status != VersionStatus.SIGNED:
        raise ValidationError("The SoW has changed since this request was proposed; propose it again.")
    proposed = SowVersion.objects.select_for_update().get(pk=change_request.proposed_version_id)
    if proposed.effective_from <= base.effective_from:
        raise ValidationError(
            f"The amended version must take effect after {base} (effective {base.effective_from:%d %b %Y})."
        )
    base.status = VersionStatus.SUPERSEDED
    base.save(update_fields=["status"])
    base.log_action("sow_version.superseded", actor=actor)
    _sign(proposed, actor, now)


@transaction.atomic
def reject_change_request(
    *, change_request: ChangeRequest, membership: Membership, reason: str, now: datetime | None = None
) -> ChangeRequest:
    now = now or timezone.now()
    change_request = _locked(change_request)
    side = check_reject_change_request(membership, change_request)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the change request is rejected."})
    change_request.status = ChangeRequestStatus.REJECTED
    change_request.rejected_at, change_request.rejected_by = now, membership.user
    change_request.rejection_reason = reason.strip()
    if side == change_request.receiving_side and change_request.responded_at is None:
        change_request.responded_at = now
    change_request.save()
    change_request.log_action("change_request.rejected", actor=membership.user)
    return change_request


@transaction.atomic
def withdraw_change_request(
    *, change_request: ChangeRequest, membership: Membership, now: datetime | None = None
) -> ChangeRequest:
    now = now or timezone.now()
    change_request = _locked(change_request)
    check_withdraw_change_request(membership, change_request)
    change_request.status, change_request.withdrawn_at = ChangeRequestStatus.WITHDRAWN, now
    change_request.save()
    change_request.log_action("change_request.withdrawn", actor=membership.user)
    return change_request


# --- Index series ------------------------------------------------------------------------------


@transaction.atomic
def create_index_series(*, organization: Any, actor: User, name: str, description: str = "") -> IndexSeries:
    series = IndexSeries(organization=organization, name=name.strip(), description=description)
    series.full_clean()
    series.save()
    series.log_action("index_series.created", actor=actor)
    return series


@transaction.atomic
def record_index_value(*, series: IndexSeries, actor: User, month: date, value: Decimal) -> IndexValue:
    """Enter or correct one month of an index series (procurement)."""
    existing = IndexValue.objects.filter(series=series, month=month).first()
    index_value = existing or IndexValue(organization=series.organization, series=series, month=month)
    index_value.value = value
    index_value.full_clean()
    index_value.save()
    index_value.log_action("index_value.recorded", actor=actor)
    return index_value


# --- Contract calendar reminders ---------------------------------------------------------------

REMINDER_DAYS_BEFORE = (90, 60, 30, 7)


def contract_milestones(engagement: Engagement) -> list[tuple[str, date]]:
    """The dates a client must not miss (SPEC-SLA §7): notice deadlines, the renewal date, the end of transition."""
    milestones = [
        (
            ContractMilestone.TERMINATION_NOTICE_DEADLINE,
            engagement.end_date - timedelta(engagement.termination_notice_days),
        ),
        (ContractMilestone.RENEWAL_DATE, engagement.end_date),
        (ContractMilestone.TRANSITION_END, engagement.transition_end),
    ]
    if engagement.auto_renewal:
        milestones.insert(0, (ContractMilestone.RENEWAL_NOTICE_DEADLINE, engagement.renewal_notice_deadline))
    return milestones


@transaction.atomic
def send_contract_reminders(*, today: date | None = None) -> list[ContractReminder]:
    """Remind the contract managers (the client's decision makers) 90/60/30/7 days before each milestone, each
    reminder exactly once.

    When the task missed days, only the most urgent threshold already reached is sent. The unique constraint
    on ContractReminder makes a second run (or a concurrent one) a no-op.
    """
    sent = []
    recipients = [
        m.user
        for m in Membership.objects.filter(role__in=roles_with(Permission.MANAGE_CONTRACTS)).select_related("user")
    ]
    engagements = Engagement.objects.filter(status__in=[EngagementStatus.ACTIVE, EngagementStatus.IN_TRANSITION])
    for engagement in engagements.select_related("organization"):
        local_today = today or timezone.localdate(timezone=engagement.calendar.zone)
        for milestone, milestone_date in contract_milestones(engagement):
            due = [n for n in REMINDER_DAYS_BEFORE if milestone_date - timedelta(n) <= local_today <= milestone_date]
            if not due:
                continue
            reminder, created = ContractReminder.objects.get_or_create(
                organization=engagement.organization,
                engagement=engagement,
                milestone=milestone,
                milestone_date=milestone_date,
                days_before=min(due),
            )
            if created:
                days_left = (milestone_date - local_today).days
                label = ContractMilestone(milestone).label
                notify(
                    organization=engagement.organization,
                    users=recipients,
                    title=f"{engagement.name}: {label.lower()} in {days_left} days",
                    body=f"{label} of {engagement.name} with {engagement.provider} is on {milestone_date:%d %B %Y}.",
                    url=engagement.get_absolute_url(),
                )
                sent.append(reminder)
    return sent


# --- Governance --------------------------------------------------------------------------------


@transaction.atomic
def schedule_meeting(
    *, engagement: Engagement, membership: Membership, kind: str, scheduled_for: Any, agenda: str
) -> GovernanceMeeting:
    acting_side(membership, engagement)
    meeting = GovernanceMeeting(
        organization=engagement.organization,
        engagement=engagement,
        kind=kind,
        scheduled_for=scheduled_for,
        agenda=agenda,
    )
    meeting.full_clean()
    meeting.save()
    meeting.log_action("meeting.scheduled", actor=membership.user)
    return meeting


@transaction.atomic
def record_minutes(
    *, meeting: GovernanceMeeting, membership: Membership, minutes: str, now: datetime | None = None
) -> GovernanceMeeting:
    now = now or timezone.now()
    acting_side(membership, meeting.engagement)
    if not minutes.strip():
        raise ValidationError({"minutes": "Write the minutes: decisions, figures discussed, disagreements."})
    meeting.minutes = minutes.strip()
    meeting.held_at = meeting.held_at or now
    meeting.save(update_fields=["minutes", "held_at"])
    meeting.log_action("meeting.minutes_recorded", actor=membership.user)
    return meeting


@transaction.atomic
def add_meeting_action(
    *,
    meeting: GovernanceMeeting,
    membership: Membership,
    description: str,
    owner_side: str,
    owner_name: str,
    due_on: date,
) -> MeetingAction:
    acting_side(membership, meeting.engagement)
    action = MeetingAction(
        organization=meeting.organization,
        meeting=meeting,
        description=description,
        owner_side=owner_side,
        owner_name=owner_name,
        due_on=due_on,
    )
    action.full_clean()
    action.save()
    action.log_action("meeting_action.added", actor=membership.user)
    return action


@transaction.atomic
def complete_meeting_action(
    *, action: MeetingAction, membership: Membership, now: datetime | None = None
) -> MeetingAction:
    now = now or timezone.now()
    acting_side(membership, action.meeting.engagement)
    if action.done_at is not None:
        raise ValidationError("This action is already done.")
    action.done_at = now
    action.save(update_fields=["done_at"])
    action.log_action("meeting_action.done", actor=membership.user)
    return action


# --- Disputes ----------------------------------------------------------------------------------


def _step(dispute: Dispute, membership: Membership, note: str) -> None:
    DisputeStep.objects.create(
        organization=dispute.organization, dispute=dispute, tier=dispute.tier, actor=membership.user, note=note
    )


@transaction.atomic
def open_dispute(
    *, engagement: Engagement, membership: Membership, title: str, description: str, now: datetime | None = None
) -> Dispute:
    """Open at account management; executives must be involved within the MSA's dispute_escalation_days."""
    opened_at = now or timezone.now()
    side = acting_side(membership, engagement)
    dispute = Dispute(
        organization=engagement.organization,
        engagement=engagement,
        title=title,
        description=description,
        raised_by_side=side,
        opened_at=opened_at,
        executive_due_on=timezone.localdate(opened_at, engagement.calendar.zone)
        + timedelta(days=engagement.dispute_escalation_days),
    )
    dispute.full_clean()
    dispute.save()
    _step(dispute, membership, description)
    dispute.log_action("dispute.opened", actor=membership.user)
    return dispute


@transaction.atomic
def escalate_dispute(*, dispute: Dispute, membership: Membership, note: str) -> Dispute:
    """Move the dispute one tier up the ladder: account management → executive sponsor → mediation."""
    dispute = Dispute.objects.select_for_update().select_related("engagement").get(pk=dispute.pk)
    acting_side(membership, dispute.engagement)
    if dispute.tier not in DISPUTE_LADDER[:-1]:
        raise ValidationError(f"A dispute at {dispute.get_tier_display().lower()} cannot be escalated further.")
    if not note.strip():
        raise ValidationError({"note": "Say why the dispute is escalated."})
    dispute.tier = DISPUTE_LADDER[DISPUTE_LADDER.index(dispute.tier) + 1]
    dispute.save(update_fields=["tier"])
    _step(dispute, membership, note.strip())
    dispute.log_action("dispute.escalated", actor=membership.user)
    return dispute


@transaction.atomic
def close_dispute(*, dispute: Dispute, membership: Membership, resolution: str, now: datetime | None = None) -> Dispute:
    now = now or timezone.now()
    dispute = Dispute.objects.select_for_update().select_related("engagement").get(pk=dispute.pk)
    acting_side(membership, dispute.engagement)
    if dispute.tier == DisputeTier.CLOSED:
        raise ValidationError("This dispute is already closed.")
    if not resolution.strip():
        raise ValidationError({"resolution": "Record how the dispute was resolved."})
    dispute.tier, dispute.closed_at, dispute.resolution = DisputeTier.CLOSED, now, resolution.strip()
    dispute.save(update_fields=["tier", "closed_at", "resolution"])
    _step(dispute, membership, dispute.resolution)
    dispute.log_action("dispute.closed", actor=membership.user)
    return dispute


# --- Outcome measurements ------------------------------------------------------------------------

AGREED = (VersionStatus.SIGNED, VersionStatus.SUPERSEDED)


def _check_outcome_line(line: ServiceLine, month: date, today: date) -> None:
    """An outcome belongs to a gain-share line of the version in force that month, and to a month that has begun."""
    if line.basis != LineBasis.GAIN_SHARE:
        raise ValidationError({"service_line": "Only a gain-share line of an outcome-based SoW takes outcome values."})
    if line.version.status not in AGREED:
        raise ValidationError({"service_line": "This line is in a draft version: record outcomes once it is signed."})
    if month > today.replace(day=1):
        raise ValidationError({"month": f"{month:%Y-%m} has not begun: record its outcome once it is measured."})
    in_force = version_in_force(line.version.sow, month)
    if in_force is None or in_force.pk != line.version_id:
        found = f"version {in_force.number}" if in_force else "no agreed version"
        raise ValidationError(
            {"month": f"In {month:%Y-%m} {line.version.sow.reference} has {found} in force, not this line's version."}
        )


@transaction.atomic
def submit_outcome_measurement(
    *,
    service_line: ServiceLine,
    membership: Membership,
    month: date,
    value: Decimal,
    evidence: str,
    now: datetime | None = None,
) -> OutcomeMeasurement:
    """Record a gain-share line's outcome value of a month, with its evidence; it counts once the other side
    verifies it. One live value per line and month: after a rejection the submitter sends a new one."""
    now = now or timezone.now()
    engagement = service_line.version.sow.engagement
    side = outcome_side(membership, engagement)
    month = month.replace(day=1)
    _check_outcome_line(service_line, month, timezone.localdate(now, timezone=engagement.calendar.zone))
    live = (
        OutcomeMeasurement.objects.select_for_update()
        .filter(service_line=service_line, month=month)
        .exclude(status=OutcomeStatus.REJECTED)
        .first()
    )
    if live is not None:
        raise ValidationError(
            {"month": f"{service_line.name} already has a value for {month:%Y-%m} ({live.get_status_display()})."}
        )
    measurement = OutcomeMeasurement(
        organization=engagement.organization,
        engagement=engagement,
        service_line=service_line,
        month=month,
        value=value,
        evidence=evidence.strip(),
        submitted_side=side,
        submitted_by=membership.user,
        submitted_at=now,
    )
    measurement.full_clean()
    measurement.save()
    measurement.log_action("outcome_measurement.submitted", actor=membership.user)
    return measurement


def claim_for_review(record: Any, side: str, submitted: str) -> Any:
    """A value one side submitted (a manual SLA value, an outcome value), locked for the other side to verify or
    reject; refused to the side that submitted it and once it is no longer `submitted`."""
    if side == record.submitted_side:
        raise ValidationError("The other side verifies a submitted value, not the side that submitted it.")
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if record.status != submitted:
        raise ValidationError(f"This value is already {record.get_status_display().lower()}.")
    return record


def _reviewable_outcome(measurement: OutcomeMeasurement, membership: Membership) -> OutcomeMeasurement:
    return claim_for_review(measurement, outcome_side(membership, measurement.engagement), OutcomeStatus.SUBMITTED)


@transaction.atomic
def verify_outcome_measurement(
    *, measurement: OutcomeMeasurement, membership: Membership, now: datetime | None = None
) -> OutcomeMeasurement:
    """The other side agrees with the value: from now on the month's gain share is computed from it."""
    measurement = _reviewable_outcome(measurement, membership)
    measurement.status, measurement.reviewed_by = OutcomeStatus.VERIFIED, membership.user
    measurement.reviewed_at = now or timezone.now()
    measurement.save()
    measurement.log_action("outcome_measurement.verified", actor=membership.user)
    return measurement


@transaction.atomic
def reject_outcome_measurement(
    *, measurement: OutcomeMeasurement, membership: Membership, reason: str, now: datetime | None = None
) -> OutcomeMeasurement:
    """The other side does not accept the value (say why): it never counts, and the submitter may send another."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the value is rejected."})
    measurement = _reviewable_outcome(measurement, membership)
    measurement.status, measurement.reviewed_by = OutcomeStatus.REJECTED, membership.user
    measurement.reviewed_at, measurement.rejection_reason = now or timezone.now(), reason.strip()
    measurement.save()
    measurement.log_action("outcome_measurement.rejected", actor=membership.user)
    return measurement
