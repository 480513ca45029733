"""Import jobs: the user-facing flow around scheduling.imports (upload → preview → run in Celery → result).

Progress lives in the cache, not the job row: the import writes inside one transaction, and progress written in
that transaction would stay invisible to the page polling it until the very end.

A queued job is waiting work (mls.work): the worker claims the job, holds its row while the import's transaction
runs (the rows and the job's result commit together), and the periodic sweep re-sends a job whose message was lost
or whose worker died, so a started import finishes exactly once.
"""

import csv
import io
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mls import work
from mls.celery import enqueue_after_commit
from mls.enums import Permission
from mls.models import Membership, Organization, User
from slas.tasks import recompute_organization_slas_task

from . import imports
from .models import ImportJob, ImportStatus
from .tasks import run_import_task

PREVIEW_ROWS = 10
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PROGRESS_TTL_SECONDS = 60 * 60


def progress_key(job: ImportJob) -> str:
    return f"mls:import-progress:{job.organization_id}:{job.pk}"


def progress(job: ImportJob) -> tuple[int, int]:
    """(rows done, rows total) of a running import."""
    return cache.get(progress_key(job), (0, job.total_rows))


def decode_upload(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError("The file is not UTF-8 text: export it from your spreadsheet as CSV UTF-8.") from error


def _data_rows(text: str) -> int:
    """The rows below the header, or a ValidationError naming the first row (header = 1) that cannot be stored
    (a NUL character: PostgreSQL text cannot hold one) or read as CSV (e.g. a cell over the csv module's limit),
    or a header too wide to preview."""
    number = 0
    has_nul = "\x00" in text
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number == 1 and len(record) > imports.MAX_COLUMNS:
                raise ValidationError(
                    f"The header has {len(record):,} columns; a file has at most {imports.MAX_COLUMNS}."
                )
            if has_nul and any("\x00" in cell for cell in record):
                raise ValidationError(f"Row {number} contains a NUL character, which cannot be stored; remove it.")
    except csv.Error as error:
        raise ValidationError(f"Row {number + 1} cannot be read as CSV ({error}).") from error
    return max(number - 1, 0)


@transaction.atomic
def upload(*, organization: Organization, membership: Membership, kind: str, filename: str, text: str) -> ImportJob:
    if kind not in imports.SHEETS:
        raise ValidationError({"kind": "Choose what the file contains."})
    if not membership.has_permission(Permission.IMPORT_DATA):
        raise ValidationError("Only owners and provider account managers import delivery data.")
    total = _data_rows(text)
    job = ImportJob.objects.create(
        organization=organization,
        kind=kind,
        filename=filename[:200],
        content=text,
        total_rows=total,
        created_by=membership.user,
        provider_id=membership.provider_id,
    )
    job.log_action("import.uploaded", actor=membership.user)
    return job


def preview(job: ImportJob) -> tuple[list[str], list[list[str]]]:
    """Header and the first rows, as the user's spreadsheet shows them."""
    reader = csv.reader(io.StringIO(job.content))
    header = next(reader, [])
    return header, [row for _, row in zip(range(PREVIEW_ROWS), reader, strict=False)]


@transaction.atomic
def start(*, job: ImportJob, membership: Membership, now: datetime | None = None) -> ImportJob:
    """Queue an uploaded job: by an importer of the side that uploaded it (the views 404 the other side's)."""
    now = now or timezone.now()
    if not membership.has_permission(Permission.IMPORT_DATA) or job.provider_id != membership.provider_id:
        raise ValidationError("Only importers of the side that uploaded this file start it.")
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportStatus.UPLOADED:
        raise ValidationError(f"This import is already {job.get_status_display().lower()}.")
    job.status, job.enqueued_at = ImportStatus.QUEUED, now
    job.save(update_fields=["status", "enqueued_at"])
    job.log_action("import.started", actor=membership.user)
    _enqueue(job)
    return job


def _enqueue(job: ImportJob) -> None:
    enqueue_after_commit(run_import_task, organization_id=job.organization_id, job_id=job.pk)


def run(job: ImportJob, *, now: datetime | None = None) -> ImportJob:
    """Run the import (Celery); all-or-nothing, so a failed job wrote nothing but its error list. Claimed first
    (mls.work): a job already run, or running on another worker, is left alone."""
    claimed = work.claim(ImportJob, job.pk, now=now or timezone.now())
    if claimed is None:
        return ImportJob.objects.get(pk=job.pk)

    def report(done: int, total: int) -> None:
        cache.set(progress_key(claimed), (done, total), PROGRESS_TTL_SECONDS)

    actor = User.objects.filter(pk=claimed.created_by_id).first()

    def import_rows(job: ImportJob) -> None:
        try:
            result = imports.import_csv(
                kind=job.kind, organization=job.organization, text=job.content, actor=actor, progress=report
            )
        except PermissionDenied as refused:  # the uploader lost the right (or left) since uploading
            result = imports.ImportResult(created=0, updated=0, errors=[imports.RowError(1, "", str(refused))])
        job.errors = [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors]
        job.created, job.updated = result.created, result.updated
        job.status = ImportStatus.FAILED if result.errors else ImportStatus.SUCCEEDED
        _finish(job)
        if job.status == ImportStatus.SUCCEEDED and (result.created or result.updated):
            # Imported delivery changes the open months' service levels: measure them now, not at the hourly run.
            enqueue_after_commit(recompute_organization_slas_task, organization_id=job.organization_id)

    # A bug ends the job visibly (nothing was written) rather than retrying it.
    work.run(claimed, import_rows, give_up=_give_up, what="Import job")
    cache.delete(progress_key(claimed))
    return ImportJob.objects.get(pk=claimed.pk)


def _give_up(job: ImportJob, error: str) -> None:
    job.status, job.error, job.created, job.updated = ImportStatus.FAILED, error, 0, 0
    _finish(job)


def _finish(job: ImportJob) -> None:
    job.finished_at, job.locked_until = timezone.now(), None
    job.save(update_fields=["errors", "created", "updated", "status", "error", "finished_at", "locked_until"])


def sweep(*, now: datetime) -> work.Swept:
    """Re-send the started jobs whose message was lost or whose worker died; after work.MAX_ATTEMPTS a job fails
    with that reason (nothing was imported), and the uploader can upload the file again."""
    return work.sweep(ImportJob, now=now, enqueue=_enqueue, give_up=_give_up, what="this import")
