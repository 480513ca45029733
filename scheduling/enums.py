"""Choices of the delivery domain. Field names the SLA engine reads are fixed by SPEC-SLA §3."""

from django.db import models


class Modality(models.TextChoices):
    ILT = "ilt", "Instructor-led (classroom)"
    VILT = "vilt", "Virtual instructor-led"
    HYBRID = "hybrid", "Hybrid (classroom and virtual)"
    SELF_PACED = "self_paced", "Self-paced"


class ContentOwnership(models.TextChoices):
    BESPOKE = "bespoke", "Bespoke (client-owned)"
    PROVIDER_LIBRARY = "provider_library", "Provider library (licensed)"


class SessionStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CONFIRMED = "confirmed", "Confirmed"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


# Sessions that hold their instructors and room (the exclusion constraints cover exactly these).
OCCUPYING_STATUSES = (SessionStatus.CONFIRMED, SessionStatus.DELIVERED)


class EnrollmentStatus(models.TextChoices):
    WAITLISTED = "waitlisted", "Waitlisted"
    ENROLLED = "enrolled", "Enrolled"
    CANCELLED = "cancelled", "Cancelled"
    ATTENDED = "attended", "Attended"
    NO_SHOW = "no_show", "No-show"


# Enrollments that take a seat.
SEATED_STATUSES = (EnrollmentStatus.ENROLLED, EnrollmentStatus.ATTENDED, EnrollmentStatus.NO_SHOW)


class CompletionSource(models.TextChoices):
    PROVIDER_LOG = "provider_log", "Logged by the provider"
    IMPORT = "import", "CSV import"
    API = "api", "API"
    XAPI = "xapi", "xAPI statement"


class TicketCategory(models.TextChoices):
    ENROLLMENT = "enrollment", "Enrollment"
    TECHNICAL = "technical", "Technical"
    CONTENT = "content", "Content"
    AUDIT_REQUEST = "audit_request", "Audit request"
    OTHER = "other", "Other"
