"""Reporting fixtures: a stored QBR revision with a small file, written straight through the ORM (no audit)."""

import hashlib
from datetime import UTC, date, datetime

from django.core.files.base import ContentFile

from engagements.models import Engagement
from reporting.enums import QbrStatus
from reporting.models import QuarterlyReview


def stored_qbr(
    engagement: Engagement, *, quarter: date = date(2026, 1, 1), revision: int = 1, content: bytes = b"%PDF-1.7 QBR"
) -> QuarterlyReview:
    """A ready revision whose file holds `content` (call inside the engagement's tenant scope)."""
    review = QuarterlyReview(
        organization=engagement.organization,
        engagement=engagement,
        quarter=quarter,
        revision=revision,
        status=QbrStatus.READY,
        sha256=hashlib.sha256(content).hexdigest(),
        pages=1,
        generated_at=datetime(2026, 4, 7, 3, 0, tzinfo=UTC),
    )
    review.file.save(
        f"{engagement.organization_id}/{engagement.pk}/qbr-r{revision}.pdf", ContentFile(content), save=False
    )
    review.save()
    return review
