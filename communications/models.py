"""Learner communications: each message to a learner is a row (waiting work, mls.work) with what was sent and how
it went; organizations may replace the default wording of each kind per language."""

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from mls.enums import Language
from mls.models import Lease, LeasedWork, TenantModel

from .enums import LEARNER_KINDS, MessageKind, MessageStatus

DEFAULT_REMINDER_OFFSETS = [7, 1]
REMINDER_OFFSET_RANGE = (1, 60)  # days before the session


def default_reminder_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


class LearnerMessage(LeasedWork, TenantModel):
    """One email to a learner (or, kind `test`, to a member trying a template), rendered when it was queued, sent by
    a worker once (claimed, swept when its message is lost). Attachments are stored with it so a resend is the same
    email: `[{"filename", "mimetype", "content"}]` (text), or `"content_base64"` for binary files."""

    learner = models.ForeignKey(
        "scheduling.Learner", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    enrollment = models.ForeignKey(
        "scheduling.Enrollment", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    # A completion email carries the completion's certificate, rendered by the worker when it sends (never in the
    # request that recorded the completion; a revoked certificate is left off).
    completion = models.ForeignKey(
        "scheduling.Completion", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=MessageKind.choices)
    offset_days = models.PositiveSmallIntegerField(_("days before"), null=True, blank=True)
    to = models.EmailField(_("to"))
    cc = models.EmailField(_("copy to"), blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    lease: ClassVar[Lease] = Lease(queued=MessageStatus.QUEUED, running=MessageStatus.SENDING)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "locked_until", "enqueued_at"],
                condition=Q(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]),
                name="communications_message_waiting",
            ),
            models.Index(fields=["organization", "learner", "-created_at"], name="communications_message_learner"),
            models.Index(fields=["organization", "session", "-created_at"], name="communications_message_session"),
        ]
        constraints = [
            *TenantModel.Meta.constraints,
            # A reminder beat job that runs twice (or two workers at once) sends each reminder once.
            models.UniqueConstraint(
                fields=["organization", "enrollment", "offset_days"],
                condition=Q(kind=MessageKind.REMINDER),
                name="communications_one_reminder_per_offset",
            ),
            models.CheckConstraint(
                condition=Q(kind=MessageKind.TEST) | Q(learner__isnull=False),
                name="communications_message_has_learner",
            ),
            models.CheckConstraint(
                condition=Q(kind=MessageKind.REMINDER, offset_days__isnull=False, enrollment__isnull=False)
                | (~Q(kind=MessageKind.REMINDER) & Q(offset_days__isnull=True)),
                name="communications_offset_iff_reminder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to}"


class MessageTemplate(TenantModel):
    """An organization's wording of one kind of message in one language (Django template syntax over a dict of
    strings: communications.rendering). Without one, the default of templates/communications/email/ is used."""

    audited_fields = ("kind", "language", "subject", "body")

    kind = models.CharField(_("kind"), max_length=40, choices=[(k.value, k.label) for k in LEARNER_KINDS])
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    updated_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["kind", "language"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "kind", "language"], name="communications_template_one_per_kind_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"


class CommunicationSettings(TenantModel):
    """When reminders go out, and which kinds are copied to the learner's line manager (Learner.manager_email)."""

    audited_fields = ("reminder_offsets", "manager_copy_kinds")

    reminder_offsets = models.JSONField(
        _("reminder days"),
        default=default_reminder_offsets,
        help_text=_("Days before a session that enrolled learners are reminded."),
    )
    manager_copy_kinds = models.JSONField(
        _("copy to the line manager"),
        default=list,
        blank=True,
        help_text=_("Kinds of message also sent to the learner's line manager, when one is recorded."),
    )

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization"], name="communications_settings_one_per_organization"),
        ]

    def __str__(self) -> str:
        return f"Communication settings of {self.organization_id}"


REMINDER_OFFSET_VALIDATORS = [MinValueValidator(REMINDER_OFFSET_RANGE[0]), MaxValueValidator(REMINDER_OFFSET_RANGE[1])]
