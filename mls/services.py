"""Writes of the tenancy core: organizations, members, invitations. Each use case is atomic and audited."""

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from . import work

# Re-exported for scheduling/imports.py, until it calls the models' `log_action` itself.
from .celery import enqueue_after_commit
from .enums import EmailStatus, Permission, Role
from .mail import email_after_commit, send_email
from .models import (
    INVITATION_VALID_FOR,
    ApiToken,
    Invitation,
    InvitationStatus,
    Membership,
    Notification,
    Organization,
    Provider,
    User,
)
from .tasks import send_invitation_email_task
from .tenancy import organization_scope

logger = logging.getLogger(__name__)

INVITATION_TOKEN_SALT = "mls.invitation"  # noqa: S105 - a signing namespace, not a secret


# --- Organizations -----------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_organization(*, owner: User, name: str, **settings_: str) -> Organization:
    """Create an organization with `owner` as its first owner (sign-up, or "new organization")."""
    organization = Organization(name=name.strip(), slug=_unique_slug(name), **settings_)
    organization.full_clean()
    organization.save()
    membership = Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    organization.log_action("organization.created", actor=owner)
    membership.log_action("member.added", actor=owner)
    return organization


@transaction.atomic
def update_organization_settings(*, organization: Organization, actor: User, **changes: object) -> Organization:
    """An owner edits the organization's settings (its calendar, currency, two-factor requirement), audited before
    → after; the slug stays, so links and API integrations keep working."""
    for name, value in changes.items():
        setattr(organization, name, value)
    organization.full_clean()
    organization.save()
    organization.log_action("organization.updated", actor=actor)
    return organization


@transaction.atomic
def create_pending_organization(*, user: User) -> Organization | None:
    """Create the organization `user` named at sign-up, now that their email is verified; once (the user row is
    locked, so a confirmation link opened twice at the same moment creates one)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    name = user.pending_organization_name.strip()
    if not name:
        return None
    user.pending_organization_name = ""
    user.save(update_fields=["pending_organization_name"])
    return create_organization(owner=user, name=name)


# --- Invitations -------------------------------------------------------------------------------


def _check_provider_for_role(organization: Organization, role: str, provider: Provider | None) -> None:
    if role == Role.PROVIDER_MANAGER and provider is None:
        raise ValidationError({"provider": "A provider account manager must be linked to a provider."})
    if role != Role.PROVIDER_MANAGER and provider is not None:
        raise ValidationError({"provider": "Only provider account managers are linked to a provider."})
    if provider is not None and provider.organization_id != organization.pk:
        raise ValidationError({"provider": "Choose a provider of this organization."})


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
        raise ValidationError({"email": f"{email} is already a member of {organization.name}."})
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
    try:
        send_email(
            subject=f"You are invited to {invitation.organization.name} on MLS",
            body=render_to_string("mls/email/invitation.txt", context),
            recipients=[invitation.email],
        )
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
        raise ValidationError(f"This invitation is {invitation.status.label.lower()} and cannot be revoked.")
    _revoke(invitation, actor=actor, now=now)


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user: User, now: datetime | None = None) -> Membership:
    """Turn a pending invitation into a membership for the invited email's user."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError(f"This invitation is {invitation.status.label.lower()}.")
    if user.email.lower() != invitation.email:
        raise ValidationError(f"This invitation was sent to {invitation.email}; you are signed in as {user.email}.")
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


# --- Members -----------------------------------------------------------------------------------


def _ensure_another_owner_remains(membership: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(role=Role.OWNER).exclude(pk=membership.pk)
    if membership.role == Role.OWNER and not owners.exists():
        raise ValidationError("An organization needs at least one owner; make someone else owner first.")


@transaction.atomic
def change_member_role(
    *, membership: Membership, role: str, provider: Provider | None, actor: User, now: datetime | None = None
) -> Membership:
    """A demoted owner's API tokens are revoked with the change: they act with an owner's rights, and making the
    member owner again must not bring them back."""
    now = now or timezone.now()
    _check_provider_for_role(membership.organization, role, provider)
    if role != Role.OWNER:
        _ensure_another_owner_remains(membership)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _revoke_tokens_created_by(membership.user, membership.organization, actor=actor, now=now)
    membership.role = role
    membership.provider = provider
    membership.save(update_fields=["role", "provider"])
    membership.log_action("member.role_changed", actor=actor)
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, actor: User, now: datetime | None = None) -> None:
    """The member's API tokens go with them (and stay revoked should they be invited back)."""
    now = now or timezone.now()
    _ensure_another_owner_remains(membership)
    _revoke_tokens_created_by(membership.user, membership.organization, actor=actor, now=now)
    membership.log_action("member.removed", actor=actor, deleted=True)
    membership.delete()


