"""Import jobs: the user-facing flow around scheduling.imports (upload → preview → run in Celery → result).

Progress lives in the cache, not the job row: the import writes inside one transaction, and progress written in
that transaction would stay invisible to the page polling it until the very end.

A queued job is waiting work (mls.work): the worker claims the job, holds its row while the import's transaction
runs (the rows and the job's result commit together), and the periodic sweep re-sends a job whose message was lost
or whose worker died, so a started import finishes exactly once.

Files uploaded together are a batch (one `batch` key): each is its own job, previewed together and started together
by one click, then imported in dependency order (imports.IMPORT_ORDER) in one transaction, all or none: a later
file names rows of the earlier ones, so a failed file leaves the batch unwritten and each job says why. The batch
runs on whichever of its jobs a worker claims first; that worker locks the others (see `_run_batch`).
"""

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

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
        raise ValidationError(_("The file is not UTF-8 text: export it from your spreadsheet as CSV UTF-8.")) from error


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
                    _("The header has %(count)s columns; a file has at most %(max)s.")
                    % {"count": number_format(len(record), force_grouping=True), "max": imports.MAX_COLUMNS}
                )
            if has_nul and any("\x00" in cell for cell in record):
                raise ValidationError(
                    _("Row %(row)s contains a NUL character, which cannot be stored; remove it.") % {"row": number}
                )
    except csv.Error as error:
        raise ValidationError(
            _("Row %(row)s cannot be read as CSV (%(error)s).") % {"row": number + 1, "error": error}
        ) from error
    return max(number - 1, 0)


DETECT = ""  # the kind of an upload whose files' kinds are read from their headers


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    text: str


def detected_kind(file: UploadedFile) -> str:
    """The one sheet whose required columns the file's header holds, or a ValidationError naming the file."""
    header = next(csv.reader(io.StringIO(file.text, newline="")), [])
    kinds = imports.kinds_of(header)
    if len(kinds) == 1:
        return kinds[0]
    if kinds:
        raise ValidationError(
            _("%(file)s: its columns fit %(kinds)s; upload it alone and choose what it contains.")
            % {"file": file.filename, "kinds": _(" and ").join(kinds)}
        )
    raise ValidationError(
        _("%(file)s: its columns are not those of any sheet; download a template below to see the columns.")
        % {"file": file.filename}
    )


@transaction.atomic
def upload(*, organization: Organization, membership: Membership, kind: str, filename: str, text: str) -> ImportJob:
    """One file, of `kind` (or DETECT: read from its header)."""
    if kind == DETECT:
        try:
            kind = detected_kind(UploadedFile(filename, text))
        except ValidationError as error:
            raise ValidationError({"file": error.messages}) from error
    if kind not in imports.SHEETS:
        raise ValidationError({"kind": _("Choose what the file contains.")})
    if not membership.has_permission(Permission.IMPORT_DATA):
        raise ValidationError(_("Only owners and provider account managers import delivery data."))
    job = _job(organization, membership, kind, UploadedFile(filename, text), _data_rows(text), batch=None)
    job.log_action("import.uploaded", actor=membership.user)
    return job


def _job(
    organization: Organization,
    membership: Membership,
    kind: str,
    file: UploadedFile,
    total: int,
    *,
    batch: uuid.UUID | None,
) -> ImportJob:
    return ImportJob.objects.create(
        organization=organization,
        kind=kind,
        batch=batch,
        filename=file.filename[:200],
        content=file.text,
        total_rows=total,
        created_by=membership.user,
        provider_id=membership.provider_id,
        language=translation.get_language() or "",  # the uploader's: the worker writes the errors in it
    )


