"""Celery entry points of the tenancy core: thin, they load inside the tenant scope and call a service."""

from datetime import datetime

from mls.celery import TenantTask, app, for_each_organization


@app.task(name="mls.tasks.send_invitation_email_task", base=TenantTask)
def send_invitation_email_task(*, organization_id: int, invitation_id: int) -> None:
    from mls import services  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)
    from mls.models import Invitation  # noqa: PLC0415 - see above

    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is not None:
        services.send_invitation_email(invitation)


@app.task(name="mls.tasks.dispatch_waiting_work_sweep")
def dispatch_waiting_work_sweep() -> int:
    """Every minute (beat): find waiting work whose message was lost or whose worker died, per organization."""
    return for_each_organization(sweep_waiting_work_task)


# A sweep that waited in the queue longer than this is dropped: a newer one is already behind it.
@app.task(name="mls.tasks.sweep_waiting_work_task", base=TenantTask, expires=120)
def sweep_waiting_work_task(*, organization_id: int) -> dict[str, int]:
    """One organization's sweep of every kind of waiting work: the rows of mls.work (requeued or given up) and
    the webhook deliveries that are due (mls.webhooks); returns how many rows it handed on, per kind."""
    from django.utils import timezone  # noqa: PLC0415 - see above

    from mls import services, webhooks  # noqa: PLC0415 - see above
    from reporting import services as reporting  # noqa: PLC0415 - see above
    from scheduling import import_jobs  # noqa: PLC0415 - see above

    now = timezone.now()
    swept = {
        "invitation_emails": services.sweep_invitation_emails(now=now),
        "data_exports": reporting.sweep_waiting_exports(now=now),
        "qbrs": reporting.sweep_waiting_qbrs(now=now),
        "imports": import_jobs.sweep(now=now),
    }
    return {kind: result.requeued + result.given_up for kind, result in swept.items()} | {
        "webhook_deliveries": len(webhooks.sweep_due_deliveries())
    }


@app.task(name="mls.tasks.deliver_webhook_task", base=TenantTask)
def deliver_webhook_task(*, organization_id: int, delivery_id: int, attempt: int, lease: str | None = None) -> None:
    """Make one attempt of a webhook delivery if it is still this message's to make (`lease` is the one it was
    enqueued with). A failed attempt only sets when the next is due; the sweeper enqueues it then, not a countdown
    that would live in the broker alone."""
    from mls import webhooks  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    held = datetime.fromisoformat(lease) if lease else None
    webhooks.attempt_delivery(delivery_id=delivery_id, attempt=attempt, lease=held)


@app.task(name="mls.tasks.dispatch_idempotency_purge")
def dispatch_idempotency_purge() -> int:
    """Daily (beat): forget the API's idempotency keys older than 24 hours, organization by organization."""
    return for_each_organization(purge_idempotency_keys_task)


@app.task(name="mls.tasks.purge_idempotency_keys_task", base=TenantTask)
def purge_idempotency_keys_task(*, organization_id: int) -> int:
    from mls import idempotency  # noqa: PLC0415 - see above

    return idempotency.purge_expired()
