"""Waiting work (mls.work): claims, leases and the sweep, with eager Celery and frozen time.

The real-process journeys (broker down at the request, a worker SIGKILLed mid export and mid import) are in
tests/mls/test_durable_work.py; here every exit path of the claim and of the sweep, per kind of work.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connections
from django.test import override_settings
from django.urls import reverse

from mls import services, work
from mls.enums import EmailStatus, Role
from mls.models import AuditEvent, Invitation
from mls.tasks import sweep_waiting_work_task
from reporting import services as reporting
from reporting.enums import ExportStatus, QbrStatus
from reporting.models import DataExport, QuarterlyReview
from scheduling import import_jobs
from scheduling.models import ImportJob, ImportStatus, Learner
from tests.reporting.test_qbr import finished_q1
from tests.scheduling.test_import_jobs import learners_csv

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
LEASE_OVER = T0 + work.LEASE + timedelta(seconds=1)
GRACE_OVER = T0 + work.QUEUED_GRACE + timedelta(seconds=1)


def org_url(tenant, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def _queued_export(tenant, django_capture_on_commit_callbacks) -> DataExport:
    """An export requested while the broker took nothing: its message never ran."""
    with django_capture_on_commit_callbacks(execute=False):
        return reporting.request_portability_export(
            organization=tenant.organization, membership=tenant.members[Role.OWNER]
        )


def _queued_import(tenant, django_capture_on_commit_callbacks, rows: int = 3) -> ImportJob:
    owner = tenant.members[Role.OWNER]
    job = import_jobs.upload(
        organization=tenant.organization, membership=owner, kind="learners", filename="l.csv", text=learners_csv(rows)
    )
    with django_capture_on_commit_callbacks(execute=False):
        return import_jobs.start(job=job, membership=owner)


# --- Claims ----------------------------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_a_claim_takes_a_queued_row_once_with_a_lease(tenant_a, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        export = _queued_export(tenant_a, django_capture_on_commit_callbacks)

        first = work.claim(DataExport, export.pk, now=T0)
        second = work.claim(DataExport, export.pk, now=T0 + timedelta(seconds=5))

        assert (first.status, first.locked_until, first.attempts) == (ExportStatus.RUNNING, T0 + work.LEASE, 1)
        assert second is None


def test_a_claim_takes_over_a_row_whose_lease_ran_out(tenant_a, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        export = _queued_export(tenant_a, django_capture_on_commit_callbacks)
        work.claim(DataExport, export.pk, now=T0)

        before_expiry = work.claim(DataExport, export.pk, now=T0 + work.LEASE)
        after_expiry = work.claim(DataExport, export.pk, now=LEASE_OVER)

        assert before_expiry is None
        assert (after_expiry.attempts, after_expiry.locked_until) == (2, LEASE_OVER + work.LEASE)


def test_a_claim_of_a_finished_row_does_nothing(tenant_a, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        export = _queued_export(tenant_a, django_capture_on_commit_callbacks)
        built = reporting.build_portability_export(export)

        again = reporting.build_portability_export(export)

        assert (built.status, built.attempts, built.locked_until) == (ExportStatus.SUCCEEDED, 1, None)
        assert (again.status, again.attempts, again.file.name) == (ExportStatus.SUCCEEDED, 1, built.file.name)


@pytest.mark.django_db(transaction=True)
def test_a_row_held_by_a_live_worker_is_neither_claimed_nor_swept_after_its_lease(tenant_a):
    """The working transaction holds the row's lock: however long it runs, nobody takes the row over."""
    with tenant_a.scope():
        export = DataExport.objects.create(organization=tenant_a.organization)
    worker = connections.create_connection("default")
    worker.set_autocommit(False)
    try:
        with worker.cursor() as cursor:
            cursor.execute(
                "UPDATE reporting_dataexport SET status = 'running', attempts = 1, locked_until = %s WHERE id = %s",
                [T0 + work.LEASE, export.pk],
            )
        with tenant_a.scope():
            claimed = work.claim(DataExport, export.pk, now=LEASE_OVER)
            swept = reporting.sweep_waiting_exports(now=LEASE_OVER)
    finally:
        worker.rollback()
        worker.close()

    assert (claimed, swept) == (None, work.Swept(requeued=0, given_up=0))


# --- The sweep: exports -----------------------------------------------------------------------------------


