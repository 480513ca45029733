"""Celery entry points of the contracts domain: thin, they scope to a tenant and call a service."""

from mls.celery import TenantTask, app, for_each_organization


@app.task(name="engagements.tasks.dispatch_contract_reminders")
def dispatch_contract_reminders() -> int:
    """Daily (beat): one reminder run per organization, each in its own tenant scope."""
    return for_each_organization(send_contract_reminders_task)


@app.task(name="engagements.tasks.send_contract_reminders_task", base=TenantTask)
def send_contract_reminders_task(*, organization_id: int) -> int:
    from engagements import services  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    return len(services.send_contract_reminders())
