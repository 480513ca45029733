"""Choices of learner communications: what a message is about, where it stands, and which kinds a learner may
refuse."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    ENROLLMENT_CONFIRMATION = "enrollment_confirmation", _("Enrollment confirmation")
    JOINING_INSTRUCTIONS = "joining_instructions", _("Joining instructions")
    REMINDER = "reminder", _("Reminder")
    WAITLIST_PROMOTION = "waitlist_promotion", _("Waitlist promotion")
    SESSION_CHANGED = "session_changed", _("Session changed")
    SESSION_CANCELLED = "session_cancelled", _("Session cancelled")
    COMPLETION = "completion", _("Completion")
    SURVEY_INVITATION = "survey_invitation", _("Survey invitation")
    TEST = "test", _("Test message")


# What a learner may opt out of (Learner.optional_messages_opted_out): prompts and requests that help them but that
# they can do without. Everything else is a notice about the learner's own place (a seat confirmed or given, a
# session moved or cancelled, training completed; mandatory training depends on them) and is always sent.
OPTIONAL_KINDS = frozenset({MessageKind.REMINDER, MessageKind.JOINING_INSTRUCTIONS, MessageKind.SURVEY_INVITATION})
MANDATORY_KINDS = frozenset(MessageKind.values) - OPTIONAL_KINDS

# Messages about a session still to come: none is written once the session has ended (an import or a late entry of
# history does not email learners about the past).
UPCOMING_SESSION_KINDS = frozenset(
    {
        MessageKind.ENROLLMENT_CONFIRMATION,
        MessageKind.JOINING_INSTRUCTIONS,
        MessageKind.REMINDER,
        MessageKind.WAITLIST_PROMOTION,
        MessageKind.SESSION_CHANGED,
        MessageKind.SESSION_CANCELLED,
    }
)

# The kinds an organization edits and may copy to the learner's line manager (a test goes to the member only).
LEARNER_KINDS = [kind for kind in MessageKind if kind != MessageKind.TEST]


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not sent")
    BOUNCED = "bounced", _("Bounced")


class CalendarMethod(models.TextChoices):
    """The iTIP method of the .ics a message carries (RFC 5546): an invitation or update, or a cancellation."""

    REQUEST = "REQUEST", "REQUEST"
    CANCEL = "CANCEL", "CANCEL"
