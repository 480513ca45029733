"""Support tickets and the SLA timestamps recorded on them."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from engagements.models import Engagement
from mls.models import Membership
from scheduling.models import Learner, SupportTicket

from ._common import require_delivery_writer


@transaction.atomic
def log_ticket(
    *,
    engagement: Engagement,
    membership: Membership,
    category: str,
    subject: str,
    opened_at: datetime,
    learner: Learner | None = None,
) -> SupportTicket:
    require_delivery_writer(membership, engagement)
    ticket = SupportTicket(
        organization=engagement.organization,
        engagement=engagement,
        learner=learner,
        category=category,
        subject=subject,
        opened_at=opened_at,
    )
    ticket.full_clean()
    ticket.save()
    ticket.log_action("ticket.logged", actor=membership.user)
    return ticket


@transaction.atomic
def update_ticket_times(
    *,
    ticket: SupportTicket,
    membership: Membership,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
) -> SupportTicket:
    """Record when the learner got a first answer and when the ticket was resolved (SLA timestamps)."""
    require_delivery_writer(membership, ticket.engagement)
    if resolved_at and not (first_response_at or ticket.first_response_at):
        raise ValidationError({"first_response_at": "A resolved ticket has had a first response: record it."})
    ticket.first_response_at = first_response_at or ticket.first_response_at
    ticket.resolved_at = resolved_at or ticket.resolved_at
    # Field-level messages first; the table's check constraints (validated by full_clean) back them up.
    errors = {}
    if ticket.first_response_at and ticket.first_response_at < ticket.opened_at:
        errors["first_response_at"] = "The first response cannot precede the ticket's opening."
    if ticket.resolved_at and ticket.resolved_at < ticket.opened_at:
        errors["resolved_at"] = "The resolution cannot precede the ticket's opening."
    if errors:
        raise ValidationError(errors)
    ticket.full_clean()
    ticket.save()
    ticket.log_action("ticket.updated", actor=membership.user)
    return ticket
