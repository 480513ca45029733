"""Webhook deliveries as durable rows (issue 18): when an attempt is due, the lease that lets only one claimer make
it, the minute's sweep, claims racing on PostgreSQL, and an event announced while the broker was down."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from django.db import connection, connections

from mls import webhooks
from mls.celery import app as celery_app
from mls.enums import Role, WebhookDeliveryStatus
from mls.models import WebhookAttempt, WebhookDelivery
from mls.tasks import deliver_webhook_task, dispatch_waiting_work_sweep
from mls.tenancy import organization_scope
from tests.factories import WebhookDeliveryFactory, WebhookEndpointFactory
from tests.factories.engagements import signed_contract_with_proposal

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def _ping(tenant, receiver, capture) -> tuple[WebhookDelivery, list[Callable[[], None]]]:
    """A test ping committed, with its after-commit hook (the first attempt's message) held back, not run."""
    with tenant.scope():
        endpoint = WebhookEndpointFactory(organization=tenant.organization, url=receiver.url)
        receiver.secret = endpoint.secret
        with capture() as hooks:
            delivery = webhooks.send_ping(endpoint=endpoint, actor=None)
    return delivery, hooks


def _log(tenant, delivery: WebhookDelivery) -> list[tuple[int, int | None]]:
    with tenant.scope():
        delivery.refresh_from_db()
        return list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "response_code"))


# --- Due, held, swept (eager Celery, frozen clock) -------------------------------------------------------------


def test_a_new_delivery_is_due_at_once_and_its_first_message_holds_it_for_the_grace(
    tenant_a, receiver, clock, django_capture_on_commit_callbacks
):
    delivery, hooks = _ping(tenant_a, receiver, django_capture_on_commit_callbacks)
    clock.move_to(NOW + webhooks.FIRST_ATTEMPT_GRACE - SECOND, tick=False)

    with tenant_a.scope():
        swept = webhooks.sweep_due_deliveries()

    assert (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.locked_until) == (
        WebhookDeliveryStatus.PENDING,
        0,
        NOW,
        NOW + webhooks.FIRST_ATTEMPT_GRACE,
    )
    assert (swept, receiver.requests) == ([], [])
    [message] = hooks
    message()  # the message arrives (eager Celery runs its task here)
    assert _log(tenant_a, delivery) == [(1, 200)]
    assert [(r.headers["MLS-Delivery"], r.signature_valid) for r in receiver.requests] == [(str(delivery.pk), True)]
    assert (delivery.status, delivery.next_attempt_at, delivery.locked_until) == ("succeeded", None, None)


def test_a_delivery_whose_first_message_was_lost_is_sent_by_the_sweep_once(
    tenant_a, receiver, clock, django_capture_on_commit_callbacks
):
    delivery, hooks = _ping(tenant_a, receiver, django_capture_on_commit_callbacks)
    clock.move_to(NOW + webhooks.FIRST_ATTEMPT_GRACE, tick=False)

    with tenant_a.scope():
        swept = webhooks.sweep_due_deliveries()
        for late_message in hooks:  # the broker hands the first message over after all
            late_message()
        swept_again = webhooks.sweep_due_deliveries()

    assert (swept, swept_again) == ([delivery.pk], [])
    assert _log(tenant_a, delivery) == [(1, 200)]
    assert len(receiver.requests) == 1
    assert (delivery.status, delivery.delivered_at) == ("succeeded", NOW + webhooks.FIRST_ATTEMPT_GRACE)


def test_a_failed_attempt_waits_for_its_retry_time_then_the_sweep_makes_the_next(
    tenant_a, receiver, clock, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 200]
    delivery, hooks = _ping(tenant_a, receiver, django_capture_on_commit_callbacks)
    hooks[0]()  # attempt 1: the receiver says 500
    with tenant_a.scope():
        retry_at = WebhookDelivery.objects.values_list("next_attempt_at", flat=True).get(pk=delivery.pk)
    clock.move_to(retry_at - SECOND, tick=False)

    with tenant_a.scope():
        too_early = webhooks.sweep_due_deliveries()
        # A stray message for the retry (say, a countdown enqueued before this change) finds it not due yet.
        deliver_webhook_task.delay(organization_id=tenant_a.organization.pk, delivery_id=delivery.pk, attempt=2)
        waiting = _log(tenant_a, delivery)
        clock.move_to(retry_at, tick=False)
        on_time = webhooks.sweep_due_deliveries()

    assert (too_early, waiting) == ([], [(1, 500)])
    assert on_time == [delivery.pk]
    assert _log(tenant_a, delivery) == [(1, 500), (2, 200)]
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("succeeded", 2, 200)


