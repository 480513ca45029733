"""What happens to an escalation after the ladder raises it (SPEC-SLA §5): the provider answers a notice and
records a remediation plan, the client closes it. Each write re-reads the row under lock, so a close that lands
between a page load and a response wins, and nothing is answered once closed."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mls.models import Membership

from .enums import EscalationLevel, EscalationStatus
from .models import Escalation
from .selectors import may_answer_escalation, may_close_escalation


def _locked_open(escalation: Escalation) -> Escalation:
    locked = Escalation.objects.select_for_update().select_related("engagement").get(pk=escalation.pk)
    if not locked.is_open:
        raise ValidationError(_("This escalation is closed; it no longer takes responses or plans."))
    return locked


def check_answer_escalation(membership: Membership, escalation: Escalation) -> None:
    if not may_answer_escalation(membership, escalation):
        raise ValidationError(_("Only the engagement's provider answers an escalation."))


def check_respond_to_notice(membership: Membership, escalation: Escalation) -> None:
    """Who may answer, and whether this escalation still asks for an answer (the page's Respond button asks it)."""
    check_answer_escalation(membership, escalation)
    if escalation.level != EscalationLevel.NOTICE:
        raise ValidationError(_("Only a notice asks for a response; record a remediation plan instead."))
    if escalation.responded_at is not None:
        raise ValidationError(_("The provider has already responded to this notice."))


def check_close_escalation(membership: Membership, escalation: Escalation) -> None:
    if not may_close_escalation(membership, escalation):
        raise ValidationError(_("Only the client's L&D director or an owner closes an escalation."))


@transaction.atomic
def respond_to_notice(
    *, escalation: Escalation, membership: Membership, response: str, now: datetime | None = None
) -> Escalation:
    """The provider's answer to a notice, due by `respond_by`; given once, so the record shows when it came."""
    escalation = _locked_open(escalation)
    check_respond_to_notice(membership, escalation)
    if not response.strip():
        raise ValidationError({"response": _("Write the provider's response.")})
    escalation.response, escalation.responded_at = response.strip(), now or timezone.now()
    escalation.save(update_fields=["response", "responded_at"])
    escalation.log_action("escalation.responded", actor=membership.user)
    return escalation


@transaction.atomic
def record_remediation_plan(
    *, escalation: Escalation, membership: Membership, plan: str, due_on: date, now: datetime | None = None
) -> Escalation:
    """The provider's plan to return to target; it may be revised while the escalation is open."""
    escalation = _locked_open(escalation)
    check_answer_escalation(membership, escalation)
    if not plan.strip():
        raise ValidationError({"plan": _("Describe what the provider will do.")})
    today = timezone.localdate(now or timezone.now(), timezone=escalation.engagement.calendar.zone)
    if due_on < today:
        raise ValidationError({"due_on": _("The plan's due date cannot be in the past.")})
    escalation.remediation_plan, escalation.remediation_due_on = plan.strip(), due_on
    escalation.save(update_fields=["remediation_plan", "remediation_due_on"])
    escalation.log_action("escalation.plan_recorded", actor=membership.user)
    return escalation


@transaction.atomic
def close_escalation(*, escalation: Escalation, membership: Membership, now: datetime | None = None) -> Escalation:
    """The client closes an escalation it considers dealt with; a closed escalation stays closed."""
    escalation = _locked_open(escalation)
    check_close_escalation(membership, escalation)
    escalation.status, escalation.closed_by, escalation.closed_at = (
        EscalationStatus.CLOSED,
        membership.user,
        now or timezone.now(),
    )
    escalation.save(update_fields=["status", "closed_by", "closed_at"])
    escalation.log_action("escalation.closed", actor=membership.user)
    return escalation
