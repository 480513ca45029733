"""Writes of the tenancy core: organizations, members, invitations. Each use case is atomic and audited."""

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql import InsertQuery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from . import work
from .celery import enqueue_after_commit
from .enums import EmailStatus, Permission, Role
from .mail import email_after_commit, send_email
from .models import (
    INVITATION_VALID_FOR,
    ApiToken,
    AuditEvent,
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


# --- Audit -------------------------------------------------------------------------------------


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The audited state of `instance`: FKs as ids, so the log does not depend on related rows surviving."""
    return {name: getattr(instance, instance._meta.get_field(name).attname) for name in fields}


# The API token of the call being served, if any: every audit event written meanwhile names it, whichever service
# writes the event, so no service needs to be told how it was called.
_calling_token: ContextVar[ApiToken | None] = ContextVar("mls_calling_token", default=None)


@contextmanager
def writing_with_token(token: ApiToken | None) -> Iterator[None]:
    """Attribute every audit event written inside to `token` (the API's authentication enters this for a call)."""
    previous = _calling_token.set(token)
    try:
        yield
    finally:
        _calling_token.reset(previous)


def audit_event(
    *,
    organization: Organization,
    actor: User | None,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """The (unsaved) record of `actor` doing `action` to `obj`, with the API token of the call when there is one."""
    token = _calling_token.get()
    return AuditEvent(
        organization=organization,
        actor=actor,
        actor_label=actor.email if actor else "",
        token=token if token is not None and token.organization_id == organization.pk else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=before,
        after=after,
    )


def record_audit(
    *,
    organization: Organization,
    actor: User | None,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = audit_event(organization=organization, actor=actor, action=action, obj=obj, before=before, after=after)
    event.save()
    return event


def create_audited(objs: list[models.Model], events: list[AuditEvent]) -> None:
    """Insert new rows of one model together with the audit events that record them (one per row, in the same
    order; each gets its row's new id as object_id), all or nothing.

    On PostgreSQL both are one statement (the rows' INSERT in a WITH clause, the events inserted from what it
    returns), atomic by itself: an API call that creates one row needs no transaction around it, so no BEGIN and
    COMMIT round trips. The rows get their primary keys (and database defaults) as `bulk_create` gives them; the
    events are written but not read back (their ids stay None). Elsewhere: `bulk_create` of the rows, then of
    the events, in one transaction.
    """
    if len(objs) != len(events):
        raise ValueError(f"{len(objs)} rows need {len(objs)} audit events, not {len(events)}.")
    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=connection.alias):
            type(objs[0]).objects.bulk_create(objs)
            for obj, event in zip(objs, events, strict=True):
                event.object_id = str(obj.pk)
            AuditEvent.objects.using(connection.alias).bulk_create(events)
        return
    # Inside a transaction the statement gets a savepoint, so a refused insert leaves that transaction usable.
    with transaction.atomic(using=connection.alias) if connection.in_atomic_block else nullcontext():
        _insert_with_events(connection, objs, events)


def _insert_with_events(connection: BaseDatabaseWrapper, objs: list[models.Model], events: list[AuditEvent]) -> None:
    """`WITH "rows" AS (INSERT ... RETURNING ...), audit_event AS (INSERT ... SELECT ...) SELECT * FROM "rows"`:
    the events are numbered as the VALUES of the rows, and joined to what the INSERT returns by that number: its
    RETURNING gives the rows in the order of its VALUES (what `bulk_create` itself relies on to give ids)."""
    model = type(objs[0])
    opts = model._meta
    for obj in objs:
        if obj.pk is not None or not obj._state.adding:
            raise ValueError(f"{obj!r} is not a new row.")
        obj._prepare_related_fields_for_save(operation_name="create_audited")
    event_sql, event_params = _events_from_rows_sql(connection, opts.pk.column, events)
    prefixed = []

    def with_events(execute: Callable, sql: str, params: Sequence, many: bool, context: dict) -> object:
        prefixed.append(sql)
        statement = f'WITH "rows" AS ({sql}), {event_sql} SELECT * FROM "rows"'  # noqa: S608 - SQL of ours, bound values
        return execute(statement, (*params, *event_params), many, context)

    with connection.execute_wrapper(with_events):
        returned = _insert_query(model, objs).get_compiler(connection=connection).execute_sql(opts.db_returning_fields)
    if len(prefixed) != 1 or len(returned) != len(objs):  # one statement, or the events were not in it
        raise RuntimeError(f"Expected one INSERT of {len(objs)} rows, ran {len(prefixed)} returning {len(returned)}.")
    for obj, values, event in zip(objs, returned, events, strict=True):
        for field, value in zip(opts.db_returning_fields, values, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias
        event.object_id = str(obj.pk)


def _events_from_rows_sql(
    connection: BaseDatabaseWrapper, pk_column: str, events: list[AuditEvent]
) -> tuple[str, tuple]:
    """The `audit_event` CTE of `_insert_with_events`: every column of the events from their values, but
    object_id, which is the id of the row of the same number."""
    quote = connection.ops.quote_name
    fields = [f for f in AuditEvent._meta.concrete_fields if not isinstance(f, models.AutoField)]
    values, params = [], []
    for number, event in enumerate(events, start=1):
        casts = [f"CAST(%s AS {field.db_type(connection)})" for field in fields if field.attname != "object_id"]
        values.append(f"({number}, {', '.join(casts)})")
        event.object_id = ""
        for field in fields:
            if field.attname != "object_id":
                params.append(field.get_db_prep_save(field.pre_save(event, add=True), connection))
    given = [quote(field.column) for field in fields if field.attname != "object_id"]
    # Names from the models, values bound as parameters.
    sql = (
        f"audit_event AS (INSERT INTO {quote(AuditEvent._meta.db_table)} ({', '.join(given)}, {quote('object_id')}) "  # noqa: S608
        f"SELECT {', '.join(f'e.{column}' for column in given)}, r.id::text "
        f'FROM (SELECT {quote(pk_column)} AS id, row_number() OVER () AS n FROM "rows") r '
        f"JOIN (VALUES {', '.join(values)}) AS e(n, {', '.join(given)}) USING (n))"
    )
    return sql, tuple(params)


def _insert_query(model: type[models.Model], objs: list[models.Model]) -> InsertQuery:
    """The INSERT of new `objs`, of the columns `bulk_create` writes for rows without a primary key."""
    query = InsertQuery(model)
    fields = [f for f in model._meta.concrete_fields if not f.generated and not isinstance(f, models.AutoField)]
    query.insert_values(fields, objs)
    return query


def audit_change(
    actor: User | None, action: str, obj: models.Model, fields: Iterable[str], before: dict[str, Any] | None = None
) -> AuditEvent:
    """Audit `obj`'s new state (its `fields`), with the state `before` the change when there was one."""
    return record_audit(
        organization=obj.organization, actor=actor, action=action, obj=obj, before=before, after=snapshot(obj, fields)
    )


def save_audited(
    obj: models.Model, *, actor: User | None, action: str, fields: Iterable[str], changes: dict[str, Any]
) -> models.Model:
    """Apply `changes` to a new or stored row, validate it whole (constraints included), save, and audit its
    `fields` before → after (a new row has no before)."""
    fields = tuple(fields)
    # "Before" is read from the database: a bound ModelForm has already copied the new values onto `obj`.
    before = None if obj._state.adding else snapshot(type(obj)._default_manager.get(pk=obj.pk), fields)
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    audit_change(actor, action, obj, fields, before)
    return obj


MEMBERSHIP_FIELDS = ("user", "role", "provider")
INVITATION_FIELDS = ("email", "role", "provider", "expires_at", "accepted_at", "revoked_at")


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
    record_audit(
        organization=organization,
        actor=owner,
        action="organization.created",
        obj=organization,
        after=snapshot(organization, ("name", "slug", "timezone", "currency", "holiday_country")),
    )
    record_audit(
        organization=organization,
        actor=owner,
        action="member.added",
        obj=membership,
        after=snapshot(membership, MEMBERSHIP_FIELDS),
    )
    return organization


ORGANIZATION_SETTINGS_FIELDS = (
    "name",
    "timezone",
    "currency",
    "holiday_country",
    "holiday_subdivision",
    "mfa_required",
    "mfa_required_roles",
)


@transaction.atomic
def update_organization_settings(*, organization: Organization, actor: User, **changes: object) -> Organization:
    """An owner edits the organization's settings (its calendar, currency, two-factor requirement), audited before
    → after; the slug stays, so links and API integrations keep working."""
    before = snapshot(Organization.objects.select_for_update().get(pk=organization.pk), ORGANIZATION_SETTINGS_FIELDS)
    for name, value in changes.items():
        setattr(organization, name, value)
    organization.full_clean()
    organization.save()
    record_audit(
        organization=organization,
        actor=actor,
        action="organization.updated",
        obj=organization,
        before=before,
        after=snapshot(organization, ORGANIZATION_SETTINGS_FIELDS),
    )
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
    *, organization: Organization, invited_by: User, email: str, role: str, provider: Provider | None = None
) -> Invitation:
    """Invite `email` with `role`; re-inviting replaces the open invitation (fresh link, fresh expiry)."""
    email = email.strip().lower()
    _check_provider_for_role(organization, role, provider)
    if Membership.objects.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organization.name}."})
    for previous in Invitation.objects.select_for_update().filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ):
        _revoke(previous, actor=invited_by)
    now = timezone.now()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        provider=provider,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + INVITATION_VALID_FOR,
    )
    record_audit(
        organization=organization,
        actor=invited_by,
        action="invitation.created",
        obj=invitation,
        after=snapshot(invitation, INVITATION_FIELDS),
    )
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


