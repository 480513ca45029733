"""Reads of the tenancy core. Tenant queries run inside the request's organization scope."""

from django.db.models import Count, Q, QuerySet

from .enums import WebhookDeliveryStatus
from .models import AuditEvent, Invitation, Membership, Organization, User, WebhookDelivery, WebhookEndpoint


def organizations_of(user: User) -> QuerySet[Organization]:
    """The organizations `user` belongs to (the header's switcher). Organization itself is not scoped."""
    return Organization.objects.filter(mls_membership__user=user).order_by("name")


def members() -> QuerySet[Membership]:
    return Membership.objects.select_related("user", "provider").order_by("user__email")


def open_invitations() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("provider", "invited_by").filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    )


def audit_events(*, action: str = "", object_type: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action__icontains=action)
    if object_type:
        events = events.filter(object_type=object_type)
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