def test_a_delivery_held_by_a_worker_is_swept_only_once_its_lease_has_expired(tenant_a, receiver, clock):
    """A worker took attempt 1 and died before logging it: nobody else makes the attempt while the lease runs."""
    lease = NOW + timedelta(minutes=3)
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(
            organization=tenant_a.organization, endpoint__url=receiver.url, locked_until=lease
        )
    task = {"organization_id": tenant_a.organization.pk, "delivery_id": delivery.pk, "attempt": 1}

    with tenant_a.scope():
        held = webhooks.sweep_due_deliveries()
        deliver_webhook_task.delay(**task)  # a message that holds no lease
        deliver_webhook_task.delay(**task, lease=(lease - SECOND).isoformat())  # one holding another lease
        untouched, sent = _log(tenant_a, delivery), len(receiver.requests)
        clock.move_to(lease, tick=False)
        expired = webhooks.sweep_due_deliveries()

    assert (held, untouched, sent) == ([], [], 0)
    assert expired == [delivery.pk]
    assert _log(tenant_a, delivery) == [(1, 200)]  # the lost attempt is made again, under its own number
    assert len(receiver.requests) == 1


def test_the_sweep_hands_out_its_own_organizations_deliveries_and_the_beat_job_every_organizations(
    tenant_a, tenant_b, receiver, clock
):
    ours, theirs = (
        WebhookDeliveryFactory(organization=tenant.organization, endpoint__url=receiver.url)
        for tenant in (tenant_a, tenant_b)
    )

    with tenant_a.scope():
        swept = webhooks.sweep_due_deliveries()
    sent_by_ours = [r.headers["MLS-Delivery"] for r in receiver.requests]
    dispatch_waiting_work_sweep.delay()

    assert swept == [ours.pk]
    assert sent_by_ours == [str(ours.pk)]
    assert [r.headers["MLS-Delivery"] for r in receiver.requests] == [str(ours.pk), str(theirs.pk)]
    assert (_log(tenant_a, ours), _log(tenant_b, theirs)) == ([(1, 200)], [(1, 200)])


def test_beat_runs_the_sweep_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["waiting-work-sweep"]

    assert entry == {"task": dispatch_waiting_work_sweep.name, "schedule": crontab()}
    assert entry["task"] in celery_app.tasks  # registered, so beat's message finds a task


def test_a_paused_endpoints_due_retry_fails_without_a_request(tenant_a, receiver, clock):
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(
            organization=tenant_a.organization,
            endpoint__url=receiver.url,
            endpoint__is_active=False,
            status=WebhookDeliveryStatus.RETRYING,
            attempts=1,
        )

        swept = webhooks.sweep_due_deliveries()
        attempt = WebhookAttempt.objects.get()
        delivery.refresh_from_db()

    assert swept == [delivery.pk]
    assert receiver.requests == []
    assert (attempt.number, attempt.error) == (2, "The endpoint was paused; nothing was sent.")
    assert (delivery.status, delivery.next_attempt_at, delivery.locked_until) == ("failed", None, None)


# --- Claims racing on PostgreSQL (real commits, two connections) -----------------------------------------------


def _in_thread(pool: ThreadPoolExecutor, tenant, work: Callable[[], object]) -> Future:
    """`work` in the tenant's scope on a connection of its own (Django opens one per thread), closed after."""

    def run() -> object:
        try:
            with organization_scope(tenant.organization):
                return work()
        finally:
            connection.close()

    return pool.submit(run)