def _revoke(invitation: Invitation, *, actor: User) -> None:
    before = snapshot(invitation, INVITATION_FIELDS)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record_audit(
        organization=invitation.organization,
        actor=actor,
        action="invitation.revoked",
        obj=invitation,
        before=before,
        after=snapshot(invitation, INVITATION_FIELDS),
    )


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, actor: User) -> None:
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError(f"This invitation is {invitation.status.label.lower()} and cannot be revoked.")
    _revoke(invitation, actor=actor)


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user: User) -> Membership:
    """Turn a pending invitation into a membership for the invited email's user."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError(f"This invitation is {invitation.status.label.lower()}.")
    if user.email.lower() != invitation.email:
        raise ValidationError(f"This invitation was sent to {invitation.email}; you are signed in as {user.email}.")
    before = snapshot(invitation, INVITATION_FIELDS)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record_audit(
        organization=invitation.organization,
        actor=user,
        action="invitation.accepted",
        obj=invitation,
        before=before,
        after=snapshot(invitation, INVITATION_FIELDS),
    )
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization,
        user=user,
        defaults={"role": invitation.role, "provider": invitation.provider},
    )
    if created:
        record_audit(
            organization=invitation.organization,
            actor=user,
            action="member.added",
            obj=membership,
            after=snapshot(membership, MEMBERSHIP_FIELDS),
        )
    return membership


# --- Members -----------------------------------------------------------------------------------


def _ensure_another_owner_remains(membership: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(role=Role.OWNER).exclude(pk=membership.pk)
    if membership.role == Role.OWNER and not owners.exists():
        raise ValidationError("An organization needs at least one owner; make someone else owner first.")


@transaction.atomic
def change_member_role(*, membership: Membership, role: str, provider: Provider | None, actor: User) -> Membership:
    """A demoted owner's API tokens are revoked with the change: they act with an owner's rights, and making the
    member owner again must not bring them back."""
    _check_provider_for_role(membership.organization, role, provider)
    if role != Role.OWNER:
        _ensure_another_owner_remains(membership)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _revoke_tokens_created_by(membership.user, membership.organization, actor=actor)
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    membership.role = role
    membership.provider = provider
    membership.save(update_fields=["role", "provider"])
    record_audit(
        organization=membership.organization,
        actor=actor,
        action="member.role_changed",
        obj=membership,
        before=before,
        after=snapshot(membership, MEMBERSHIP_FIELDS),
    )
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, actor: User) -> None:
    """The member's API tokens go with them (and stay revoked should they be invited back)."""
    _ensure_another_owner_remains(membership)
    _revoke_tokens_created_by(membership.user, membership.organization, actor=actor)
    record_audit(
        organization=membership.organization,
        actor=actor,
        action="member.removed",
        obj=membership,
        before=snapshot(membership, MEMBERSHIP_FIELDS),
    )
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


