"""Statuses and kinds of the SLA engine (SPEC-SLA §2–5)."""

from django.db import models


class PeriodStatus(models.TextChoices):
    PROVISIONAL = "provisional", "Provisional"
    FINALIZED = "finalized", "Finalized"


class MeasurementStatus(models.TextChoices):
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    INSUFFICIENT_DATA = "insufficient_data", "Insufficient data"
    PENDING_VERIFICATION = "pending_verification", "Pending verification"
    PROVISIONAL = "provisional", "Provisional"


# Statuses that neither count towards nor reset a streak (SPEC-SLA §5: "insufficient_data periods skipped").
UNMEASURED = frozenset({MeasurementStatus.INSUFFICIENT_DATA, MeasurementStatus.PENDING_VERIFICATION})


class ItemOutcome(models.TextChoices):
    MET = "met", "Met"
    FAILED = "failed", "Failed"
    PENDING = "pending", "Pending"


class CreditStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    EARNED_BACK = "earned_back", "Earned back"


class EscalationLevel(models.TextChoices):
    NOTICE = "notice", "Notice"
    FORMAL_REVIEW = "formal_review", "Formal review"
    EXIT_RIGHT = "exit_right", "Exit right"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReliefKind(models.TextChoices):
    CLIENT_CAUSED = "client_caused", "Client-caused"
    FORCE_MAJEURE = "force_majeure", "Force majeure"


class ReliefStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ManualStatus(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting verification"
    VERIFIED = "verified", "Verified"
    DISPUTED = "disputed", "Disputed"
