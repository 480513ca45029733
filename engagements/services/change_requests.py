"""Change requests: which side a member acts for, and a proposal's way from draft to a signed version."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from engagements.enums import AWAITING_APPROVAL, ChangeRequestStatus, Side, VersionStatus
from engagements.models import ChangeRequest, Engagement, ScopeItem, ServiceLine, Sow, SowVersion, VolumeBand
from mls.audit import save_audited
from mls.enums import Permission
from mls.models import Membership, User

from .sows import _sign


def acting_side(membership: Membership, engagement: Engagement, *, approving: bool = False) -> str:
    """Which side of the contract a member acts for; refuses members who may not act on change requests, and a
    provider's account manager on another provider's engagement."""
    permission = Permission.APPROVE_CHANGES if approving else Permission.PROPOSE_CHANGES
    if not membership.has_permission(permission) or not membership.acts_for(engagement.provider_id):
        raise ValidationError(_("Your role cannot act on change requests of this engagement."))
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
        raise ValidationError(_("Sign the SoW's first version before proposing changes to it."))
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
    return save_audited(change_request, actor=membership.user, action="change_request.proposed", changes={})


# The checks each change-request action makes before writing, public so a page shows a button only when the
# service would accept it (mls/templatetags/actions.py).


def check_submit_change_request(membership: Membership, change_request: ChangeRequest) -> None:
    if acting_side(membership, change_request.sow.engagement) != change_request.proposed_by_side:
        raise ValidationError(_("Only the proposing side submits its change request."))
    if change_request.status != ChangeRequestStatus.DRAFT:
        raise ValidationError(_("Only a draft change request can be submitted."))


def check_approve_change_request(membership: Membership, change_request: ChangeRequest) -> str:
    """The approving side, when the request awaits its approval."""
    side = acting_side(membership, change_request.sow.engagement, approving=True)
    if not change_request.is_open:
        raise ValidationError(
            _("This change request is already %(status)s.") % {"status": change_request.get_status_display().lower()}
        )
    if side not in AWAITING_APPROVAL.get(change_request.status, frozenset()):
        raise ValidationError(
            _("This change request is not awaiting the %(side)s's approval.") % {"side": Side(side).label.lower()}
        )
    return side


def check_reject_change_request(membership: Membership, change_request: ChangeRequest) -> str:
    """The rejecting side, while the request is submitted and not yet approved by both."""
    side = acting_side(membership, change_request.sow.engagement, approving=True)
    if change_request.status not in AWAITING_APPROVAL:
        raise ValidationError(_("Only a submitted change request can be rejected."))
    return side


def check_withdraw_change_request(membership: Membership, change_request: ChangeRequest) -> None:
    if acting_side(membership, change_request.sow.engagement) != change_request.proposed_by_side:
        raise ValidationError(_("Only the proposing side can withdraw its change request."))
    if not change_request.is_open:
        raise ValidationError(
            _("This change request is already %(status)s.") % {"status": change_request.get_status_display().lower()}
        )


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
        raise ValidationError(_("The SoW has changed since this request was proposed; propose it again."))
    proposed = SowVersion.objects.select_for_update().get(pk=change_request.proposed_version_id)
    if proposed.effective_from <= base.effective_from:
        raise ValidationError(
            _("The amended version must take effect after %(base)s (effective %(effective)s).")
            % {"base": base, "effective": date_format(base.effective_from, "d M Y")}
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
        raise ValidationError({"reason": _("Say why the change request is rejected.")})
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
