"""Choices of the reporting domain: QBR revisions and data exports."""

from django.db import models


class QbrStatus(models.TextChoices):
    GENERATING = "generating", "Generating…"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"