@transaction.atomic
def upload_batch(
    *, organization: Organization, membership: Membership, kind: str, files: Sequence[UploadedFile]
) -> uuid.UUID:
    """Several files as one batch: each its own job, of `kind` or (DETECT) the kind its header says. Every file is
    read first; a file that cannot be read or whose kind is unknown or ambiguous stores nothing of the batch, and
    every such file is named in the error."""
    if kind != DETECT and kind not in imports.SHEETS:
        raise ValidationError({"kind": _("Choose what the files contain.")})
    if not membership.has_permission(Permission.IMPORT_DATA):
        raise ValidationError(_("Only owners and provider account managers import delivery data."))
    read, problems = [], []
    for file in files:
        try:
            read.append((detected_kind(file) if kind == DETECT else kind, file, _data_rows(file.text)))
        except ValidationError as error:
            named = _("%(file)s: %(problem)s")
            problems += [
                m if m.startswith(f"{file.filename}:") else named % {"file": file.filename, "problem": m}
                for m in error.messages
            ]
    if problems:
        raise ValidationError({"file": problems})
    batch = uuid.uuid4()
    for file_kind, file, total in read:
        job = _job(organization, membership, file_kind, file, total, batch=batch)
        job.log_action("import.uploaded", actor=membership.user)
    return batch


def in_order(jobs: Sequence[ImportJob]) -> list[ImportJob]:
    """A batch's jobs in the order they are imported: by kind (imports.IMPORT_ORDER), then as uploaded."""
    return sorted(jobs, key=lambda job: (imports.IMPORT_ORDER.index(job.kind), job.created_at, job.pk))


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
        raise ValidationError(_("Only importers of the side that uploaded this file start it."))
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.batch:
        raise ValidationError(_("This file was uploaded with others: import them together from the batch's page."))
    if job.status != ImportStatus.UPLOADED:
        raise ValidationError(_("This import is already %(status)s.") % {"status": job.get_status_display().lower()})
    _queue(job, membership, now)
    _enqueue(job)
    return job


def _queue(job: ImportJob, membership: Membership, now: datetime) -> None:
    job.status, job.enqueued_at = ImportStatus.QUEUED, now
    job.save(update_fields=["status", "enqueued_at"])
    job.log_action("import.started", actor=membership.user)


@transaction.atomic
def start_batch(*, jobs: Sequence[ImportJob], membership: Membership, now: datetime | None = None) -> list[ImportJob]:
    """Queue every job of an uploaded batch (the views 404 the other side's); the first in order is sent to a
    worker, which imports them all (a lost message: the sweep re-sends any of them, and any one runs the batch)."""
    now = now or timezone.now()
    if not membership.has_permission(Permission.IMPORT_DATA) or any(
        job.provider_id != membership.provider_id for job in jobs
    ):
        raise ValidationError(_("Only importers of the side that uploaded these files start them."))
    locked = in_order(work.locking(ImportJob).filter(pk__in=[job.pk for job in jobs]))
    if not locked or any(job.status != ImportStatus.UPLOADED for job in locked):
        raise ValidationError(_("These files are already imported or being imported."))
    for job in locked:
        _queue(job, membership, now)
    _enqueue(locked[0])
    return locked


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
        result = _import(job, actor, report)
        job.errors = [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors]
        job.created, job.updated = result.created, result.updated
        job.status = ImportStatus.FAILED if result.errors else ImportStatus.SUCCEEDED
        _finish(job)
        if job.status == ImportStatus.SUCCEEDED and (result.created or result.updated):
            # Imported delivery changes the open months' service levels: measure them now, not at the hourly run.
            enqueue_after_commit(recompute_organization_slas_task, organization_id=job.organization_id)

    # A bug ends the job visibly (nothing was written) rather than retrying it. Errors are in the uploader's language.
    with translation.override(claimed.language or None):
        if claimed.batch:
            work.run(claimed, lambda job: _run_batch(job, actor), give_up=_give_up_batch, what="Import batch")
        else:
            work.run(claimed, import_rows, give_up=_give_up, what="Import job")
    cache.delete(progress_key(claimed))
    return ImportJob.objects.get(pk=claimed.pk)


