"""Learner communications (issue 21 item 1): the one entry point every part of MLS calls to write to a learner
(`queue_learner_message`), the worker that sends a message once, its sweep, the reminder job, and the
organization's wording and settings.

A message is a row (mls.work): written in the caller's transaction with what it says, so a rolled-back write
sends nothing and a committed one is sent after the commit by a worker; a failing send marks the row failed and
never fails the write that caused it.
"""

import base64
import logging
import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from certificates.services import CertificateRevoked, certificate_attachment
from mls import work
from mls.celery import enqueue_after_commit
from mls.enums import Language, Permission
from mls.mail import header_safe
from mls.models import Membership
from scheduling.calendars import session_invitation, session_uid
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.models import Completion, Enrollment, Learner, Session

from . import rendering, selectors
from .enums import (
    LEARNER_KINDS,
    OPTIONAL_KINDS,
    UPCOMING_SESSION_KINDS,
    CalendarMethod,
    MessageKind,
    MessageStatus,
)
from .models import REMINDER_OFFSET_RANGE, CommunicationSettings, LearnerMessage, MessageTemplate
from .tasks import send_learner_message_task

logger = logging.getLogger(__name__)

Attachment = tuple[str, str | bytes, str]  # (filename, content, mimetype), as EmailMessage.attach takes them

_CALENDAR_METHODS = {
    MessageKind.ENROLLMENT_CONFIRMATION: CalendarMethod.REQUEST,
    MessageKind.WAITLIST_PROMOTION: CalendarMethod.REQUEST,
    MessageKind.SESSION_CHANGED: CalendarMethod.REQUEST,
    MessageKind.SESSION_CANCELLED: CalendarMethod.CANCEL,
}
_SENT_FIELDS = ["status", "locked_until", "sent_at", "error", "enqueued_at"]


def queue_learner_message(
    *,
    kind: str,
    learner: Learner,
    enrollment: Enrollment | None = None,
    session: Session | None = None,
    completion: Completion | None = None,
    context: Mapping[str, object] | None = None,
    attachments: Iterable[Attachment] = (),
    now: datetime | None = None,
) -> LearnerMessage | None:
    """Write a message to `learner` in their language, with times in their zone, and send it after the commit.

    None when nothing is to be sent: an optional kind to a learner who opted out (OPTIONAL_KINDS), a message about
    a session that has ended by `now` (history is not news), or a reminder already written for that enrollment and
    offset (`context["days_before"]`). A session's invitation (.ics) is attached to the kinds that place the learner
    on it (REQUEST) or take it away (CANCEL); `attachments` adds others (e.g. a certificate). `context` adds
    template variables (strings), e.g. `survey_url`. Call inside the writing transaction."""
    now = now or timezone.now()
    context = dict(context or {})
    session = session or (enrollment.session if enrollment is not None else None)
    if kind in OPTIONAL_KINDS and learner.optional_messages_opted_out:
        return None
    if kind in UPCOMING_SESSION_KINDS and (session is None or session.ends_at <= now):
        return None
    options = selectors.communication_settings()
    zone = rendering.learner_zone(learner, session)
    with translation.override(learner.language):
        strings = rendering.message_strings(
            learner=learner,
            session=session,
            enrollment=enrollment,
            organization_name=learner.organization.name,
            zone=zone,
            extra=context,
        )
        subject, body = _render(kind, learner.language, strings)
    stored = [_stored(*attachment) for attachment in attachments]
    if session is not None and kind in _CALENDAR_METHODS:
        stored.insert(0, _invitation(session, method=_CALENDAR_METHODS[kind], attendee=learner.email))
    message = LearnerMessage(
        organization_id=learner.organization_id,
        learner=learner,
        enrollment=enrollment,
        session=session,
        completion=completion,
        kind=kind,
        offset_days=int(context["days_before"]) if kind == MessageKind.REMINDER else None,
        to=learner.email,
        cc=learner.manager_email if kind in options.manager_copy_kinds else "",
        subject=subject,
        body=body,
        language=learner.language,
        attachments=stored,
        created_at=now,
        enqueued_at=now,
    )
    if kind == MessageKind.REMINDER:
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:  # another run of the reminder job wrote it first
            return None
    else:
        message.save()
    _enqueue(message)
    return message


