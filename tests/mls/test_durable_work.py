"""Waiting work survives the broker being down and a worker being SIGKILLed: real processes, PostgreSQL + Redis.

Each test has its own queue (tests/slas/test_fault_tolerance.py's `queue` fixture) and worker. The sweep runs once
in the test process, with its clock moved past the grace or the lease: the workers keep the real clock.
"""

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from mls import services, work
from mls.celery import app
from mls.enums import EmailStatus, Role
from mls.models import AuditEvent, Invitation
from mls.tasks import send_invitation_email_task, sweep_waiting_work_task
from reporting import services as reporting
from reporting.enums import ExportStatus
from reporting.models import DataExport
from reporting.tasks import build_data_export_task
from scheduling import import_jobs
from scheduling.models import ImportJob, ImportStatus, Learner
from tests.scheduling.test_import_jobs import learners_csv
from tests.slas.test_fault_tolerance import _queued_tasks, _start_worker, _wait_for, queue  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration

CLOSED_PORT = "redis://127.0.0.1:9/0"  # discard: nothing listens, a connection is refused at once


@contextmanager
def _broker_unreachable() -> Iterator[None]:
    """Point the app's broker at a closed port. Celery caches its connection and producer pools on first use, so
    they are set aside with the URL and given back afterwards."""
    saved = app.conf.broker_url, app._pool, app.amqp._producer_pool
    app.conf.broker_url, app._pool, app.amqp._producer_pool = CLOSED_PORT, None, None
    try:
        yield
    finally:
        app.conf.broker_url, app._pool, app.amqp._producer_pool = saved


@pytest.fixture
def own_default_queue(queue: str, monkeypatch: pytest.MonkeyPatch, settings, tmp_path: Path) -> str:  # noqa: F811
    """Services enqueue to the default queue, which `queue` (tests/conftest.py worker_queue) made this test's, here
    and in its workers; they also write their files into this test's media directory, where this process reads
    them."""
    assert app.conf.task_default_queue == queue
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))
    return queue


def _sweep_once(organization_id: int, *, after: timedelta) -> dict[str, int]:
    """The sweep task run once, here, `after` from now (past a grace or a lease); what it requeues goes to Redis."""
    with time_machine.travel(timezone.now() + after):
        return sweep_waiting_work_task.apply(kwargs={"organization_id": organization_id}).get()


def _stop(workers: list[subprocess.Popen], log: Path) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(20)
    print(log.read_text(errors="replace")[-4000:])  # shown by pytest when the test fails


def _zips() -> list[Path]:
    return sorted((Path(django_settings.MEDIA_ROOT) / "exports").rglob("*.zip"))


def _status(model: type, pk: int, tenant) -> str:
    with tenant.scope():
        return model.objects.get(pk=pk).status


# --- Broker down at request time ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_export_requested_while_the_broker_is_down_is_built_once_after_the_sweep(
    client, tenant_a, own_default_queue, tmp_path
):
    client.force_login(tenant_a.user(Role.OWNER))
    url = reverse("reporting:data_export_request", kwargs={"organization_slug": tenant_a.organization.slug})

    with _broker_unreachable():
        response = client.post(url)

    assert (response.status_code, response["Location"]) == (302, f"/o/{tenant_a.organization.slug}/exports/")
    with tenant_a.scope():
        export = DataExport.objects.get()
    assert (export.status, export.attempts, _queued_tasks(own_default_queue)) == (ExportStatus.QUEUED, 0, [])

    build_data_export_task.delay(organization_id=tenant_a.organization.pk, export_id=export.pk)  # a late duplicate
    swept = _sweep_once(tenant_a.organization.pk, after=work.QUEUED_GRACE + timedelta(seconds=1))
    log = tmp_path / "worker.log"
    workers = [_start_worker(own_default_queue, log)]
    try:
        _wait_for(lambda: _status(DataExport, export.pk, tenant_a) == ExportStatus.SUCCEEDED, 90, "the export")
        _wait_for(lambda: _queued_tasks(own_default_queue) == [], 30, "the worker to take both messages")
    finally:
        _stop(workers, log)

    assert swept["data_exports"] == 1
    with tenant_a.scope():
        export.refresh_from_db()
        assert (export.attempts, [path.name for path in _zips()]) == (1, [Path(export.file.name).name])
        assert AuditEvent.objects.filter(action="export.succeeded").count() == 1


# --- A worker SIGKILLed mid work ----------------------------------------------------------------------------


def _backend_waiting_on(table: str) -> int | None:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE %s",
            [f'%"{table}"%'],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 1


def _kill_while_blocked_on(table: str, lock_mode: str, queue_name: str, log: Path, start: object) -> list:
    """Start a worker, hold `table` so the work stops half-way, SIGKILL the worker there and let its session end;
    then start a second worker. Returns the workers."""
    workers = [_start_worker(queue_name, log)]
    locker = connections.create_connection("default")
    locker.set_autocommit(False)
    try:
        with locker.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{table}" IN {lock_mode} MODE')
        start()
        victim = _wait_for(lambda: _backend_waiting_on(table), 60, f"the worker to block on {table}")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
    finally:
        locker.rollback()
        locker.close()
    _wait_for(lambda: not _backend_alive(victim), 30, "the killed worker's transaction to end")
    workers.append(_start_worker(queue_name, log))
    return workers