def test_a_queued_export_is_sent_again_only_after_the_grace(tenant_a, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False), tenant_a.scope():
        export = _queued_export(tenant_a, django_capture_on_commit_callbacks)

        with django_capture_on_commit_callbacks(execute=True) as within_grace:
            early = reporting.sweep_waiting_exports(now=T0 + work.QUEUED_GRACE)
        with django_capture_on_commit_callbacks(execute=True) as after_grace:
            late = reporting.sweep_waiting_exports(now=GRACE_OVER)

        export.refresh_from_db()
        assert (early, len(within_grace)) == (work.Swept(requeued=0, given_up=0), 0)
        assert (late, len(after_grace)) == (work.Swept(requeued=1, given_up=0), 1)
        assert (export.status, export.attempts, export.enqueued_at) == (ExportStatus.SUCCEEDED, 1, GRACE_OVER)


def test_an_export_whose_worker_died_is_requeued_then_built_once(tenant_a, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        export = _queued_export(tenant_a, django_capture_on_commit_callbacks)
        work.claim(DataExport, export.pk, now=T0)  # the worker that claimed it was killed

        with django_capture_on_commit_callbacks(execute=False) as sent:
            swept = reporting.sweep_waiting_exports(now=LEASE_OVER)
        requeued = DataExport.objects.get(pk=export.pk)
        for callback in sent:
            callback()
        built = DataExport.objects.get(pk=export.pk)

        assert swept == work.Swept(requeued=1, given_up=0)
        assert (requeued.status, requeued.locked_until, requeued.enqueued_at) == (ExportStatus.QUEUED, None, LEASE_OVER)
        assert (built.status, built.attempts) == (ExportStatus.SUCCEEDED, 2)
        assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
            "export.requested",
            "export.succeeded",
        ]


def test_an_export_whose_worker_died_too_often_fails_and_frees_the_next_request(
    tenant_a, django_capture_on_commit_callbacks
):
    owner = tenant_a.members[Role.OWNER]
    with tenant_a.scope():
        export = _queued_export(tenant_a, django_capture_on_commit_callbacks)
        DataExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.RUNNING, attempts=work.MAX_ATTEMPTS, locked_until=T0
        )

        with django_capture_on_commit_callbacks(execute=False) as sent:
            swept = reporting.sweep_waiting_exports(now=T0 + timedelta(seconds=1))
        export.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=False):
            following = reporting.request_portability_export(organization=tenant_a.organization, membership=owner)

        assert (swept, sent) == (work.Swept(requeued=0, given_up=1), [])
        assert (export.status, export.locked_until) == (ExportStatus.FAILED, None)
        assert export.error == (
            "The worker doing this export stopped 3 times before it finished (it was restarted or lost); nothing "
            "was kept. Try again, and tell support if it happens again."
        )
        assert AuditEvent.objects.filter(action="export.failed").count() == 1
        assert following.status == ExportStatus.QUEUED


