"""Writes of reporting: QBR revisions and the data-portability export.

QBRs are requested (by the daily job or a member), rendered once, then kept. Requesting locks the engagement row,
so two schedulers (or a scheduler and a member) cannot both create the same revision: the second waits, then sees
what the first committed. The unique constraint on (engagement, quarter, revision) backs the lock. Rendering runs
in a Celery task enqueued after the commit; it locks the revision, renders only a revision still `generating`,
stores the PDF under a name with its revision and SHA-256, and announces `qbr.ready` (audit event in the
transaction, `mls.events` after the commit).

A data-portability export is requested by an owner and built by Celery. Its progress lives in the cache, as for
imports (scheduling.import_jobs): the archive is read inside one snapshot transaction, and progress written to the
export row from there would stay invisible to the polling page.

Both are waiting work (mls.work): the row is the truth, the broker message only a nudge. A worker claims the row,
holds it while it works, and the periodic sweep re-sends a row whose message was lost or whose worker died.
"""

import hashlib
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.models import Engagement
from mls import work
from mls.celery import enqueue_after_commit
from mls.enums import Permission
from mls.events import emit_after_commit
from mls.models import Membership, Organization, User

from . import pdf, portability, qbr
from .enums import ExportStatus, QbrStatus
from .models import DataExport, QuarterlyReview
from .tasks import build_data_export_task, render_qbr_task

logger = logging.getLogger(__name__)


def _locked(engagement: Engagement) -> Engagement:
    return Engagement.objects.select_for_update().get(pk=engagement.pk)


def _new_revision(engagement: Engagement, quarter: qbr.Quarter, actor: User | None) -> QuarterlyReview:
    """Revision N + 1 of the quarter, rendered once this transaction commits. The caller holds the lock."""
    latest = QuarterlyReview.objects.filter(engagement=engagement, quarter=quarter.first_month).aggregate(
        latest=Max("revision")
    )["latest"]
    review = QuarterlyReview.objects.create(
        organization=engagement.organization,
        engagement=engagement,
        quarter=quarter.first_month,
        revision=(latest or 0) + 1,
        requested_by=actor,
    )
    review.log_action("qbr.requested", actor=actor)
    _enqueue_render(review)
    return review


def _enqueue_render(review: QuarterlyReview) -> None:
    enqueue_after_commit(render_qbr_task, organization_id=review.organization_id, qbr_id=review.pk)


@transaction.atomic
def regenerate_qbr(*, engagement: Engagement, quarter: qbr.Quarter, actor: User) -> QuarterlyReview:
    """A member asks for a new revision of a finished quarter (e.g. after a late correction); earlier revisions
    stay as they are."""
    engagement = _locked(engagement)
    if not qbr.is_complete(engagement, quarter):
        raise ValidationError(
            _("%(quarter)s is not finalized yet: download the draft instead.") % {"quarter": quarter.label}
        )
    if QuarterlyReview.objects.filter(engagement=engagement, status=QbrStatus.GENERATING).exists():
        raise ValidationError(_("A QBR of this engagement is being generated; wait until it is ready."))
    return _new_revision(engagement, quarter, actor)


@transaction.atomic
def generate_due_qbrs(*, engagement: Engagement) -> list[QuarterlyReview]:
    """The daily job: revision 1 of every quarter whose last period is finalized and that has no QBR yet.
    Idempotent: run twice, or by two schedulers at once, it creates each quarter's first revision once."""
    engagement = _locked(engagement)
    return [_new_revision(engagement, quarter, None) for quarter in qbr.due_quarters(engagement)]


def render_qbr(*, review: QuarterlyReview, now: datetime | None = None) -> QuarterlyReview:
    """Render a `generating` revision into its stored PDF, once: the task claims the revision first, so a finished
    revision, or one another worker is rendering, is left alone (a task retried or run twice changes nothing). A
    rendering error marks the revision failed, so the page stops waiting."""
    now = now or timezone.now()
    claimed = work.claim(QuarterlyReview, review.pk, now=now)
    if claimed is None:
        return QuarterlyReview.objects.get(pk=review.pk)
    try:
        return _render(claimed, now)
    except Exception as error:
        logger.exception("QBR %s could not be rendered", review.pk)
        return _fail(claimed, f"{type(error).__name__}: {error}")


@transaction.atomic
def _render(claimed: QuarterlyReview, now: datetime) -> QuarterlyReview:
    """Under the revision's lock until the PDF and its row commit together (a SIGKILL leaves it generating)."""
    review = work.hold(claimed)
    if review is None:
        return QuarterlyReview.objects.get(pk=claimed.pk)
    engagement = review.engagement
    content = qbr.qbr_content(engagement, qbr.Quarter(review.quarter, engagement.timezone), as_of=now, draft=False)
    document = pdf.html_to_pdf(qbr.render_html(content, revision=review.revision))
    review.sha256 = hashlib.sha256(document.content).hexdigest()
    review.file.save(_file_name(review), ContentFile(document.content), save=False)
    review.pages = document.pages
    review.snapshot = content.snapshot()
    review.status, review.generated_at = QbrStatus.READY, now
    review.save()
    emit_after_commit(review.log_action("qbr.ready", actor=None))
    return review