@pytest.mark.django_db(transaction=True)
def test_an_export_whose_worker_was_killed_is_built_once_after_the_sweep(tenant_a, own_default_queue, tmp_path):
    log, exports = tmp_path / "worker.log", []

    def request() -> None:
        with tenant_a.scope():
            exports.append(
                reporting.request_portability_export(
                    organization=tenant_a.organization, membership=tenant_a.members[Role.OWNER]
                )
            )

    workers = _kill_while_blocked_on("scheduling_learner", "ACCESS EXCLUSIVE", own_default_queue, log, request)
    try:
        (export,) = exports
        with tenant_a.scope():
            killed = DataExport.objects.get(pk=export.pk)
        assert (killed.status, killed.attempts, _zips()) == (ExportStatus.RUNNING, 1, [])

        swept = _sweep_once(tenant_a.organization.pk, after=work.LEASE + timedelta(seconds=1))
        _wait_for(lambda: _status(DataExport, export.pk, tenant_a) == ExportStatus.SUCCEEDED, 90, "the export")
    finally:
        _stop(workers, log)

    assert swept["data_exports"] == 1
    with tenant_a.scope():
        export.refresh_from_db()
        assert (export.attempts, [path.name for path in _zips()]) == (2, [Path(export.file.name).name])
        assert AuditEvent.objects.filter(action="export.succeeded").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_was_killed_imports_its_rows_once_after_the_sweep(tenant_a, own_default_queue, tmp_path):
    owner = tenant_a.members[Role.OWNER]
    with tenant_a.scope():
        job = import_jobs.upload(
            organization=tenant_a.organization,
            membership=owner,
            kind="learners",
            filename="learners.csv",
            text=learners_csv(3),
        )
    log = tmp_path / "worker.log"

    def start() -> None:
        with tenant_a.scope():
            import_jobs.start(job=job, membership=owner)

    # EXCLUSIVE lets the import read learners but not insert them: it stops with its rows checked, none written.
    workers = _kill_while_blocked_on("scheduling_learner", "EXCLUSIVE", own_default_queue, log, start)
    try:
        with tenant_a.scope():
            killed = ImportJob.objects.get(pk=job.pk)
            assert (killed.status, killed.attempts, Learner.objects.count()) == (ImportStatus.RUNNING, 1, 0)

        swept = _sweep_once(tenant_a.organization.pk, after=work.LEASE + timedelta(seconds=1))
        _wait_for(lambda: _status(ImportJob, job.pk, tenant_a) == ImportStatus.SUCCEEDED, 90, "the import")
    finally:
        _stop(workers, log)

    assert swept["imports"] == 1
    with tenant_a.scope():
        job.refresh_from_db()
        assert (job.created, job.attempts) == (3, 2)
        assert sorted(Learner.objects.values_list("external_id", flat=True)) == ["HR-1", "HR-2", "HR-3"]
        assert AuditEvent.objects.filter(action="import.learners").count() == 3


# --- An invitation email whose enqueue failed ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_invitation_email_whose_enqueue_failed_is_sent_once_by_the_sweep(
    tenant_a, own_default_queue, tmp_path, monkeypatch
):
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")  # the worker's log
    with _broker_unreachable(), tenant_a.scope():
        invitation = services.invite_member(
            organization=tenant_a.organization,
            invited_by=tenant_a.user(Role.OWNER),
            email="late@example.test",
            role=Role.VIEWER,
        )
    with tenant_a.scope():
        assert Invitation.objects.get(pk=invitation.pk).email_status == EmailStatus.QUEUED
    assert (mail.outbox, _queued_tasks(own_default_queue)) == ([], [])

    log = tmp_path / "worker.log"
    workers = [_start_worker(own_default_queue, log)]
    try:
        swept = _sweep_once(tenant_a.organization.pk, after=work.QUEUED_GRACE + timedelta(seconds=1))
        _wait_for(lambda: _status_of_email(invitation, tenant_a) == EmailStatus.SENT, 60, "the invitation email")
        late = send_invitation_email_task.delay(organization_id=tenant_a.organization.pk, invitation_id=invitation.pk)
        late.get(timeout=60)  # the original message, had it arrived late: nothing more is sent
    finally:
        _stop(workers, log)

    assert swept["invitation_emails"] == 1
    assert log.read_text(errors="replace").count("To: late@example.test") == 1
    with tenant_a.scope():
        sent = Invitation.objects.get(pk=invitation.pk)
        assert (sent.email_status, sent.email_attempts) == (EmailStatus.SENT, 1)


def _status_of_email(invitation: Invitation, tenant) -> str:
    with tenant.scope():
        return Invitation.objects.get(pk=invitation.pk).email_status