def mark_notifications_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


# --- API tokens --------------------------------------------------------------------------------

API_TOKEN_PREFIX = "mls_"  # noqa: S105 - the marker of every token, not a secret
API_TOKEN_FIELDS = ("name", "prefix", "scope", "provider", "revoked_at")
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
    audit_change(membership.user, "api_token.created", token, API_TOKEN_FIELDS)
    return token, raw


@transaction.atomic
def revoke_api_token(*, token: ApiToken, membership: Membership) -> ApiToken:
    if not membership.has_permission(Permission.MANAGE_API_TOKENS):
        raise ValidationError("Only owners revoke API tokens.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError("This token is already revoked.")
    return _revoke_token(token, actor=membership.user)


def _revoke_token(token: ApiToken, *, actor: User | None) -> ApiToken:
    """Revoke a live token the caller has locked, audited."""
    before = snapshot(token, API_TOKEN_FIELDS)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_change(actor, "api_token.revoked", token, API_TOKEN_FIELDS, before)
    return token


def _revoke_tokens_created_by(user: User, organization: Organization, *, actor: User | None) -> None:
    """Revoke, each audited, the live tokens `user` created in `organization`."""
    with organization_scope(organization):
        for token in ApiToken.objects.select_for_update().filter(created_by=user, revoked_at__isnull=True):
            _revoke_token(token, actor=actor)


@transaction.atomic
def deactivate_user(*, user: User, actor: User | None) -> None:
    """A person who leaves signs in no more, and every API token they created, in any organization, is revoked:
    a token acts with its creator's rights, and reactivating the account must not bring the tokens back."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    holding = Organization.objects.filter(
        mls_apitoken__created_by=user, mls_apitoken__revoked_at__isnull=True
    ).distinct()
    for organization in holding:
        _revoke_tokens_created_by(user, organization, actor=actor)


def note_api_token_use(token: ApiToken) -> None:
    """Keep "last used" for the owners' list; written at most once a minute so requests stay read-only."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