def _render(kind: str, language: str, strings: Mapping[str, str]) -> tuple[str, str]:
    """The organization's wording of `kind` in `language`, or the default one, filled in with `strings`."""
    own = selectors.message_template(kind, language)
    subject, body = (own.subject, own.body) if own else rendering.default_wording(kind, language)
    return _filled(subject, body, strings)


def _filled(subject: str, body: str, strings: Mapping[str, str]) -> tuple[str, str]:
    subject = header_safe(rendering.render_wording(subject, strings))
    body = re.sub(r"\n{3,}", "\n\n", rendering.render_wording(body, strings).strip()) + "\n"
    return subject, body


def _lineage(session: Session) -> tuple[int, int]:
    """The first session of `session`'s reschedule chain and how many replacements lie between: the invitation
    keeps that first session's UID so a learner's calendar moves the event instead of adding another."""
    first, depth = session, 0
    while first.replaces_id is not None:
        first, depth = first.replaces, depth + 1
    return first.pk, depth


def _invitation(session: Session, *, method: str, attendee: str) -> dict[str, str]:
    first, depth = _lineage(session)
    # Each replacement and each cancellation is a newer version of the one event (0, cancelled 1, moved 2, …).
    sequence = 2 * depth + (1 if method == CalendarMethod.CANCEL else 0)
    content = session_invitation(
        session,
        method=method,
        uid=session_uid(session.organization_id, first),
        sequence=sequence,
        organizer=parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        attendee=attendee,
    )
    filename = "cancel.ics" if method == CalendarMethod.CANCEL else "invite.ics"
    return {"filename": filename, "mimetype": f"text/calendar; method={method}", "content": content.decode()}


def _stored(filename: str, content: str | bytes, mimetype: str) -> dict[str, str]:
    if isinstance(content, bytes):
        return {"filename": filename, "mimetype": mimetype, "content_base64": base64.b64encode(content).decode()}
    return {"filename": filename, "mimetype": mimetype, "content": content}


def _enqueue(message: LearnerMessage) -> None:
    enqueue_after_commit(send_learner_message_task, organization_id=message.organization_id, message_id=message.pk)


def send_learner_message(message_id: int, *, now: datetime | None = None) -> LearnerMessage | None:
    """Send message `message_id` once (the Celery task, after the commit): the worker claims the row (mls.work), so
    a duplicated or swept "look now" sends nothing more. A refused or unreachable mail server marks it failed with
    the reason, shown in the message log."""
    now = now or timezone.now()
    claimed = work.claim(LearnerMessage, message_id, now=now)
    if claimed is None:
        return LearnerMessage.objects.filter(pk=message_id).first()
    with transaction.atomic():
        message = work.hold(claimed)
        if message is None:  # the lease ran out and another worker has it now
            return LearnerMessage.objects.get(pk=message_id)
        message.locked_until = None
        try:
            _email(message).send()
        except Exception as error:  # SMTP refused, unreachable or timed out: the log says so
            logger.warning("Learner message %s could not be sent", message.pk, exc_info=True)
            message.status, message.error = MessageStatus.FAILED, f"{type(error).__name__}: {error}"
        else:
            message.status, message.sent_at, message.error = MessageStatus.SENT, now, ""
        message.save(update_fields=_SENT_FIELDS)
    return message


def _email(message: LearnerMessage) -> EmailMessage:
    email = EmailMessage(
        subject=header_safe(message.subject), body=message.body, to=[message.to], cc=[message.cc] if message.cc else []
    )
    for attachment in message.attachments:
        email.attach(_mime_part(attachment))
    if message.completion is not None:
        with suppress(CertificateRevoked):  # a member withdrew it since: the email says the course is complete
            email.attach(*certificate_attachment(message.completion))
    return email


