"""Writes of the reporting domain: the data-portability export (requested by an owner, built by Celery).

Progress lives in the cache, as for imports (scheduling.import_jobs): the archive is read inside one snapshot
transaction, and progress written to the export row from there would stay invisible to the polling page.
"""

import hashlib
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from mls.enums import Permission
from mls.models import Membership, Organization
from mls.services import record_audit

from . import portability
from .enums import ExportStatus
from .models import DataExport
from .tasks import build_data_export_task

logger = logging.getLogger(__name__)

PROGRESS_TTL_SECONDS = 60 * 60
EXPORT_FIELDS = ("status", "size", "sha256", "error")


def progress_key(export: DataExport) -> str:
    return f"mls:export-progress:{export.organization_id}:{export.pk}"


def progress(export: DataExport) -> tuple[int, int]:
    """(tables done, tables in all) of a running export."""
    return cache.get(progress_key(export), (0, 0))


@transaction.atomic
def request_portability_export(*, organization: Organization, membership: Membership) -> DataExport:
    """Queue an export of all the organization's data; one at a time, so a double click does not build two."""
    if not membership.has_permission(Permission.EXPORT_ALL_DATA):
        raise ValidationError("Only owners export all of the organization's data.")
    Organization.objects.select_for_update().get(pk=organization.pk)  # serializes concurrent requests
    if DataExport.objects.filter(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).exists():
        raise ValidationError("An export is already being built: wait for it to finish.")
    export = DataExport.objects.create(organization=organization, requested_by=membership.user)
    record_audit(organization=organization, actor=membership.user, action="export.requested", obj=export)
    transaction.on_commit(lambda: build_data_export_task.delay(organization_id=organization.pk, export_id=export.pk))
    return export


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of every table: a REPEATABLE READ transaction on PostgreSQL (inside an enclosing
    transaction, e.g. a test's, that one's view is used)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _sha256(handle: File) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def build_portability_export(export: DataExport) -> DataExport:
    """Build the ZIP (Celery) into default storage; idempotent: only a queued export is built, once."""
    claimed = DataExport.objects.filter(pk=export.pk, status=ExportStatus.QUEUED).update(status=ExportStatus.RUNNING)
    if not claimed:  # already built or building (a retried or duplicated task)
        return DataExport.objects.get(pk=export.pk)
    export.refresh_from_db()
    organization = export.organization
    requested_by = export.requested_by.email if export.requested_by else ""

    def report(done: int, total: int) -> None:
        cache.set(progress_key(export), (done, total), PROGRESS_TTL_SECONDS)

    try:
        with tempfile.TemporaryFile() as spool:
            with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive, _snapshot():
                manifest = portability.write_archive(archive, organization, requested_by=requested_by, progress=report)
            export.sha256 = _sha256(spool)
            export.size = spool.seek(0, 2)
            spool.seek(0)
            local_day = timezone.localdate(timezone=ZoneInfo(organization.timezone))
            export.file.save(f"mls-{organization.slug}-data-{local_day:%Y-%m-%d}.zip", File(spool), save=False)
    except Exception as error:  # any failure must end the run visibly, not leave it "running" forever
        logger.exception("Data export %s of organization %s failed", export.pk, organization.pk)
        export.status, export.error = ExportStatus.FAILED, f"{type(error).__name__}: {error}"
    else:
        export.status, export.row_counts = ExportStatus.SUCCEEDED, portability.row_counts(manifest)
    export.finished_at = timezone.now()
    with transaction.atomic():
        export.save(update_fields=["status", "file", "size", "sha256", "row_counts", "error", "finished_at"])
        record_audit(
            organization=organization,
            actor=None,
            action="export.succeeded" if export.status == ExportStatus.SUCCEEDED else "export.failed",
            obj=export,
            after={name: getattr(export, name) for name in EXPORT_FIELDS},
        )
    cache.delete(progress_key(export))
    return export
