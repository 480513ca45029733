"""The Celery app. Tasks live in each app's `tasks.py`; tenant tasks use `mls.tasks.TenantTask`."""

import logging
import os
import time
from dataclasses import dataclass

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mls.settings")

app = Celery("mls")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


class TenantTask(app.Task):
    """Base of every tenant task: takes `organization_id=` and runs the body inside that organization's scope.

    Enqueue tenant tasks from services with `enqueue_after_commit(task, ...)`, so a worker never sees an id whose
    transaction rolled back.
    """

    def __call__(self, *args: object, organization_id: int, **kwargs: object) -> object:
        # Imported here: this module is loaded by mls/__init__.py before Django's app registry is ready.
        from mls.models import Organization  # noqa: PLC0415 - this module loads before Django's app registry
        from mls.tenancy import organization_scope  # noqa: PLC0415 - see above

        organization = Organization.objects.get(pk=organization_id)
        with organization_scope(organization):
            return super().__call__(*args, organization_id=organization_id, **kwargs)


def for_each_organization(task: TenantTask) -> int:
    """Enqueue `task` once per organization (daily beat jobs fan out so each run has its own tenant scope)."""
    from mls.models import Organization  # noqa: PLC0415 - this module loads before Django's app registry

    organization_ids = list(Organization.objects.values_list("id", flat=True))
    for organization_id in organization_ids:
        enqueue(task, organization_id=organization_id)  # one refused message must not cost the others theirs
    return len(organization_ids)


def enqueue_after_commit(task: "TenantTask", **kwargs: object) -> None:
    """Enqueue `task` once the transaction commits. The row the task works on is the source of truth, not the
    broker message: if the broker is down the failure is logged and the periodic sweeper enqueues the row later.
    The caller's write has committed, so it must never answer 500 for this, nor keep the next hook from running."""
    from django.db import transaction  # noqa: PLC0415 - this module loads before Django's app registry

    transaction.on_commit(lambda: enqueue(task, **kwargs), robust=True)


def enqueue(task: "TenantTask", **kwargs: object) -> bool:
    """`task.delay(**kwargs)`, or False (logged) when the broker cannot take it; see enqueue_after_commit."""
    try:
        task.delay(**kwargs)
    except Exception:  # kombu raises OperationalError, redis ConnectionError/TimeoutError, and others by transport
        logger.warning("Could not enqueue %s %s; the sweeper will pick it up", task.name, kwargs, exc_info=True)
        return False
    return True


# How long one process trusts its last look at the broker: a page costs no round trip to it most of the time.
BROKER_CHECK_SECONDS = 30


@dataclass
class _BrokerCheck:
    """This process's last look at the broker: when (time.time()) and whether it took a connection."""

    checked_at: float | None = None
    reachable: bool = True


_last_broker_check = _BrokerCheck()


def broker_reachable() -> bool:
    """Whether background work can be handed to the broker now, as far as this process saw in the last 30 s.
    Eager mode (no broker, work runs inline) is always reachable. One connection attempt, no retry, within the
    broker's connection timeout (about a second); what the UI tells its users (mls.context_processors)."""
    if app.conf.task_always_eager:
        return True
    now = time.time()
    last = _last_broker_check
    if last.checked_at is not None and 0 <= now - last.checked_at < BROKER_CHECK_SECONDS:
        return last.reachable
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
    except Exception as error:  # kombu's OperationalError, or the transport's own errors (as in enqueue)
        if last.reachable:
            logger.warning("Broker unreachable: background work is delayed (%s)", error)
        last.reachable = False
    else:
        if not last.reachable:
            logger.info("Broker reachable again: delayed background work goes on")
        last.reachable = True
    last.checked_at = now
    return last.reachable