def _mime_part(attachment: Mapping[str, str]) -> MIMEBase:
    """One stored attachment as a MIME part, its content type's parameters kept (text/calendar's `method`, which
    mail clients read to show an invitation or a cancellation)."""
    content_type, *parameters = (part.strip() for part in attachment["mimetype"].split(";"))
    main, sub = content_type.split("/", 1)
    if "content" in attachment:
        part: MIMEBase = MIMEText(attachment["content"], sub, "utf-8")
    else:
        part = MIMEBase(main, sub)
        part.set_payload(attachment["content_base64"])
        part["Content-Transfer-Encoding"] = "base64"
    for parameter in parameters:
        name, _sep, value = parameter.partition("=")
        part.set_param(name.strip(), value.strip())
    part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
    return part


def _give_up(message: LearnerMessage, error: str) -> None:
    message.status, message.error, message.locked_until = MessageStatus.FAILED, error, None
    message.save(update_fields=_SENT_FIELDS)


def sweep_learner_messages(*, now: datetime) -> work.Swept:
    """Re-send messages whose "look now" was lost (the broker was down at the commit) or whose worker died."""
    return work.sweep(LearnerMessage, now=now, enqueue=_enqueue, give_up=_give_up, what=_("the learner's email"))


def queue_due_reminders(*, now: datetime) -> int:
    """The reminders that have come due in this organization: for each offset (days before), the learners enrolled
    on a confirmed session starting within that day. Run hourly; a run that repeats an earlier one (or overlaps
    it) writes nothing twice (the reminder's unique constraint). Returns how many were written."""
    written = 0
    for days in sorted(set(selectors.communication_settings().reminder_offsets)):
        reminded = LearnerMessage.objects.filter(enrollment=OuterRef("pk"), kind=MessageKind.REMINDER, offset_days=days)
        due = (
            Enrollment.objects.filter(
                status=EnrollmentStatus.ENROLLED,
                session__status=SessionStatus.CONFIRMED,
                session__starts_at__gt=now + timedelta(days=days - 1),
                session__starts_at__lte=now + timedelta(days=days),
                learner__optional_messages_opted_out=False,
            )
            .filter(~Exists(reminded))
            .select_related("learner__organization", "session__course", "session__room__venue", "session__engagement")
            .order_by("session__starts_at", "pk")
        )
        for enrollment in due:
            message = queue_learner_message(
                kind=MessageKind.REMINDER,
                learner=enrollment.learner,
                enrollment=enrollment,
                session=enrollment.session,
                context={"days_before": days},
                now=now,
            )
            written += message is not None
    return written


@transaction.atomic
def set_learner_preferences(
    *, membership: Membership, learner: Learner, language: str, timezone: str, optional_messages_opted_out: bool
) -> Learner:
    """The learner's language, zone and opt-out, as the learner asked; kept by whoever keeps learner records
    (Permission.IMPORT_DATA: on the web learners are created by importing them)."""
    if not membership.has_permission(Permission.IMPORT_DATA):
        raise PermissionDenied
    learner = Learner.objects.select_for_update().get(pk=learner.pk)
    wanted = {
        "language": language,
        "timezone": timezone.strip(),
        "optional_messages_opted_out": optional_messages_opted_out,
    }
    changes = {
        name: (getattr(learner, name), value) for name, value in wanted.items() if getattr(learner, name) != value
    }
    if changes:
        for name, (_before, after) in changes.items():
            setattr(learner, name, after)
        learner.full_clean()
        learner.save(update_fields=list(changes))
        learner.log_action("learner.preferences_changed", actor=membership.user, extra=changes)
    return learner


# --- the organization's wording and settings ------------------------------------------------------------------


