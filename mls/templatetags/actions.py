"""Which write buttons a page shows: the template asks the check the service itself makes before writing."""

from collections.abc import Callable

from django import template
from django.core.exceptions import PermissionDenied, ValidationError

from engagements import services as engagement_services
from engagements.services.templates import check_save_as_template
from mls.enums import Permission
from mls.models import Membership
from scheduling import services as delivery_services

register = template.Library()

# An action on an object, and the service's own check for it (raises ValidationError when the service would refuse).
OBJECT_CHECKS: dict[str, Callable[[Membership, object], object]] = {
    "change_request.propose": lambda membership, sow: engagement_services.acting_side(membership, sow.engagement),
    "meeting.schedule": engagement_services.acting_side,  # (membership, engagement), as schedule_meeting asks
    "dispute.open": engagement_services.acting_side,  # as open_dispute asks
    "relief.request": engagement_services.acting_side,  # as slas.services.request_relief asks
    "manual_measurement.submit": engagement_services.acting_side,  # as submit_manual_measurement asks
    "change_request.submit": engagement_services.check_submit_change_request,
    "change_request.approve": engagement_services.check_approve_change_request,
    "change_request.reject": engagement_services.check_reject_change_request,
    "change_request.withdraw": engagement_services.check_withdraw_change_request,
    "meeting.record": engagement_services.check_record_meeting,  # minutes and actions
    "meeting_action.complete": engagement_services.check_complete_meeting_action,
    "dispute.escalate": engagement_services.check_escalate_dispute,
    "dispute.close": engagement_services.check_close_dispute,
    "outcome.submit": engagement_services.check_submit_outcome,  # (membership, engagement)
    "ticket.reply": delivery_services.check_reply,
    "ticket.assign": delivery_services.answering_side,  # as assign_ticket asks
    "engagement.save_as_template": check_save_as_template,  # (membership, engagement)
}

# Confirmation pages: an action that cannot be undone, or takes something away, is styled as danger.
DESTRUCTIVE_VERBS = frozenset({"withdraw", "reject", "cancel", "remove", "revoke", "delete", "deactivate", "roll"})


def may(membership: Membership | None, action: str, obj: object = None) -> bool:
    """May `membership` do `action` now: a Permission name alone, or an `OBJECT_CHECKS` action on `obj`."""
    if membership is None:
        return False
    if action in Permission.values:
        return membership.has_permission(action)
    try:
        OBJECT_CHECKS[action](membership, obj)
    except (ValidationError, PermissionDenied):
        return False
    return True


@register.simple_tag(takes_context=True, name="may")
def may_tag(context: template.Context, action: str, obj: object = None) -> bool:
    """`{% may "change_request.approve" change_request as may_approve %}` for the request's member."""
    return may(getattr(context["request"], "membership", None), action, obj)


@register.filter
def button_class(action: str) -> str:
    """The button classes for a confirmed action's label: `Withdraw` → danger, `Approve` → primary."""
    verb = action.split(maxsplit=1)[0].lower() if action else ""
    return "button button--danger" if verb in DESTRUCTIVE_VERBS else "button"
