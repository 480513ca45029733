"""Fault tolerance of the SLA workers on PostgreSQL + Redis, with real worker processes.

A worker is SIGKILLed while it finalizes a period, half-way through its transaction (breaches written, credits
waiting on a table lock the test holds). PostgreSQL drops the dead worker's transaction; the broker hands the
unacknowledged (acks_late) task to the restarted worker, which finalizes the period once. The credit ledger then
equals the answer of one SQL query over the stored breaches and targets, without duplicates.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import redis
from django.db import connection, connections, transaction

from mls.celery import app
from mls.enums import Role
from scheduling import import_jobs
from slas import tasks
from slas.enums import PeriodStatus
from slas.models import Breach, ServiceCredit, SlaPeriod
from tests.factories.slas import sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MARCH = date(2026, 3, 1)
BREACHED = frozenset({"support_first_response", "instructor_rating"})
ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def queue(worker_queue: str) -> str:
    """A queue of this test's own, so no other test's worker takes its tasks (and ours take no others); the worker
    processes inherit this xdist worker's REDIS_URL."""
    assert connection.vendor == "postgresql", "this test needs DATABASE_URL (PostgreSQL)"
    return worker_queue


def _start_worker(queue: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_VISIBILITY_TIMEOUT": "2",  # production keeps an hour; here a lost task comes back quickly
    }
    command = [sys.executable, "-m", "celery", "-A", "mls", "worker", "--pool=solo", "--concurrency=1"]
    command += [f"--queues={queue}", f"--hostname={queue}-{uuid.uuid4().hex[:4]}@%h", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)  # noqa: S603 (our argv)


def _backend_waiting_to_insert_credits() -> int | None:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE 'INSERT INTO \"slas_servicecredit\"%%'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _ledger_by_single_sql(period_id: int) -> list[tuple[str, str]]:
    """SPEC-SLA §4 for a period whose breached allocations stay under the cap: at risk × allocation, per metric."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT b.metric, ROUND(p.at_risk * t.allocation_percent / 100, 2)::text
            FROM slas_breach b
            JOIN slas_slaperiod p ON p.id = b.period_id
            JOIN slas_measurement m ON m.id = b.measurement_id
            JOIN slas_slatarget t ON t.id = m.target_id
            WHERE b.period_id = %s
            ORDER BY b.metric
            """,
            [period_id],
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_finalization_leaves_one_correct_credit_ledger(tenant_a, queue, tmp_path):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=BREACHED)
    log = tmp_path / "worker.log"
    workers = [_start_worker(queue, log)]
    # Hold the credit table so the worker's finalization stops right after writing its breaches.
    locker = connections.create_connection("default")
    locker.set_autocommit(False)
    try:
        with locker.cursor() as cursor:
            cursor.execute("LOCK TABLE slas_servicecredit IN EXCLUSIVE MODE")
        tasks.finalize_engagement_slas_task.apply_async(
            kwargs={"organization_id": tenant_a.organization.pk, "engagement_id": engagement.pk}, queue=queue
        )
        victim = _wait_for(_backend_waiting_to_insert_credits, 60, "the worker to block on the credit insert")

        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        locker.rollback()
        # PostgreSQL ends the dead worker's session (and rolls its transaction back) when it next talks to it.
        _wait_for(lambda: not _backend_alive(victim), 30, "the killed worker's transaction to end")
        with tenant_a.scope():
            assert not Breach.objects.exists(), "the killed transaction's breaches must have been rolled back"
            assert not SlaPeriod.objects.filter(status=PeriodStatus.FINALIZED).exists()

        workers.append(_start_worker(queue, log))  # no new task: the broker redelivers the unacknowledged one
        _wait_for(lambda: _finalized(tenant_a), 90, "the restarted worker to finalize the period")
    finally:
        locker.close()
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(20)
        print(log.read_text(errors="replace")[-4000:])  # shown by pytest when the test fails

    with tenant_a.scope():
        period = SlaPeriod.objects.get(month=MARCH)
        ledger = sorted(
            (metric, str(amount)) for metric, amount in ServiceCredit.objects.values_list("metric", "amount")
        )
        assert ledger == _ledger_by_single_sql(period.pk)
        assert ledger == [("instructor_rating", "1447.50"), ("support_first_response", "2316.00")]
        assert Breach.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM slas_servicecredit GROUP BY engagement_id, period_id, metric "
            "HAVING count(*) > 1) duplicates"
        )
        assert cursor.fetchone() == (0,)


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 1


def _finalized(tenant: object) -> bool:
    with tenant.scope():
        return SlaPeriod.objects.filter(month=MARCH, status=PeriodStatus.FINALIZED).exists()


# --- Tasks are enqueued only when their transaction commits ------------------------------------------------


def _queued_tasks(queue: str) -> list[str]:
    messages = redis.Redis.from_url(os.environ["REDIS_URL"]).lrange(queue, 0, -1)
    return [json.loads(message)["headers"]["task"] for message in messages]


@pytest.mark.django_db(transaction=True)
def test_no_task_reaches_the_broker_from_a_rolled_back_transaction(tenant_a, queue):
    """Nothing consumes this queue, so what the service enqueued is still in Redis to be counted."""
    app.conf.task_default_queue, default = queue, app.conf.task_default_queue
    owner = tenant_a.members[Role.OWNER]
    with tenant_a.scope():
        job = import_jobs.upload(
            organization=tenant_a.organization,
            membership=owner,
            kind="learners",
            filename="learners.csv",
            text="email,first_name,last_name\nada@example.test,Ada,Lovelace\n",
        )

    class Abort(Exception):
        pass

    @transaction.atomic
    def start_then_fail() -> None:
        import_jobs.start(job=job, membership=owner)
        raise Abort

    try:
        with tenant_a.scope(), pytest.raises(Abort):
            start_then_fail()
        assert _queued_tasks(queue) == [], "a rolled-back transaction sent its task to the broker"

        with tenant_a.scope(), transaction.atomic():
            import_jobs.start(job=job, membership=owner)
            assert _queued_tasks(queue) == [], "the task was sent before its transaction committed"
        assert _queued_tasks(queue) == ["scheduling.tasks.run_import_task"]
    finally:
        app.conf.task_default_queue = default