def _wait_for_lock_waits(count: int) -> None:
    """Until `count` statements on the delivery table wait for a lock (polled, with a deadline)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE \"mls_webhookdelivery\"%%'"
            )
            if cursor.fetchone()[0] == count:
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {count} blocked updates")


@contextmanager
def _holding(sql: str, *params: object) -> Iterator[None]:
    """A third connection holds the lock that `sql` takes until the block ends (then rolls back)."""
    locker = connections.create_connection("default")
    locker.set_autocommit(False)
    try:
        with locker.cursor() as cursor:
            cursor.execute(sql, params)
        yield
    finally:
        locker.rollback()
        locker.close()


@contextmanager
def _lock_timeout() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_two_messages_for_the_same_attempt_at_once_send_it_once(tenant_a, receiver, clock):
    """The broker delivers the first message twice, to two workers: both try to claim attempt 1 together."""
    lease = NOW + webhooks.FIRST_ATTEMPT_GRACE
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(
            organization=tenant_a.organization, endpoint__url=receiver.url, locked_until=lease
        )

    def claim() -> WebhookAttempt | None:
        return webhooks.attempt_delivery(delivery_id=delivery.pk, attempt=1, lease=lease)

    with ThreadPoolExecutor(2) as pool:
        with _holding("SELECT 1 FROM mls_webhookdelivery WHERE id = %s FOR UPDATE", delivery.pk):
            workers = [_in_thread(pool, tenant_a, claim) for _ in range(2)]
            _wait_for_lock_waits(2)  # both claims are queued on the row
        outcomes = [worker.result(timeout=30) for worker in workers]

    assert sorted(outcome is None for outcome in outcomes) == [False, True]
    assert _log(tenant_a, delivery) == [(1, 200)]
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_hand_a_due_delivery_out_once(tenant_a, receiver, clock):
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization, endpoint__url=receiver.url)

    with ThreadPoolExecutor(1) as pool:
        # SHARE lets the first sweep lock the row (FOR UPDATE) but holds its UPDATE of the lease.
        with _holding("LOCK TABLE mls_webhookdelivery IN SHARE MODE"):
            first = _in_thread(pool, tenant_a, webhooks.sweep_due_deliveries)
            _wait_for_lock_waits(1)
            with tenant_a.scope(), _lock_timeout():  # a sweep that waited for the row would fail, not hang
                second = webhooks.sweep_due_deliveries()  # skips the locked row instead of waiting for it
        first_swept = first.result(timeout=30)

    assert (first_swept, second) == ([delivery.pk], [])
    assert _log(tenant_a, delivery) == [(1, 200)]
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweep_and_a_late_first_message_at_once_send_it_once(tenant_a, receiver, clock):
    """The grace is over: the sweep claims the delivery just as its first message finally reaches a worker."""
    first_lease = NOW + webhooks.FIRST_ATTEMPT_GRACE
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(
            organization=tenant_a.organization, endpoint__url=receiver.url, locked_until=first_lease
        )
    clock.move_to(first_lease, tick=False)

    def late_message() -> None:
        deliver_webhook_task.delay(
            organization_id=tenant_a.organization.pk,
            delivery_id=delivery.pk,
            attempt=1,
            lease=first_lease.isoformat(),
        )

    with ThreadPoolExecutor(2) as pool:
        with _holding("LOCK TABLE mls_webhookdelivery IN SHARE MODE"):
            sweep = _in_thread(pool, tenant_a, webhooks.sweep_due_deliveries)
            _wait_for_lock_waits(1)  # the sweep holds the row and waits to write its lease
            message = _in_thread(pool, tenant_a, late_message)
            _wait_for_lock_waits(2)
        swept, _ = sweep.result(timeout=30), message.result(timeout=30)

    assert swept == [delivery.pk]
    assert _log(tenant_a, delivery) == [(1, 200)]
    assert len(receiver.requests) == 1


# --- The broker is down when the event happens (real processes) ------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:  # bound, never listened on, then closed: connections to it are refused
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


CANCEL = """
from mls.models import Membership
from mls.tenancy import organization_scope
from scheduling.models import Session
from scheduling.services import cancel_session

with organization_scope({organization}):
    cancel_session(
        session=Session.objects.get(pk={session}),
        membership=Membership.objects.get(pk={member}),
        cancelled_by="client",
        reason="Trainer ill",
    )
"""


@pytest.mark.django_db(transaction=True)
def test_an_event_announced_while_the_broker_is_down_is_delivered_once_when_it_is_back(
    tenant_a, receiver, worker_queue
):
    contract = signed_contract_with_proposal(tenant_a)
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(
            organization=tenant_a.organization, url=receiver.url, events=["session.cancelled"]
        )
    receiver.secret = endpoint.secret
    code = CANCEL.format(
        organization=tenant_a.organization.pk,
        session=contract.session.pk,
        member=tenant_a.members[Role.OWNER].pk,
    )
    broker_down = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/4",
        "CELERY_TASK_DEFAULT_QUEUE": worker_queue,
    }

    # The provider cancels the session in another process whose broker is unreachable.
    cancelled = subprocess.run(  # noqa: S603 (our argv)
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=broker_down,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    with tenant_a.scope():
        delivery = WebhookDelivery.objects.get()
    assert cancelled.returncode == 0, cancelled.stderr
    assert "Could not enqueue mls.tasks.deliver_webhook_task" in cancelled.stderr
    assert (delivery.status, delivery.attempts, receiver.requests) == ("pending", 0, [])

    # The broker is back (this process's): a worker runs, and the minute's sweep after the grace hands it out.
    with start_worker(celery_app, pool="solo", queues=[worker_queue], perform_ping_check=True, shutdown_timeout=10):
        with tenant_a.scope():
            swept = webhooks.sweep_due_deliveries(now=delivery.locked_until)
        deadline = time.monotonic() + 20
        while delivery.status != WebhookDeliveryStatus.SUCCEEDED and time.monotonic() < deadline:
            time.sleep(0.1)
            with tenant_a.scope():
                delivery.refresh_from_db()
        with tenant_a.scope():
            swept_again = webhooks.sweep_due_deliveries(now=delivery.created_at + webhooks.LEASE * 2)

    assert (swept, swept_again) == ([delivery.pk], [])
    assert [(r.headers["MLS-Event"], r.payload["data"]["status"], r.signature_valid) for r in receiver.requests] == [
        ("session.cancelled", "cancelled", True)
    ]
    assert _log(tenant_a, delivery) == [(1, 200)]
