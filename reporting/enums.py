"""Statuses of generated reports."""

from django.db import models


class QbrStatus(models.TextChoices):
    GENERATING = "generating", "Generating…"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