@transaction.atomic
def _fail(review: QuarterlyReview, error: str) -> QuarterlyReview:
    review = QuarterlyReview.objects.select_for_update().get(pk=review.pk)
    if review.status != QbrStatus.GENERATING:
        return review
    review.status, review.error, review.locked_until = QbrStatus.FAILED, error, None
    review.save()
    review.log_action("qbr.failed", actor=None)
    return review


def sweep_waiting_qbrs(*, now: datetime) -> work.Swept:
    """Re-send the renders whose message was lost (the broker was down at the commit) or whose worker died; after
    work.MAX_ATTEMPTS the revision fails with that reason, so a member can regenerate it."""
    return work.sweep(QuarterlyReview, now=now, enqueue=_enqueue_render, give_up=_fail, what="this QBR")


def _file_name(review: QuarterlyReview) -> str:
    """Unique and self-describing (under the field's qbrs/): organization, engagement, quarter, revision and the
    first 16 hex digits of the hash."""
    quarter = review.quarter_label.replace(" ", "-")
    return f"{review.organization_id}/{review.engagement_id}/qbr-{quarter}-r{review.revision}-{review.sha256[:16]}.pdf"


PROGRESS_TTL_SECONDS = 60 * 60


def progress_key(export: DataExport) -> str:
    return f"mls:export-progress:{export.organization_id}:{export.pk}"


def progress(export: DataExport) -> tuple[int, int]:
    """(tables done, tables in all) of a running export."""
    return cache.get(progress_key(export), (0, 0))


@transaction.atomic
def request_portability_export(*, organization: Organization, membership: Membership) -> DataExport:
    """Queue an export of all the organization's data; one at a time, so a double click does not build two. An
    unfinished export refuses the next one only until the sweep has run it or given it up (mls.work), never for
    good."""
    if not membership.has_permission(Permission.EXPORT_ALL_DATA):
        raise ValidationError(_("Only owners export all of the organization's data."))
    Organization.objects.select_for_update().get(pk=organization.pk)  # serializes concurrent requests
    if DataExport.objects.filter(DataExport.lease.unfinished()).exists():
        raise ValidationError(_("An export is already being built: wait for it to finish."))
    export = DataExport.objects.create(organization=organization, requested_by=membership.user)
    export.log_action("export.requested", actor=membership.user)
    _enqueue_build(export)
    return export


def _enqueue_build(export: DataExport) -> None:
    enqueue_after_commit(build_data_export_task, organization_id=export.organization_id, export_id=export.pk)


@contextmanager
def _one_view() -> Iterator[None]:
    """One consistent view of every table: a REPEATABLE READ transaction on PostgreSQL (inside an enclosing
    transaction, e.g. a test's, that one's view is used). Not READ ONLY: it holds the export's row lock and
    stores the result, so the archive and its row commit together."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _sha256(handle: File) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def build_portability_export(export: DataExport, *, now: datetime | None = None) -> DataExport:
    """Build the ZIP (Celery) into default storage, once: the worker claims the export (mls.work), so a retried,
    duplicated or swept task finds it built or building and does nothing."""
    claimed = work.claim(DataExport, export.pk, now=now or timezone.now())
    if claimed is None:
        return DataExport.objects.get(pk=export.pk)
    work.run(claimed, _build, give_up=_give_up_export, what="Data export", within=_one_view)
    cache.delete(progress_key(claimed))
    return DataExport.objects.get(pk=claimed.pk)


def _build(export: DataExport) -> None:
    _write_zip(export, export.organization)
    export.status = ExportStatus.SUCCEEDED
    _finish(export)


def _write_zip(export: DataExport, organization: Organization) -> None:
    requested_by = export.requested_by.email if export.requested_by else ""

    def report(done: int, total: int) -> None:
        cache.set(progress_key(export), (done, total), PROGRESS_TTL_SECONDS)

    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            manifest = portability.write_archive(archive, organization, requested_by=requested_by, progress=report)
        export.sha256 = _sha256(spool)
        export.size = spool.seek(0, 2)
        spool.seek(0)
        local_day = timezone.localdate(timezone=ZoneInfo(organization.timezone))
        export.file.save(f"mls-{organization.slug}-data-{local_day:%Y-%m-%d}.zip", File(spool), save=False)
    export.row_counts = portability.row_counts(manifest)


def _give_up_export(export: DataExport, error: str) -> None:
    export.status, export.error = ExportStatus.FAILED, error
    _finish(export)


def _finish(export: DataExport) -> None:
    export.finished_at, export.locked_until = timezone.now(), None
    export.save(
        update_fields=["status", "file", "size", "sha256", "row_counts", "error", "finished_at", "locked_until"]
    )
    export.log_action("export.succeeded" if export.status == ExportStatus.SUCCEEDED else "export.failed", actor=None)


def sweep_waiting_exports(*, now: datetime) -> work.Swept:
    """Re-send the exports whose message was lost or whose worker died; after work.MAX_ATTEMPTS an export fails
    with that reason, which also lets the owner request a new one."""
    return work.sweep(DataExport, now=now, enqueue=_enqueue_build, give_up=_give_up_export, what="this export")
