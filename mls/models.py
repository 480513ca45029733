"""Tenancy core: users, organizations (the tenants), providers, memberships, invitations and the audit log.

Every tenant table inherits `TenantModel`: a direct `organization` FK, a django-scopes manager that refuses
to query outside `organization_scope()`, and `organization` in every unique constraint (DESIGN.md §2).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from .audit import Audited
from .enums import ROLE_PERMISSIONS, EmailStatus, Language, Permission, Role, WebhookDeliveryStatus, WebhookEvent
from .validators import validate_currency, validate_holiday_country, validate_timezone

INVITATION_VALID_FOR = timedelta(days=14)
WORKER_DELAY_NOTICE = timedelta(seconds=20)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)


class User(AbstractUser):
    """A person; identified by email. Belongs to organizations through memberships."""

    username = None
    email = models.EmailField("email address", unique=True)
    # Named at sign-up; the organization is created (and its slug taken) only once this email is verified, so an
    # unverified sign-up reserves nothing.
    pending_organization_name = models.CharField(max_length=200, blank=True)
    # The language the member chose with the switcher; it follows them across devices. Blank: their browser's.
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


def validate_roles(value: object) -> None:
    """A list of role names (an organization setting that applies per role)."""
    if not isinstance(value, list) or not all(isinstance(role, str) and role in Role.values for role in value):
        raise ValidationError(_("Choose roles from the list."))


class Organization(Audited):
    """A client organization: the tenant. Its delivery data is client-owned."""

    audited_fields = (
        "name",
        "slug",
        "timezone",
        "currency",
        "holiday_country",
        "holiday_subdivision",
        "mfa_required",
        "mfa_required_roles",
    )

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    currency = models.CharField(max_length=3, default="GBP", validators=[validate_currency])
    holiday_country = models.CharField(max_length=3, default="GB", validators=[validate_holiday_country])
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    mfa_required = models.BooleanField(
        _("Require two-factor authentication of every member"),
        default=False,
        help_text=_("Members without an authenticator app set one up before they see any page of the organization."),
    )
    mfa_required_roles = models.JSONField(
        _("Require two-factor authentication of these roles"),
        default=list,
        blank=True,
        validators=[validate_roles],
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("reporting:dashboard", kwargs={"organization_slug": self.slug})

    def requires_mfa_for(self, role: str) -> bool:
        return self.mfa_required or role in self.mfa_required_roles

    def _audit_organization(self) -> "Organization":
        return self


class TenantModel(Audited):
    """Base of every tenant table (DESIGN.md §2)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)s_set",
        related_query_name="%(app_label)s_%(class)s",
    )

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True
        constraints = [
            # Lets the table be distributed by organization later (Citus needs the tenant in every key).
            models.UniqueConstraint(fields=["organization", "id"], name="%(app_label)s_%(class)s_org_id"),
        ]


