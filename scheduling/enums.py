"""Choices of the delivery domain. Field names the SLA engine reads are fixed by SPEC-SLA §3."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Modality(models.TextChoices):
    ILT = "ilt", _("Instructor-led (classroom)")
    VILT = "vilt", _("Virtual instructor-led")
    HYBRID = "hybrid", _("Hybrid (classroom and virtual)")
    SELF_PACED = "self_paced", _("Self-paced")


class DeliveryLanguage(models.TextChoices):
    """The language a course or session is delivered in (any the provider teaches in, not only MLS's own)."""

    EN = "en", _("English")
    DE = "de", _("German")
    FR = "fr", _("French")
    ES = "es", _("Spanish")
    IT = "it", _("Italian")
    NL = "nl", _("Dutch")
    PT = "pt", _("Portuguese")
    PL = "pl", _("Polish")
    SV = "sv", _("Swedish")
    JA = "ja", _("Japanese")
    ZH = "zh", _("Chinese")
    AR = "ar", _("Arabic")


class ContentOwnership(models.TextChoices):
    BESPOKE = "bespoke", _("Bespoke (client-owned)")
    PROVIDER_LIBRARY = "provider_library", _("Provider library (licensed)")


class SessionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    CONFIRMED = "confirmed", _("Confirmed")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


# Sessions that hold their instructors and room (the exclusion constraints cover exactly these).
OCCUPYING_STATUSES = (SessionStatus.CONFIRMED, SessionStatus.DELIVERED)


class EnrollmentStatus(models.TextChoices):
    WAITLISTED = "waitlisted", _("Waitlisted")
    ENROLLED = "enrolled", _("Enrolled")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")


# Enrollments that take a seat.
SEATED_STATUSES = (EnrollmentStatus.ENROLLED, EnrollmentStatus.ATTENDED, EnrollmentStatus.NO_SHOW)


class CompletionSource(models.TextChoices):
    PROVIDER_LOG = "provider_log", _("Logged by the provider")
    IMPORT = "import", _("CSV import")
    API = "api", _("API")
    XAPI = "xapi", _("xAPI statement")


class TicketCategory(models.TextChoices):
    ENROLLMENT = "enrollment", _("Enrollment")
    TECHNICAL = "technical", _("Technical")
    CONTENT = "content", _("Content")
    AUDIT_REQUEST = "audit_request", _("Audit request")
    OTHER = "other", _("Other")


class TicketStatus(models.TextChoices):
    """Whose turn it is on a support ticket. Replies move it between the two waiting states; the provider resolves,
    either side closes a resolved ticket (or reopens it while it is resolved)."""

    OPEN = "open", _("Open")
    WAITING_ON_CLIENT = "waiting_on_client", _("Waiting on client")
    WAITING_ON_PROVIDER = "waiting_on_provider", _("Waiting on provider")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


UNRESOLVED_TICKET_STATUSES = (TicketStatus.OPEN, TicketStatus.WAITING_ON_CLIENT, TicketStatus.WAITING_ON_PROVIDER)

# Status changes a member makes by hand, to: from (replies move a ticket between the waiting states by themselves).
# Reopening is for a resolution that did not hold; a closed ticket stays closed.
TICKET_TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.RESOLVED: frozenset(UNRESOLVED_TICKET_STATUSES),
    TicketStatus.CLOSED: frozenset({TicketStatus.RESOLVED}),
    TicketStatus.WAITING_ON_PROVIDER: frozenset({TicketStatus.RESOLVED}),  # reopen
}

# What each import sheet holds, as the upload form and the import pages name it (the keys of imports.SHEETS).
IMPORT_KINDS: dict[str, str] = {
    "learners": _("Learners"),
    "sessions": _("Sessions"),
    "enrollments": _("Enrollments"),
    "completions": _("Completions"),
    "tickets": _("Support tickets"),
    "feedback": _("Feedback"),
    "assessment-attempts": _("Assessment attempts"),
    "compliance-assignments": _("Compliance assignments"),
    "courses": _("Courses"),
    "outages": _("Platform outages"),
}
