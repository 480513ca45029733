"""Generated files of the reporting domain: the organization's data-portability export."""

from django.db import models
from django.utils.timezone import now

from mls.models import TenantModel

from .enums import ExportStatus


class DataExport(TenantModel):
    """Every table of the organization as CSV and JSON in one ZIP with a manifest (the client's exit right to its
    data). Built by Celery; only the finished file, its SHA-256 and the row counts are kept here."""

    requested_by = models.ForeignKey("mls.User", on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes of the ZIP.")
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the whole ZIP, to check the download.")
    row_counts = models.JSONField(default=dict, blank=True, help_text="Rows exported per table.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
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
