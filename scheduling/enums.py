"""Choices of the delivery domain. Field names the SLA engine reads are fixed by SPEC-SLA §3."""

from django.db import models


class Modality(models.TextChoices):
    ILT = "ilt", "Instructor-led (classroom)"
    VILT = "vilt", "Virtual instructor-led"
    HYBRID = "hybrid", "Hybrid (classroom and virtual)"
    SELF_PACED = "self_paced", "Self-paced"


class DeliveryLanguage(models.TextChoices):
    """The language a course or session is delivered in (any the provider teaches in, not only MLS's own)."""

    EN = "en", "English"
    DE = "de", "German"
    FR = "fr", "French"
    ES = "es", "Spanish"
    IT = "it", "Italian"
    NL = "nl", "Dutch"
    PT = "pt", "Portuguese"
    PL = "pl", "Polish"
    SV = "sv", "Swedish"
    JA = "ja", "Japanese"
    ZH = "zh", "Chinese"
    AR = "ar", "Arabic"


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


class TicketStatus(models.TextChoices):
    """Whose turn it is on a support ticket. Replies move it between the two waiting states; the provider resolves,
    either side closes a resolved ticket (or reopens it while it is resolved)."""

    OPEN = "open", "Open"
    WAITING_ON_CLIENT = "waiting_on_client", "Waiting on client"
    WAITING_ON_PROVIDER = "waiting_on_provider", "Waiting on provider"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


UNRESOLVED_TICKET_STATUSES = (TicketStatus.OPEN, TicketStatus.WAITING_ON_CLIENT, TicketStatus.WAITING_ON_PROVIDER)

# Status changes a member makes by hand, to: from (replies move a ticket between the waiting states by themselves).
# Reopening is for a resolution that did not hold; a closed ticket stays closed.
TICKET_TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.RESOLVED: frozenset(UNRESOLVED_TICKET_STATUSES),
    TicketStatus.CLOSED: frozenset({TicketStatus.RESOLVED}),
    TicketStatus.WAITING_ON_PROVIDER: frozenset({TicketStatus.RESOLVED}),  # reopen
}
