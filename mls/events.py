"""Domain events for integrations (webhooks): announced only after the transaction that caused them commits.

The audit event written in that transaction is the durable record (the outbox a webhook dispatcher replays);
`domain_event` lets in-process subscribers react at once, and never for work that rolled back.
"""

from django.db import transaction
from django.dispatch import Signal

from .models import AuditEvent

# Receivers get `organization_id`, `name` (e.g. "credit.issued") and `audit_event_id`.
domain_event = Signal()


def emit_after_commit(event: AuditEvent) -> None:
    """Announce `event` (an audit event whose action is the event name) once the current transaction commits.
    Robust: a subscriber that fails for one event is logged and the hooks after it (the transaction's other events,
    its emails) still run; the committed write is not undone, nor answered with a 500."""
    transaction.on_commit(
        lambda: domain_event.send(
            sender=AuditEvent,
            organization_id=event.organization_id,
            name=event.action,
            audit_event_id=event.pk,
        ),
        robust=True,
    )
