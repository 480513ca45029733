"""Invitations: the signed link, its email (sent once, swept when lost), revoking and accepting."""

import logging
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mls import work
from mls.celery import enqueue_after_commit
from mls.enums import EmailStatus, Role
from mls.mail import send_email
from mls.models import INVITATION_VALID_FOR, Invitation, InvitationStatus, Membership, Organization, Provider, User
from mls.tasks import send_invitation_email_task

logger = logging.getLogger(__name__)

INVITATION_TOKEN_SALT = "mls.invitation"  # noqa: S105 - a signing namespace, not a secret


def _check_provider_for_role(organization: Organization, role: str, provider: Provider | None) -> None:
    if role == Role.PROVIDER_MANAGER and provider is None:
        raise ValidationError({"provider": _("A provider account manager must be linked to a provider.")})
    if role != Role.PROVIDER_MANAGER and provider is not None:
        raise ValidationError({"provider": _("Only provider account managers are linked to a provider.")})
    if provider is not None and provider.organization_id != organization.pk:
        raise ValidationError({"provider": _("Choose a provider of this organization.")})


def invitation_token(invitation: Invitation) -> str:
    """A signed, unforgeable token naming the tenant, so acceptance can enter the right scope.

    Not timestamped: expiry and revocation live on the Invitation row.
    """
    return signing.Signer(salt=INVITATION_TOKEN_SALT).sign_object({"o": invitation.organization_id, "i": invitation.pk})


def read_invitation_token(token: str) -> tuple[int, int] | None:
    try:
        data = signing.Signer(salt=INVITATION_TOKEN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return int(data["o"]), int(data["i"])


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("invitation_accept", kwargs={"token": invitation_token(invitation)})


@transaction.atomic
def invite_member(
    *,
    organization: Organization,
    invited_by: User,
    email: str,
    role: str,
    provider: Provider | None = None,
    now: datetime | None = None,
) -> Invitation:
    """Invite `email` with `role`; re-inviting replaces the open invitation (fresh link, fresh expiry)."""
    now = now or timezone.now()
    email = email.strip().lower()
    _check_provider_for_role(organization, role, provider)
    if Membership.objects.filter(user__email__iexact=email).exists():
        raise ValidationError(
            {
                "email": _("%(email)s is already a member of %(organization)s.")
                % {"email": email, "organization": organization.name}
            }
        )
    for previous in Invitation.objects.select_for_update().filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ):
        _revoke(previous, actor=invited_by, now=now)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        provider=provider,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + INVITATION_VALID_FOR,
    )
    invitation.log_action("invitation.created", actor=invited_by)
    _enqueue_invitation_email(invitation)
    return invitation


def _enqueue_invitation_email(invitation: Invitation) -> None:
    enqueue_after_commit(
        send_invitation_email_task, organization_id=invitation.organization_id, invitation_id=invitation.pk
    )


INVITATION_EMAIL_FIELDS = ["email_status", "email_locked_until", "email_sent_at", "email_error", "email_enqueued_at"]


def send_invitation_email(invitation: Invitation, *, now: datetime | None = None) -> Invitation:
    """Email the invitation link, once (the Celery task, after the invitation committed). The worker claims the
    email first (mls.work), so a duplicated or swept message sends nothing more; an invitation revoked or accepted
    before a worker got to it is not sent. A failed send waits for the sweep to try again, work.MAX_ATTEMPTS
    times in all."""
    now = now or timezone.now()
    claimed = work.claim(Invitation, invitation.pk, now=now)
    if claimed is None:
        return Invitation.objects.get(pk=invitation.pk)
    with transaction.atomic():
        invitation = work.hold(claimed)
        if invitation is None:  # the lease ran out and another worker has it now
            return Invitation.objects.get(pk=claimed.pk)
        invitation.email_locked_until = None
        if invitation.status != InvitationStatus.PENDING:
            invitation.email_status = EmailStatus.CANCELLED
        else:
            _send_invitation(invitation, now)
        invitation.save(update_fields=INVITATION_EMAIL_FIELDS)
    return invitation


def _send_invitation(invitation: Invitation, now: datetime) -> None:
    context = {"invitation": invitation, "organization": invitation.organization, "url": invitation_url(invitation)}
    # The invitee has no language of their own yet: the email speaks the inviting member's.
    inviter = invitation.invited_by
    try:
        with translation.override((inviter.language if inviter else "") or settings.LANGUAGE_CODE):
            subject = _("You are invited to %(organization)s on MLS") % {"organization": invitation.organization.name}
            body = render_to_string("mls/email/invitation.txt", context)
        send_email(subject=subject, body=body, recipients=[invitation.email])
    except Exception as error:  # SMTP refused or unreachable: the sweep tries again after its grace
        logger.warning("Invitation %s could not be emailed", invitation.pk, exc_info=True)
        invitation.email_error = f"{type(error).__name__}: {error}"
        if invitation.email_attempts >= work.MAX_ATTEMPTS:
            invitation.email_status = EmailStatus.FAILED
        else:
            invitation.email_status, invitation.email_enqueued_at = EmailStatus.QUEUED, now
    else:
        invitation.email_status, invitation.email_sent_at, invitation.email_error = EmailStatus.SENT, now, ""


def _give_up_invitation_email(invitation: Invitation, error: str) -> None:
    invitation.email_status, invitation.email_error, invitation.email_locked_until = EmailStatus.FAILED, error, None
    invitation.save(update_fields=INVITATION_EMAIL_FIELDS)


def sweep_invitation_emails(*, now: datetime) -> work.Swept:
    """Re-send the invitation emails whose message was lost (the broker was down when the owner invited) or whose
    worker died; the members page shows an email that could not be sent, so the owner can invite again."""
    return work.sweep(
        Invitation,
        now=now,
        enqueue=_enqueue_invitation_email,
        give_up=_give_up_invitation_email,
        what="the invitation email",
    )


def _revoke(invitation: Invitation, *, actor: User, now: datetime) -> None:
    invitation.revoked_at = now
    invitation.save(update_fields=["revoked_at"])
    invitation.log_action("invitation.revoked", actor=actor)


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, actor: User, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError(
            _("This invitation is %(status)s and cannot be revoked.") % {"status": invitation.status.label.lower()}
        )
    _revoke(invitation, actor=actor, now=now)


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user: User, now: datetime | None = None) -> Membership:
    """Turn a pending invitation into a membership for the invited email's user."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError(_("This invitation is %(status)s.") % {"status": invitation.status.label.lower()})
    if user.email.lower() != invitation.email:
        raise ValidationError(
            _("This invitation was sent to %(invited)s; you are signed in as %(user)s.")
            % {"invited": invitation.email, "user": user.email}
        )
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    invitation.log_action("invitation.accepted", actor=user)
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization,
        user=user,
        defaults={"role": invitation.role, "provider": invitation.provider},
    )
    if created:
        membership.log_action("member.added", actor=user)
    return membership