def require_communications_manager(membership: Membership, _obj: object = None) -> None:
    """Who edits what learners are sent: the organization's settings holders (Permission.MANAGE_ORGANIZATION)."""
    if not membership.has_permission(Permission.MANAGE_ORGANIZATION):
        raise PermissionDenied


def _check_kind_and_language(kind: str, language: str) -> None:
    if kind not in LEARNER_KINDS or language not in Language.values:
        raise ValidationError(_("There is no such message."))


def _check_wording(subject: str, body: str) -> None:
    errors = {}
    for field, source in (("subject", subject), ("body", body)):
        try:
            rendering.check_wording(source)
        except Exception as error:  # TemplateSyntaxError and the few others a broken tag raises
            errors[field] = _("This is not a template MLS can fill in: %(error)s") % {"error": error}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_message_template(
    *, membership: Membership, kind: str, language: str, subject: str, body: str, now: datetime | None = None
) -> MessageTemplate:
    """Replace the default wording of `kind` in `language` with the organization's own."""
    require_communications_manager(membership)
    _check_kind_and_language(kind, language)
    _check_wording(subject, body)
    template = MessageTemplate.objects.select_for_update().filter(kind=kind, language=language).first()
    created = template is None
    if created:
        template = MessageTemplate(organization=membership.organization, kind=kind, language=language)
    template.subject, template.body, template.updated_at = subject.strip(), body, now or timezone.now()
    template.save()
    template.log_action("message_template.created" if created else "message_template.changed", actor=membership.user)
    return template


@transaction.atomic
def reset_message_template(*, membership: Membership, kind: str, language: str) -> None:
    """Go back to the default wording of `kind` in `language`."""
    require_communications_manager(membership)
    template = MessageTemplate.objects.filter(kind=kind, language=language).first()
    if template is not None:
        template.log_action("message_template.reset", actor=membership.user, deleted=True)
        template.delete()


def preview_message(*, organization_name: str, language: str, subject: str, body: str) -> tuple[str, str]:
    """`subject` and `body` filled in with sample data, as a learner would read them (checked first)."""
    _check_wording(subject, body)
    with translation.override(language):
        return _filled(subject, body, rendering.sample_strings(organization_name=organization_name, language=language))


@transaction.atomic
def send_test_message(
    *, membership: Membership, language: str, subject: str, body: str, now: datetime | None = None
) -> LearnerMessage:
    """Send the wording being edited, filled in with sample data, to the member's own address (kind `test`)."""
    require_communications_manager(membership)
    now = now or timezone.now()
    subject, body = preview_message(
        organization_name=membership.organization.name, language=language, subject=subject, body=body
    )
    message = LearnerMessage.objects.create(
        organization=membership.organization,
        kind=MessageKind.TEST,
        to=membership.user.email,
        subject=subject,
        body=body,
        language=language,
        created_at=now,
        enqueued_at=now,
    )
    _enqueue(message)
    return message


@transaction.atomic
def save_communication_settings(
    *, membership: Membership, reminder_offsets: Iterable[int], manager_copy_kinds: Iterable[str]
) -> CommunicationSettings:
    require_communications_manager(membership)
    offsets = sorted(set(reminder_offsets), reverse=True)
    low, high = REMINDER_OFFSET_RANGE
    if any(not low <= days <= high for days in offsets):
        raise ValidationError(
            {"reminder_offsets": _("Remind between %(low)s and %(high)s days before.") % {"low": low, "high": high}}
        )
    kinds = sorted(set(manager_copy_kinds))
    if set(kinds) - set(LEARNER_KINDS):
        raise ValidationError({"manager_copy_kinds": _("Choose kinds of message from the list.")})
    options = CommunicationSettings.objects.select_for_update().first()
    if options is None:
        options = CommunicationSettings(organization=membership.organization)
    options.reminder_offsets, options.manager_copy_kinds = offsets, kinds
    options.save()
    options.log_action("communication_settings.changed", actor=membership.user)
    return options
