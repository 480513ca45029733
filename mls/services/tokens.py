"""API tokens: created for an integrator, revoked with their creator, last use noted."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mls.audit import save_audited
from mls.enums import Permission
from mls.models import ApiToken, Membership, Organization, Provider, User
from mls.tenancy import organization_scope

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
        raise ValidationError(_("Only owners create API tokens."))
    organization = membership.organization
    if provider is not None and provider.organization_id != organization.pk:
        raise ValidationError({"provider": _("Choose a provider of this organization.")})
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
    save_audited(token, actor=membership.user, action="api_token.created", changes={})
    return token, raw


@transaction.atomic
def revoke_api_token(*, token: ApiToken, membership: Membership, now: datetime | None = None) -> ApiToken:
    if not membership.has_permission(Permission.MANAGE_API_TOKENS):
        raise ValidationError(_("Only owners revoke API tokens."))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError(_("This token is already revoked."))
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
