"""Generated files of the reporting domain: QBR revisions and the organization's data-portability export.

A QBR revision is created as `generating`, rendered once by a Celery task and then frozen as `ready` (or
`failed`); the model refuses any later change or deletion, so a PDF a client received can always be matched
against the stored file and hash. A new rendering is a new revision (N + 1), never an overwrite.
"""

from datetime import date
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from mls.models import Lease, LeasedWork, TenantModel

from .enums import ExportStatus, QbrStatus


class StoredRevisionError(ValidationError):
    """A finished QBR revision was about to change: regenerate it as a new revision instead."""


def quarter_label(quarter: date) -> str:
    """`quarter` is the first day of a calendar quarter: 2026-07-01 → "2026 Q3"."""
    return f"{quarter.year} Q{(quarter.month - 1) // 3 + 1}"


class QuarterlyReview(LeasedWork, TenantModel):
    """One revision of an engagement's QBR for a calendar quarter (in the engagement's timezone). While
    `generating` it is waiting work: a blank lease means waiting for a worker, a lease that a worker renders it."""

    audited_fields = ("engagement", "quarter", "revision", "status", "sha256", "pages", "generated_at")

    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="qbrs")
    quarter = models.DateField(help_text="First day of the quarter.")
    revision = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=QbrStatus.choices, default=QbrStatus.GENERATING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=now)
    file = models.FileField(upload_to="qbrs/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    pages = models.PositiveSmallIntegerField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(
        default=dict, blank=True, help_text="The finalized periods (ids, finalized_at) and totals the PDF shows."
    )
    error = models.TextField(blank=True)

    lease: ClassVar[Lease] = Lease(queued=QbrStatus.GENERATING, running=QbrStatus.GENERATING)

    class Meta(TenantModel.Meta):
        ordering = ["-quarter", "engagement", "-revision"]
        verbose_name = "QBR revision"
        indexes = [
            models.Index(
                fields=["organization", "locked_until", "enqueued_at"],
                condition=Q(status=QbrStatus.GENERATING),
                name="reporting_qbr_waiting",
            ),
        ]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "engagement", "quarter", "revision"], name="reporting_qbr_revision_once"
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="reporting_qbr_revision_from_1"),
            models.CheckConstraint(
                condition=~Q(status=QbrStatus.READY) | (~Q(sha256="") & ~Q(file="") & Q(generated_at__isnull=False)),
                name="reporting_qbr_ready_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"QBR {self.engagement} {self.quarter_label} r{self.revision}"

    @property
    def quarter_label(self) -> str:
        return quarter_label(self.quarter)

    @property
    def is_generating(self) -> bool:
        return self.status == QbrStatus.GENERATING

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored != QbrStatus.GENERATING:
                raise StoredRevisionError(f"QBR revision {self.revision} is {stored}; regenerate it as a new revision.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise StoredRevisionError("QBR revisions are kept.")


class DataExport(LeasedWork, TenantModel):
    """Every table of the organization as CSV and JSON in one ZIP with a manifest (the client's exit right to its
    data). Built by Celery; only the finished file, its SHA-256 and the row counts are kept here."""

    audited_fields = ("status", "size", "sha256", "error")

    requested_by = models.ForeignKey("mls.User", on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes of the ZIP.")
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the whole ZIP, to check the download.")
    row_counts = models.JSONField(default=dict, blank=True, help_text="Rows exported per table.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)

    lease: ClassVar[Lease] = Lease(queued=ExportStatus.QUEUED, running=ExportStatus.RUNNING)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "locked_until", "enqueued_at"],
                condition=Q(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]),
                name="reporting_dataexport_waiting",
            ),
        ]
        constraints = [
            *TenantModel.Meta.constraints,
            models.CheckConstraint(
                condition=~models.Q(status=ExportStatus.SUCCEEDED) | (~models.Q(file="") & ~models.Q(sha256="")),
                name="reporting_dataexport_ready_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"Data export of {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.SUCCEEDED, ExportStatus.FAILED)