@dataclass(frozen=True)
class Lease:
    """How a row of waiting work (STYLE.md: "work that waits is a row") says where it stands: the status values
    that mean "waiting for a worker" and "claimed by one" (the same value when the row has no separate running
    status, as a QBR's `generating`), and the prefix of its `status`, `enqueued_at`, `locked_until` and `attempts`
    fields. `mls.work` claims and sweeps rows through it."""

    queued: str
    running: str
    prefix: str = ""

    def field(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def claimable(self, now: datetime) -> Q:
        """Waiting, or claimed by a worker whose lease ran out (it died, or lost its message)."""
        return self.waiting() | self.expired(now)

    def waiting(self) -> Q:
        return Q(**{self.field("status"): self.queued, self.field("locked_until") + "__isnull": True})

    def expired(self, now: datetime) -> Q:
        return Q(**{self.field("status"): self.running, self.field("locked_until") + "__lt": now})

    def unfinished(self) -> Q:
        return Q(**{self.field("status") + "__in": sorted({self.queued, self.running})})


class LeasedWork(models.Model):
    """The lease fields of a row of waiting work; the model says which statuses wait in `lease`."""

    enqueued_at = models.DateTimeField(default=now, help_text="When a worker was last asked to do it.")
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="The claiming worker's lease; blank while waiting for a worker."
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker claimed it.")

    lease: ClassVar[Lease]

    class Meta:
        abstract = True

    @property
    def is_waiting_for_worker(self) -> bool:
        """Queued for longer than a worker normally takes to pick it up: its page says so instead of spinning."""
        waiting = self.status == self.lease.queued and self.locked_until is None
        return waiting and self.enqueued_at < now() - WORKER_DELAY_NOTICE


class Membership(TenantModel):
    """A user's role in an organization; provider managers are tied to one Provider."""

    audited_fields = ("user", "role", "provider")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    provider = models.ForeignKey("Provider", on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["user__email"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "user"], name="mls_membership_one_per_user"),
            models.CheckConstraint(
                condition=Q(role=Role.PROVIDER_MANAGER, provider__isnull=False)
                | (~Q(role=Role.PROVIDER_MANAGER) & Q(provider__isnull=True)),
                name="mls_membership_provider_iff_provider_manager",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"

    def has_permission(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def is_provider_side(self) -> bool:
        """A provider's account manager: sees and keeps only that provider's delivery (DESIGN.md §3)."""
        return self.role == Role.PROVIDER_MANAGER

    @property
    def sees_commercials(self) -> bool:
        """May this member read the client's commercial record: its budget, spend against it, the annual value
        (the budget when none is set, and the base of the liability cap), fee statements and QBRs. A provider
        that read them would know the client's headroom before the next negotiation; the dashboard, the engagement
        page and the engagements API ask this and leave the figures out."""
        return self.has_permission(Permission.VIEW_COMMERCIALS)

    def acts_for(self, provider_id: int | None) -> bool:
        """May this member act on what belongs to provider `provider_id`: a client-side member on every
        provider's, a provider manager on its own provider's only."""
        return not self.is_provider_side or provider_id == self.provider_id

    def visible(self, rows: models.QuerySet, *, provider: str = "provider") -> models.QuerySet:
        """`rows` as this member may see them: a provider manager only its provider's (`provider` is the lookup
        from a row to its provider), every client-side member all. The one statement of that rule."""
        if self.is_provider_side:
            return rows.filter(**{provider: self.provider_id})
        return rows


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class Invitation(TenantModel):
    """An owner's invitation of an email address to join the organization with a role."""

    audited_fields = ("email", "role", "provider", "expires_at", "accepted_at", "revoked_at")

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    provider = models.ForeignKey("Provider", on_delete=models.PROTECT, null=True, blank=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The invitation email is waiting work of its own (mls.work): sent by a worker, swept when its message is lost.
    email_status = models.CharField(max_length=20, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    email_enqueued_at = models.DateTimeField(default=now)
    email_locked_until = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    lease: ClassVar[Lease] = Lease(queued=EmailStatus.QUEUED, running=EmailStatus.SENDING, prefix="email_")

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["organization", "email_locked_until", "email_enqueued_at"],
                condition=Q(email_status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]),
                name="mls_invitation_email_waiting",
            ),
        ]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="mls_invitation_one_open_per_email",
            ),
            models.CheckConstraint(
                condition=Q(role=Role.PROVIDER_MANAGER, provider__isnull=False)
                | (~Q(role=Role.PROVIDER_MANAGER) & Q(provider__isnull=True)),
                name="mls_invitation_provider_iff_provider_manager",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} as {self.get_role_display()}"

    @property
    def status(self) -> InvitationStatus:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


class AppendOnlyQuerySet(models.QuerySet):
    """The audit log is evidence: rows are written once and never changed or removed through the ORM."""

    def update(self, **kwargs: object) -> int:
        raise PermissionError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class AuditEvent(TenantModel):
    """Who did what to which object, with the state before and after. Written by services only.

    The credential: a member's own events name the member (`actor`); an API call made with a token names the token
    too (`token`, with its provider if it is restricted to one), since the owner who created a token is not the
    one who wrote with it.
    """

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=254, blank=True, help_text="Kept when the user is deleted.")
    token = models.ForeignKey(
        "ApiToken",
        on_delete=models.PROTECT,  # tokens are revoked, never deleted: the evidence keeps its credential
        null=True,
        blank=True,
        related_name="+",
        help_text="The API token the change was made with; blank for a member in the web app (or the system).",
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    at = models.DateTimeField(default=now)

    objects = ScopedManager(
        organization="organization", _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet)
    )

    class Meta(TenantModel.Meta):
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-at"], name="mls_audit_org_at"),
            # "What did this token write?": the question after a leaked or misbehaving integration.
            models.Index(
                fields=["organization", "token", "-at"], condition=Q(token__isnull=False), name="mls_audit_org_token_at"
            ),
        ]

    def __str__(self) -> str:
        via = f" via token {self.token_id}" if self.token_id else ""
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label or 'system'}{via} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class Notification(TenantModel):
    """An in-app message to one member (reminders, escalations, approvals awaiting them)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "user", "read_at"], name="mls_notification_inbox")]

    def __str__(self) -> str:
        return self.title


# --- Webhooks (DESIGN.md §4): the audit log's domain events, signed and pushed to integrators ------------------


def new_webhook_secret() -> str:
    """32 random bytes, hex: the HMAC key the integrator shares with us to check each delivery came from MLS."""
    return secrets.token_hex(32)


class WebhookEndpoint(TenantModel):
    """An integrator's URL that receives the organization's domain events it subscribes to (none ticked: all)."""

    audited_fields = ("url", "description", "events", "is_active")
    secret_fields = ("secret",)

    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    events = models.JSONField(default=list, blank=True, help_text="Event names; empty means every event.")
    is_active = models.BooleanField("active", default=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return not self.events or event in self.events

    def clean(self) -> None:
        unknown = sorted(set(self.events) - set(WebhookEvent.values))
        if unknown:
            raise ValidationError({"events": _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}})


# A delivery in one of these may still be attempted; succeeded and failed are final.
OPEN_DELIVERY_STATUSES = (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.RETRYING)


class WebhookDelivery(TenantModel):
    """One event sent (and retried) to one endpoint; a redelivery is a new row with the same payload.

    The row, not a broker message, says what is still to be sent (STYLE.md: work that waits is a row): an open
    delivery is due at `next_attempt_at`, and whoever attempts it first takes the lease `locked_until`, so a late
    or duplicate message and the sweeper never make the same attempt twice (`mls.webhooks.attempt_delivery`).
    """

    audited_fields = ("endpoint", "event", "audit_event")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=80)
    audit_event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=10, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next attempt is due; empty once delivered or failed."
    )
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="An attempt is on its way until then; nobody else may make it."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "endpoint", "-created_at"], name="mls_webhook_delivery_log"),
            # The sweeper's question, every minute: which open deliveries of this organization are due?
            models.Index(
                fields=["organization", "next_attempt_at"],
                condition=Q(status__in=OPEN_DELIVERY_STATUSES),
                name="mls_webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.get_status_display()})"


class WebhookAttempt(TenantModel):
    """One HTTP POST of a delivery: what the receiver answered (or why it could not be reached)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=now)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When the retry is due, if any.")

    class Meta(TenantModel.Meta):
        ordering = ["delivery", "number"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "delivery", "number"], name="mls_webhook_attempt_once_per_number"
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.response_code or self.error}"


