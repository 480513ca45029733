"""Disputes and their tiers: opening, escalating up the ladder, closing."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.enums import DISPUTE_LADDER, DisputeTier
from engagements.models import Dispute, DisputeStep, Engagement
from mls.audit import save_audited
from mls.models import Membership

from .change_requests import acting_side


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
    save_audited(dispute, actor=membership.user, action="dispute.opened", changes={})
    _step(dispute, membership, description)
    return dispute


# The checks of the dispute's writes, public so a page offers a form only when the service would accept it
# (mls/templatetags/actions.py).


def check_escalate_dispute(membership: Membership, dispute: Dispute) -> None:
    acting_side(membership, dispute.engagement)
    if dispute.tier not in DISPUTE_LADDER[:-1]:
        raise ValidationError(
            _("A dispute at %(tier)s cannot be escalated further.") % {"tier": dispute.get_tier_display().lower()}
        )


def check_close_dispute(membership: Membership, dispute: Dispute) -> None:
    acting_side(membership, dispute.engagement)
    if dispute.tier == DisputeTier.CLOSED:
        raise ValidationError(_("This dispute is already closed."))


@transaction.atomic
def escalate_dispute(*, dispute: Dispute, membership: Membership, note: str) -> Dispute:
    """Move the dispute one tier up the ladder: account management → executive sponsor → mediation."""
    dispute = Dispute.objects.select_for_update().select_related("engagement").get(pk=dispute.pk)
    check_escalate_dispute(membership, dispute)
    if not note.strip():
        raise ValidationError({"note": _("Say why the dispute is escalated.")})
    dispute.tier = DISPUTE_LADDER[DISPUTE_LADDER.index(dispute.tier) + 1]
    dispute.save(update_fields=["tier"])
    _step(dispute, membership, note.strip())
    dispute.log_action("dispute.escalated", actor=membership.user)
    return dispute


@transaction.atomic
def close_dispute(*, dispute: Dispute, membership: Membership, resolution: str, now: datetime | None = None) -> Dispute:
    now = now or timezone.now()
    dispute = Dispute.objects.select_for_update().select_related("engagement").get(pk=dispute.pk)
    check_close_dispute(membership, dispute)
    if not resolution.strip():
        raise ValidationError({"resolution": _("Record how the dispute was resolved.")})
    dispute.tier, dispute.closed_at, dispute.resolution = DisputeTier.CLOSED, now, resolution.strip()
    dispute.save(update_fields=["tier", "closed_at", "resolution"])
    _step(dispute, membership, dispute.resolution)
    dispute.log_action("dispute.closed", actor=membership.user)
    return dispute