def test_the_sweep_stays_inside_its_organization(tenant_a, tenant_b, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        with tenant_b.scope():
            foreign = _queued_export(tenant_b, django_capture_on_commit_callbacks)
        with tenant_a.scope():
            own = _queued_export(tenant_a, django_capture_on_commit_callbacks)

    with time_machine.travel(GRACE_OVER + timedelta(days=1), tick=False):
        swept = sweep_waiting_work_task.delay(organization_id=tenant_a.organization.pk).get()

    assert swept == {"invitation_emails": 0, "data_exports": 1, "qbrs": 0, "imports": 0, "webhook_deliveries": 0}
    with tenant_a.scope():
        assert DataExport.objects.get(pk=own.pk).enqueued_at == GRACE_OVER + timedelta(days=1)
    with tenant_b.scope():
        assert DataExport.objects.get(pk=foreign.pk).enqueued_at == foreign.enqueued_at


def test_the_sweep_finds_its_rows_in_a_fixed_number_of_queries(
    tenant_a, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with time_machine.travel(T0, tick=False), tenant_a.scope():
        _queued_export(tenant_a, django_capture_on_commit_callbacks)

        # Nothing to do yet: SAVEPOINT, the locking SELECT, RELEASE.
        with django_assert_num_queries(3):
            reporting.sweep_waiting_exports(now=T0)
        # SAVEPOINT, the locking SELECT, one UPDATE of the requeued rows, RELEASE.
        with django_assert_num_queries(4), django_capture_on_commit_callbacks(execute=False):
            reporting.sweep_waiting_exports(now=GRACE_OVER)


# --- The sweep: imports, QBRs, invitation emails -----------------------------------------------------------


def test_an_import_whose_worker_died_runs_once_after_the_sweep(tenant_a, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        job = _queued_import(tenant_a, django_capture_on_commit_callbacks, rows=3)
        work.claim(ImportJob, job.pk, now=T0)

        with django_capture_on_commit_callbacks(execute=True):
            swept = import_jobs.sweep(now=LEASE_OVER)
        again = import_jobs.run(job)

        assert swept == work.Swept(requeued=1, given_up=0)
        assert (again.status, again.created, again.attempts) == (ImportStatus.SUCCEEDED, 3, 2)
        assert sorted(Learner.objects.values_list("external_id", flat=True)) == ["HR-1", "HR-2", "HR-3"]


def test_an_import_given_up_says_why_and_imported_nothing(client, tenant_a, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        job = _queued_import(tenant_a, django_capture_on_commit_callbacks)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.RUNNING, attempts=work.MAX_ATTEMPTS, locked_until=T0
        )

        swept = import_jobs.sweep(now=LEASE_OVER)
        job.refresh_from_db()
    client.force_login(tenant_a.user(Role.OWNER))
    page = client.get(org_url(tenant_a, "scheduling:import_job", pk=job.pk)).content.decode()

    assert swept == work.Swept(requeued=0, given_up=1)
    assert (job.status, job.created, job.errors) == (ImportStatus.FAILED, 0, [])
    assert "Nothing was imported: The worker doing this import stopped 3 times before it finished" in page
    assert "hx-get" not in page


def test_a_qbr_whose_render_was_never_enqueued_is_rendered_by_the_sweep(tenant_a, django_capture_on_commit_callbacks):
    engagement = finished_q1(tenant_a)
    with tenant_a.scope():
        with django_capture_on_commit_callbacks(execute=False):  # the broker took no message
            (review,) = reporting.generate_due_qbrs(engagement=engagement)

        later = review.enqueued_at + work.QUEUED_GRACE + timedelta(seconds=1)
        with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
            swept = reporting.sweep_waiting_qbrs(now=later)
        review.refresh_from_db()

        assert swept == work.Swept(requeued=1, given_up=0)
        assert (review.status, review.attempts) == (QbrStatus.READY, 1)
        assert AuditEvent.objects.filter(action="qbr.ready").count() == 1


def test_a_qbr_whose_worker_died_too_often_fails_with_the_reason_on_its_row(
    client, tenant_a, django_capture_on_commit_callbacks
):
    engagement = finished_q1(tenant_a)
    with tenant_a.scope():
        with django_capture_on_commit_callbacks(execute=False):
            (review,) = reporting.generate_due_qbrs(engagement=engagement)
        QuarterlyReview.objects.filter(pk=review.pk).update(attempts=work.MAX_ATTEMPTS, locked_until=T0)

        swept = reporting.sweep_waiting_qbrs(now=LEASE_OVER)
        review.refresh_from_db()
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    row = client.get(org_url(tenant_a, "reporting:qbr_row", pk=review.pk), HTTP_HX_REQUEST="true").content.decode()

    assert swept == work.Swept(requeued=0, given_up=1)
    assert review.status == QbrStatus.FAILED
    assert 'Failed</span> <span class="hint">The worker doing this QBR stopped 3 times' in row


def _invite(tenant, django_capture_on_commit_callbacks, email: str = "late@example.test") -> Invitation:
    with django_capture_on_commit_callbacks(execute=False):  # the broker took no message
        return services.invite_member(
            organization=tenant.organization, invited_by=tenant.user(Role.OWNER), email=email, role=Role.VIEWER
        )


def test_an_invitation_email_whose_enqueue_failed_is_sent_once_by_the_sweep(
    tenant_a, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False), tenant_a.scope():
        invitation = _invite(tenant_a, django_capture_on_commit_callbacks)

        with django_capture_on_commit_callbacks(execute=True):
            swept = services.sweep_invitation_emails(now=GRACE_OVER)
        services.send_invitation_email(invitation)  # e.g. the original message, delivered late
        invitation.refresh_from_db()

        assert swept == work.Swept(requeued=1, given_up=0)
        assert [message.to for message in mail.outbox] == [["late@example.test"]]
        assert (invitation.email_status, invitation.email_sent_at, invitation.email_attempts) == (
            EmailStatus.SENT,
            T0,
            1,
        )


def test_an_invitation_revoked_before_its_email_went_is_not_sent(tenant_a, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        invitation = _invite(tenant_a, django_capture_on_commit_callbacks)
        services.revoke_invitation(invitation=invitation, actor=tenant_a.user(Role.OWNER))

        sent = services.send_invitation_email(invitation)

        assert (sent.email_status, mail.outbox) == (EmailStatus.CANCELLED, [])


@override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=1)
def test_an_invitation_email_the_mail_server_refused_waits_for_the_next_sweep(
    tenant_a, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False), tenant_a.scope():
        invitation = _invite(tenant_a, django_capture_on_commit_callbacks)

        refused = services.send_invitation_email(invitation)

        assert (refused.email_status, refused.email_locked_until, refused.email_enqueued_at) == (
            EmailStatus.QUEUED,
            None,
            T0,
        )
        assert refused.email_error.startswith("ConnectionRefusedError")


def test_an_invitation_email_given_up_shows_on_the_members_page(client, tenant_a, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        invitation = _invite(tenant_a, django_capture_on_commit_callbacks)
        Invitation.objects.filter(pk=invitation.pk).update(
            email_status=EmailStatus.SENDING, email_attempts=work.MAX_ATTEMPTS, email_locked_until=T0
        )

        swept = services.sweep_invitation_emails(now=LEASE_OVER)
    client.force_login(tenant_a.user(Role.OWNER))
    page = client.get(org_url(tenant_a, "org:members")).content.decode()

    assert swept == work.Swept(requeued=0, given_up=1)
    assert 'late@example.test <span class="hint">(not sent: The worker doing the invitation email stopped 3' in page


# --- Pages and beat -----------------------------------------------------------------------------------------


def test_an_export_queued_past_the_notice_says_it_waits_for_a_worker(
    client, tenant_a, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False), tenant_a.scope():
        export = _queued_export(tenant_a, django_capture_on_commit_callbacks)
    client.force_login(tenant_a.user(Role.OWNER))
    url = org_url(tenant_a, "reporting:data_export", pk=export.pk)

    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        fresh = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        delayed = client.get(url, HTTP_HX_REQUEST="true").content.decode()

    assert "Queued…" in fresh
    assert "Waiting for a worker" not in fresh
    assert "Waiting for a worker, queued at" in delayed
    assert "<progress" not in delayed
    assert 'hx-trigger="every 1s"' in delayed  # it still turns into progress once a worker starts


def test_an_import_queued_past_the_notice_says_so_on_its_page_and_in_the_list(
    client, tenant_a, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False), tenant_a.scope():
        job = _queued_import(tenant_a, django_capture_on_commit_callbacks)
    client.force_login(tenant_a.user(Role.OWNER))

    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        page = client.get(org_url(tenant_a, "scheduling:import_job", pk=job.pk)).content.decode()
        listing = client.get(org_url(tenant_a, "scheduling:imports")).content.decode()

    assert f'Waiting for a worker, queued at <time datetime="{T0.isoformat()}">09:00</time>. The import starts' in page
    assert '<span class="badge badge--amber">Waiting for a worker</span>' in listing


def test_a_qbr_whose_render_waits_says_so_in_its_row(client, tenant_a, django_capture_on_commit_callbacks):
    engagement = finished_q1(tenant_a)
    with time_machine.travel(T0, tick=False), tenant_a.scope(), django_capture_on_commit_callbacks(execute=False):
        (review,) = reporting.generate_due_qbrs(engagement=engagement)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        row = client.get(org_url(tenant_a, "reporting:qbr_row", pk=review.pk), HTTP_HX_REQUEST="true").content.decode()

    assert '<span class="badge">waiting for a worker</span>' in row
    assert 'hx-trigger="every 2s"' in row


def test_the_sweep_runs_every_minute_on_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["waiting-work-sweep"]

    assert entry["task"] == "mls.tasks.dispatch_waiting_work_sweep"
    assert str(entry["schedule"]) == "<crontab: * * * * * (m/h/dM/MY/d)>"