# --- API tokens (DESIGN.md §3, §4) ---------------------------------------------------------------


class ApiTokenScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class ApiToken(TenantModel):
    """An integrator's credential. Only a SHA-256 of the secret is stored: the token is shown once, at creation.

    The token names its organization (`mls_<organization id>_<secret>`) so a request can enter that tenant's
    scope before looking the token up; the secret is what authenticates. A token acts with the rights of the
    owner who created it, or like a provider account manager when it is restricted to a provider, and only while
    its creator is still an active owner (losing that revokes it: mls.services).
    """

    audited_fields = ("name", "prefix", "scope", "provider", "revoked_at")
    secret_fields = ("secret_hash",)

    name = models.CharField(max_length=100, help_text=_("What uses it, e.g. “Workday sync”."))
    prefix = models.CharField(max_length=40, help_text="The token's first characters, to recognise it in lists.")
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=20, choices=ApiTokenScope.choices, default=ApiTokenScope.READ)
    provider = models.ForeignKey(
        "Provider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_(
            "Restrict the token to one provider's delivery; it then acts like that provider's account manager."
        ),
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "secret_hash"], name="mls_apitoken_secret_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def may_write(self) -> bool:
        return self.scope == ApiTokenScope.READ_WRITE


class TracksUpdates(models.Model):
    """`updated_at`, for integrators' `?updated_since=`: bumped by every save, also one with `update_fields`. The
    database default covers rows inserted by SQL (bulk loads, the benchmarks' generated tenants)."""

    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


class Provider(TracksUpdates, TenantModel):
    """The managed service provider that delivers training to the client organization: the other party of the
    tenancy, whose account managers and API tokens see only its delivery (DESIGN.md §3). Its suppliers and
    instructors live in `vendors`."""

    EDITABLE_FIELDS = ("name", "contact_email")
    audited_fields = EDITABLE_FIELDS

    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        db_table = "vendors_provider"  # created by `vendors`, which held the model first
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "name"], name="mls_provider_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class IdempotencyKey(TenantModel):
    """A write the API has seen under an `Idempotency-Key` (DESIGN.md §4), kept 24 hours.

    The row is claimed (inserted, committed) before the write runs, so a concurrent duplicate finds it and gets 409;
    once the write is answered its response is stored here and replayed to a retry with the same body.
    """

    credential = models.CharField(max_length=40, help_text="token-<id> or member-<id>: keys are per credential.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path, query and body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Blank while in flight.")
    response_body = models.BinaryField(default=b"")
    response_content_type = models.CharField(max_length=100, blank=True)
    response_headers = models.JSONField(default=dict, blank=True, help_text="ETag and Location, for the replay.")
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "credential", "key"], name="mls_idempotencykey_key"),
        ]

    def __str__(self) -> str:
        return f"{self.credential} {self.key}"
