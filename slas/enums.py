"""Statuses and kinds of the SLA engine (SPEC-SLA §2–5)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodStatus(models.TextChoices):
    PROVISIONAL = "provisional", _("Provisional")
    FINALIZED = "finalized", _("Finalized")


class MeasurementStatus(models.TextChoices):
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    INSUFFICIENT_DATA = "insufficient_data", _("Insufficient data")
    PENDING_VERIFICATION = "pending_verification", _("Pending verification")
    PROVISIONAL = "provisional", _("Provisional")


# Statuses that neither count towards nor reset a streak (SPEC-SLA §5: "insufficient_data periods skipped").
UNMEASURED = frozenset({MeasurementStatus.INSUFFICIENT_DATA, MeasurementStatus.PENDING_VERIFICATION})


class ItemOutcome(models.TextChoices):
    MET = "met", _("Met")
    FAILED = "failed", _("Failed")
    PENDING = "pending", _("Pending")


class CreditStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    EARNED_BACK = "earned_back", _("Earned back")


class EscalationLevel(models.TextChoices):
    NOTICE = "notice", _("Notice")
    FORMAL_REVIEW = "formal_review", _("Formal review")
    EXIT_RIGHT = "exit_right", _("Exit right")


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ReliefKind(models.TextChoices):
    CLIENT_CAUSED = "client_caused", _("Client-caused")
    FORCE_MAJEURE = "force_majeure", _("Force majeure")


class ReliefStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ManualStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    DISPUTED = "disputed", _("Disputed")
