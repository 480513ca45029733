"""Reads of the tenancy core. Tenant queries run inside the request's organization scope."""

import hmac

from allauth.mfa.utils import is_mfa_enabled
from django.db.models import Count, FilteredRelation, Q, QuerySet

from .enums import Credential, Role, WebhookDeliveryStatus
from .models import ApiToken, AuditEvent, Invitation, Membership, Organization, User, WebhookDelivery, WebhookEndpoint
from .tenancy import organization_scope

MAX_ID_DIGITS = 18  # a bigint's; a longer number would overflow the query instead of finding nothing


def organizations_of(user: User) -> QuerySet[Organization]:
    """The organizations `user` belongs to (the header's switcher). Organization itself is not scoped."""
    return Organization.objects.filter(mls_membership__user=user).order_by("name")


def needs_mfa_setup(*, organization: Organization, role: str, user: User) -> bool:
    """`organization` requires two-factor sign-in of `role` and `user` has no authenticator (allauth.mfa) yet.

    Asks the database only when the organization requires it, so organizations that do not require it pay no query.
    """
    return organization.requires_mfa_for(role) and not is_mfa_enabled(user)


def members() -> QuerySet[Membership]:
    return Membership.objects.select_related("user", "provider").order_by("user__email")


def open_invitations() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("provider", "invited_by").filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    )


def audit_events(*, action: str = "", object_type: str = "", credential: str = "") -> QuerySet[AuditEvent]:
    """The log, newest first, each event with the token (and its provider) it was written with."""
    events = AuditEvent.objects.select_related("token__provider")
    if action:
        events = events.filter(action__icontains=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if credential == Credential.MEMBER:
        events = events.filter(token__isnull=True)
    elif credential == Credential.TOKEN:
        events = events.filter(token__isnull=False)
    return events


def audit_object_types() -> list[str]:
    return list(AuditEvent.objects.order_by("object_type").values_list("object_type", flat=True).distinct())


def webhook_endpoints() -> QuerySet[WebhookEndpoint]:
    """Endpoints with how many deliveries gave up, the one figure that says an integration is broken."""
    return WebhookEndpoint.objects.annotate(
        failed_deliveries=Count("deliveries", filter=Q(deliveries__status=WebhookDeliveryStatus.FAILED))
    )


def webhook_deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log, newest first, each with its attempts (the response codes in order)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related("attempt_log")


def webhook_delivery_log() -> QuerySet[WebhookDelivery]:
    """Every delivery of the organization's endpoints (the API's log; the page shows one endpoint's)."""
    return WebhookDelivery.objects.all()


def api_tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("organization", "provider", "created_by")


def token_organization_id(raw: str) -> int | None:
    """The organization a token names (`mls_<id>_<secret>`), so its scope can be entered to look it up."""
    marker, _, rest = raw.partition("_")
    organization_id, _, secret = rest.partition("_")
    if marker != "mls" or not organization_id.isdigit() or len(organization_id) > MAX_ID_DIGITS or not secret:
        return None
    return int(organization_id)


def api_caller(organization_id: int, token_hash: str) -> tuple[ApiToken, Membership] | None:
    """The organization's active token with this hash and the member it acts as, or None.

    A token acts with its creator's rights while the creator is an active user and an owner (a provider's token
    too); restricted to a provider, it acts like that provider's account manager (an unsaved Membership, so every
    service's permission check applies as is). One query: the token with its organization, its creator and the
    creator's owner membership there, joined as a filtered relation.
    """
    owner = FilteredRelation(
        "created_by__memberships",
        condition=Q(created_by__memberships__organization_id=organization_id, created_by__memberships__role=Role.OWNER),
    )
    with organization_scope(organization_id):
        token = (
            ApiToken.objects.annotate(owner=owner)
            .select_related("organization", "created_by", "owner")
            .filter(secret_hash=token_hash, revoked_at__isnull=True, created_by__is_active=True, owner__isnull=False)
            .first()
        )
    if token is None or not hmac.compare_digest(token.secret_hash, token_hash):
        return None
    membership = token.owner
    membership.organization, membership.user = token.organization, token.created_by
    if token.provider_id is not None:
        membership = Membership(
            organization=token.organization,
            user=token.created_by,
            role=Role.PROVIDER_MANAGER,
            provider_id=token.provider_id,
        )
    return token, membership
