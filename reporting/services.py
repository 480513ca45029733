"""Writes of reporting: QBR revisions — requested (by the daily job or a member), rendered once, then kept.

Requesting locks the engagement row, so two schedulers (or a scheduler and a member) cannot both create the
same revision: the second waits, then sees what the first committed. The unique constraint on (engagement,
quarter, revision) backs the lock. Rendering runs in a Celery task enqueued after the commit; it locks the
revision, renders only a revision still `generating`, stores the PDF under a name with its revision and SHA-256,
and announces `qbr.ready` (audit event in the transaction, `mls.events` after the commit).
"""

import hashlib
import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from engagements.models import Engagement
from mls.events import emit_after_commit
from mls.models import User
from mls.services import audit_change

from . import pdf, qbr
from .enums import QbrStatus
from .models import QuarterlyReview
from .tasks import render_qbr_task

logger = logging.getLogger(__name__)

QBR_FIELDS = ("engagement", "quarter", "revision", "status", "sha256", "pages", "generated_at")


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
    audit_change(actor, "qbr.requested", review, QBR_FIELDS)
    transaction.on_commit(lambda: render_qbr_task.delay(organization_id=engagement.organization_id, qbr_id=review.pk))
    return review


@transaction.atomic
def regenerate_qbr(*, engagement: Engagement, quarter: qbr.Quarter, actor: User) -> QuarterlyReview:
    """A member asks for a new revision of a finished quarter (e.g. after a late correction); earlier revisions
    stay as they are."""
    engagement = _locked(engagement)
    if not qbr.is_complete(engagement, quarter):
        raise ValidationError(f"{quarter.label} is not finalized yet: download the draft instead.")
    if QuarterlyReview.objects.filter(engagement=engagement, status=QbrStatus.GENERATING).exists():
        raise ValidationError("A QBR of this engagement is being generated; wait until it is ready.")
    return _new_revision(engagement, quarter, actor)


@transaction.atomic
def generate_due_qbrs(*, engagement: Engagement) -> list[QuarterlyReview]:
    """The daily job: revision 1 of every quarter whose last period is finalized and that has no QBR yet.
    Idempotent: run twice, or by two schedulers at once, it creates each quarter's first revision once."""
    engagement = _locked(engagement)
    return [_new_revision(engagement, quarter, None) for quarter in qbr.due_quarters(engagement)]


def render_qbr(*, review: QuarterlyReview, now: datetime | None = None) -> QuarterlyReview:
    """Render a `generating` revision into its stored PDF; a finished revision is left alone (a task retried or
    run twice changes nothing). A rendering error marks the revision failed, so the page stops waiting."""
    try:
        return _render(review, now or timezone.now())
    except Exception as error:
        logger.exception("QBR %s could not be rendered", review.pk)
        return _fail(review, error)


@transaction.atomic
def _render(review: QuarterlyReview, now: datetime) -> QuarterlyReview:
    review = QuarterlyReview.objects.select_for_update().select_related("engagement__organization").get(pk=review.pk)
    if review.status != QbrStatus.GENERATING:
        return review
    engagement = review.engagement
    content = qbr.qbr_content(engagement, qbr.Quarter(review.quarter, engagement.timezone), as_of=now, draft=False)
    document = pdf.html_to_pdf(qbr.render_html(content, revision=review.revision))
    review.sha256 = hashlib.sha256(document.content).hexdigest()
    review.file.save(_file_name(review), ContentFile(document.content), save=False)
    review.pages = document.pages
    review.snapshot = content.snapshot()
    review.status, review.generated_at = QbrStatus.READY, now
    review.save()
    emit_after_commit(audit_change(None, "qbr.ready", review, QBR_FIELDS))
    return review


@transaction.atomic
def _fail(review: QuarterlyReview, error: Exception) -> QuarterlyReview:
    review = QuarterlyReview.objects.select_for_update().get(pk=review.pk)
    if review.status != QbrStatus.GENERATING:
        return review
    review.status, review.error = QbrStatus.FAILED, f"{type(error).__name__}: {error}"
    review.save()
    audit_change(None, "qbr.failed", review, QBR_FIELDS)
    return review


def _file_name(review: QuarterlyReview) -> str:
    """Unique and self-describing (under the field's qbrs/): organization, engagement, quarter, revision and the
    first 16 hex digits of the hash."""
    quarter = review.quarter_label.replace(" ", "-")
    return f"{review.organization_id}/{review.engagement_id}/qbr-{quarter}-r{review.revision}-{review.sha256[:16]}.pdf"
