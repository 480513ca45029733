"""Reads of learner communications: the organization's settings and wording, and the message logs."""

from django.db.models import Q, QuerySet

from mls.models import Membership
from scheduling.models import Learner, Session

from .models import CommunicationSettings, LearnerMessage, MessageTemplate


def communication_settings() -> CommunicationSettings:
    """The current organization's settings; unsaved defaults (reminders 7 and 1 days before, no copies) if it has
    none yet."""
    return CommunicationSettings.objects.first() or CommunicationSettings()


def message_templates() -> dict[tuple[str, str], MessageTemplate]:
    """The organization's own wordings by (kind, language)."""
    return {(t.kind, t.language): t for t in MessageTemplate.objects.all()}


def message_template(kind: str, language: str) -> MessageTemplate | None:
    return MessageTemplate.objects.filter(kind=kind, language=language).first()


def _log(messages: QuerySet[LearnerMessage], membership: Membership) -> QuerySet[LearnerMessage]:
    """Newest first. A provider's account manager sees the messages about its provider's sessions only (and none of
    those about no session, e.g. another provider's completion), as it sees only those sessions."""
    if membership.is_provider_side:
        messages = messages.filter(Q(session__engagement__provider=membership.provider_id))
    return messages.order_by("-created_at", "-id")


def messages_for_learner(learner: Learner, membership: Membership) -> QuerySet[LearnerMessage]:
    return _log(LearnerMessage.objects.filter(learner=learner), membership)


def messages_for_session(session: Session, membership: Membership) -> QuerySet[LearnerMessage]:
    return _log(LearnerMessage.objects.filter(session=session).select_related("learner"), membership)
