"""Choices of the reporting domain."""

from django.db import models


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"
