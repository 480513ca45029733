"""Celery entry points of learner communications: thin, they run in the tenant scope and call one service."""

from mls.celery import TenantTask, app, for_each_organization


@app.task(name="communications.tasks.send_learner_message_task", base=TenantTask)
def send_learner_message_task(*, organization_id: int, message_id: int) -> None:
    """ "Look now": send message `message_id` if it is still waiting (a duplicate or late message sends nothing)."""
    from communications import services  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    services.send_learner_message(message_id)


@app.task(name="communications.tasks.dispatch_learner_reminders")
def dispatch_learner_reminders() -> int:
    """Hourly (beat): each organization queues the reminders that have come due."""
    return for_each_organization(queue_learner_reminders_task)


@app.task(name="communications.tasks.queue_learner_reminders_task", base=TenantTask, expires=3600)
def queue_learner_reminders_task(*, organization_id: int) -> int:
    from django.utils import timezone  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    from communications import services  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    return services.queue_due_reminders(now=timezone.now())


@app.task(name="communications.tasks.dispatch_learner_message_sweep")
def dispatch_learner_message_sweep() -> int:
    """Every minute (beat): messages whose "look now" was lost or whose worker died are sent again."""
    return for_each_organization(sweep_learner_messages_task)


@app.task(name="communications.tasks.sweep_learner_messages_task", base=TenantTask, expires=120)
def sweep_learner_messages_task(*, organization_id: int) -> int:
    from django.utils import timezone  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    from communications import services  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    swept = services.sweep_learner_messages(now=timezone.now())
    return swept.requeued + swept.given_up