def _import(job: ImportJob, actor: User | None, report: imports.Progress | None) -> imports.ImportResult:
    try:
        return imports.import_csv(
            kind=job.kind, organization=job.organization, text=job.content, actor=actor, progress=report
        )
    except PermissionDenied as refused:  # the uploader lost the right (or left) since uploading
        return imports.ImportResult(created=0, updated=0, errors=[imports.RowError(1, "", str(refused))])


class _BatchRefused(Exception):
    """A file of the batch has errors: roll back the files imported before it."""


def _run_batch(held: ImportJob, actor: User | None) -> None:
    """Import every job of `held`'s batch in order, in this transaction (a savepoint for the rows), all or none.

    Two workers may claim two jobs of one batch (a re-sent message). Only the one holding the first job waits for
    the others' locks; any other first tries the first job without waiting and, finding it held, leaves the batch
    to that worker (its own job is finished there once this transaction ends). So no two workers wait on each other.
    """
    members = in_order(ImportJob.objects.filter(batch=held.batch).defer("content"))
    lead = members[0]
    if lead.pk != held.pk and work.locking(ImportJob, skip_locked=True).filter(pk=lead.pk).first() is None:
        return
    jobs = {job.pk: job for job in work.locking(ImportJob).filter(batch=held.batch).order_by("pk")}
    jobs = in_order(list(jobs.values()))
    if any(job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING) for job in jobs):
        return  # finished already, by the worker that held it
    results: dict[int, imports.ImportResult] = {}
    failed: ImportJob | None = None
    try:
        with transaction.atomic():
            for job in jobs:

                def report(done: int, total: int, job: ImportJob = job) -> None:
                    cache.set(progress_key(job), (done, total), PROGRESS_TTL_SECONDS)

                results[job.pk] = _import(job, actor, report)
                if results[job.pk].errors:
                    failed = job
                    raise _BatchRefused
    except _BatchRefused:
        pass
    for job in jobs:
        result = results.get(job.pk)
        job.created, job.updated, job.errors = 0, 0, []
        if failed is None:
            job.status, job.created, job.updated = ImportStatus.SUCCEEDED, result.created, result.updated
        elif job is failed:
            job.status = ImportStatus.FAILED
            job.errors = [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors]
        else:
            job.status = ImportStatus.FAILED
            job.error = (
                _("%(file)s has errors, and files uploaded together are imported together or not at all.")
                if result
                else _("this file was not checked: %(file)s, which comes before it, has errors.")
            ) % {"file": failed.filename}
        _finish(job)
        cache.delete(progress_key(job))
    if failed is None and any(result.created or result.updated for result in results.values()):
        enqueue_after_commit(recompute_organization_slas_task, organization_id=held.organization_id)


def _give_up_batch(job: ImportJob, error: str) -> None:
    """A bug or a dying worker ends the whole batch: nothing of it was kept. A job another worker holds is left to
    it (that worker finishes the batch)."""
    for member in (
        work.locking(ImportJob, skip_locked=True)
        .filter(batch=job.batch)
        .exclude(status__in=(ImportStatus.SUCCEEDED, ImportStatus.FAILED))
    ):
        _give_up(member, error)


def _give_up(job: ImportJob, error: str) -> None:
    job.status, job.error, job.created, job.updated = ImportStatus.FAILED, error, 0, 0
    _finish(job)


def _finish(job: ImportJob) -> None:
    job.finished_at, job.locked_until = timezone.now(), None
    job.save(update_fields=["errors", "created", "updated", "status", "error", "finished_at", "locked_until"])


def sweep(*, now: datetime) -> work.Swept:
    """Re-send the started jobs whose message was lost or whose worker died; after work.MAX_ATTEMPTS a job fails
    with that reason (nothing was imported), and the uploader can upload the file again."""
    return work.sweep(ImportJob, now=now, enqueue=_enqueue, give_up=_give_up_any, what="this import")


def _give_up_any(job: ImportJob, error: str) -> None:
    (_give_up_batch if job.batch else _give_up)(job, error)