# --- Notifications -----------------------------------------------------------------------------


def notify(*, organization: Organization, users: Iterable[User], title: str, body: str, url: str = "") -> None:
    """Tell members something twice: an in-app notification and an email (after the transaction commits)."""
    users = list(users)
    Notification.objects.bulk_create(
        Notification(organization=organization, user=user, title=title, body=body, url=url) for user in users
    )
    link = f"\n\n{settings.SITE_URL.rstrip('/')}{url}" if url else ""
    email_after_commit(subject=title, body=body + link, recipients=[user.email for user in users])


def mark_notifications_read(*, user: User, ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=now or timezone.now())


# --- API tokens --------------------------------------------------------------------------------

API_TOKEN_PREFIX = "mls_"  # noqa: S105 - the marker of every token, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_hash(raw: str) -> str:
    """A fast hash is enough: the secret is 256 random bits, so it cannot be guessed from the hash."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *, membership: Membership, name: str, scope: str, provider: Provider | None = None
) -> tuple[ApiToken, str]:
    """Create a token for an integrator; returns it with its raw value, which is never shown again."""
    if not membership.has_permission(Permission.MANAGE_API_TOKENS):
        raise ValidationError("Only owners create API tokens.")
    organization = membership.organization
    if provider is not None and provider.organization_id != organization.pk:
        raise ValidationError({"provider": "Choose a provider of this organization."})
    raw = f"{API_TOKEN_PREFIX}{organization.pk}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        organization=organization,
        name=name.strip(),
        prefix=raw[: len(f"{API_TOKEN_PREFIX}{organization.pk}_") + 6],
        secret_hash=api_token_hash(raw),
        scope=scope,
        provider=provider,
        created_by=membership.user,
    )
    token.full_clean()
    token.save()
    token.log_action("api_token.created", actor=membership.user)
    return token, raw


@transaction.atomic
def revoke_api_token(*, token: ApiToken, membership: Membership, now: datetime | None = None) -> ApiToken:
    if not membership.has_permission(Permission.MANAGE_API_TOKENS):
        raise ValidationError("Only owners revoke API tokens.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError("This token is already revoked.")
    return _revoke_token(token, actor=membership.user, now=now or timezone.now())


def _revoke_token(token: ApiToken, *, actor: User | None, now: datetime) -> ApiToken:
    """Revoke a live token the caller has locked, audited."""
    token.revoked_at = now
    token.save(update_fields=["revoked_at"])
    token.log_action("api_token.revoked", actor=actor)
    return token


def _revoke_tokens_created_by(user: User, organization: Organization, *, actor: User | None, now: datetime) -> None:
    """Revoke, each audited, the live tokens `user` created in `organization`."""
    with organization_scope(organization):
        for token in ApiToken.objects.select_for_update().filter(created_by=user, revoked_at__isnull=True):
            _revoke_token(token, actor=actor, now=now)


@transaction.atomic
def deactivate_user(*, user: User, actor: User | None, now: datetime | None = None) -> None:
    """A person who leaves signs in no more, and every API token they created, in any organization, is revoked:
    a token acts with its creator's rights, and reactivating the account must not bring the tokens back."""
    now = now or timezone.now()
    user.is_active = False
    user.save(update_fields=["is_active"])
    holding = Organization.objects.filter(
        mls_apitoken__created_by=user, mls_apitoken__revoked_at__isnull=True
    ).distinct()
    for organization in holding:
        _revoke_tokens_created_by(user, organization, actor=actor, now=now)


def note_api_token_use(token: ApiToken, *, now: datetime | None = None) -> None:
    """Keep "last used" for the owners' list; written at most once a minute so requests stay read-only."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
