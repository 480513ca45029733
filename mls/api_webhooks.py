"""The `webhooks` API resource: an owner's integration manages its own endpoints through the same services as
Settings → Webhooks (target checked on save, audited), and reads their delivery log (`webhook-deliveries`).
Anyone else sees none and may not write."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from . import webhooks
from .api import IdFilter, MomentFilter, ReadOnlyResource, ReadSerializer, TenantFilterSet, YesNoFilter
from .api_auth import caller_of
from .enums import Permission, WebhookDeliveryStatus, WebhookEvent
from .models import Membership, WebhookDelivery, WebhookEndpoint
from .selectors import webhook_delivery_log, webhook_endpoints

EXAMPLE = {"url": "https://hooks.example.com/mls", "description": "SLA alerts", "events": ["breach.created"]}


class EndpointFilter(filters.FilterSet):
    is_active = YesNoFilter()


class EndpointSerializer(ReadSerializer):
    secret = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Signs each delivery (MLS-Signature); null for a read token.",
    )

    class Meta:
        model = WebhookEndpoint
        exclude = ("organization",)


class EndpointWithoutSecretSerializer(EndpointSerializer):
    """What a read token sees: with the secret, its holder could forge deliveries the integrator trusts."""

    def to_representation(self, instance: WebhookEndpoint) -> dict:
        return {**super().to_representation(instance), "secret": None}


class EventNames(serializers.ListField):
    """A list of event names whose item errors are one list of messages for the field (`{"events": ["Item 2: …"]}`),
    as every API error is documented, instead of DRF's `{"events": {"2": [...]}}`."""

    child = serializers.CharField()

    def to_internal_value(self, data: object) -> list[str]:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError(
                [
                    _("Item %(index)s: %(message)s") % {"index": index, "message": message}
                    for index, messages in error.detail.items()
                    for message in messages
                ]
            ) from error


class EndpointChanges(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    events = EventNames(
        required=False,
        default=list,
        help_text=f"Any of {', '.join(WebhookEvent.values)}; empty: every event.",
    )
    is_active = serializers.BooleanField(required=False, default=True)

    def validate_events(self, events: list[str]) -> list[str]:
        """One message for the field (not one per item), so every error is `{"field": ["message"]}`."""
        unknown = sorted(set(events) - set(WebhookEvent.values))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown events: %(unknown)s. Choose from %(events)s.")
                % {"unknown": ", ".join(unknown), "events": ", ".join(WebhookEvent.values)}
            )
        return events


@extend_schema_view(
    create=extend_schema(
        request=EndpointChanges,
        responses={201: EndpointSerializer},
        examples=[OpenApiExample("Breaches only", value=EXAMPLE, request_only=True)],
    ),
    partial_update=extend_schema(request=EndpointChanges, responses={200: EndpointSerializer}),
)
class WebhookEndpointViewSet(mixins.DestroyModelMixin, ReadOnlyResource):
    """Webhook endpoints (owners' tokens): events empty = every event; the secret signs each delivery."""

    serializer_class = EndpointSerializer
    filterset_class = EndpointFilter
    ordering_fields = ("id", "url")
    write_permission = Permission.MANAGE_WEBHOOKS  # every write, DELETE included, is 403 for anyone else

    def get_serializer_class(self) -> type[EndpointSerializer]:
        """The secret only for a caller that may write (an owner's session or read_write token); the schema
        generator documents the full representation."""
        caller = caller_of(self.request) if self.request is not None else None
        if getattr(self, "swagger_fake_view", False) or (caller is not None and caller.may_write):
            return EndpointSerializer
        return EndpointWithoutSecretSerializer

    def visible(self, membership: Membership) -> QuerySet[WebhookEndpoint]:
        if not membership.has_permission(Permission.MANAGE_WEBHOOKS):
            return WebhookEndpoint.objects.none()
        return webhook_endpoints()

    def _require_owner(self) -> None:
        if not self.membership.has_permission(Permission.MANAGE_WEBHOOKS):
            raise exceptions.PermissionDenied()

    def create(self, request: Request) -> Response:
        self._require_owner()
        fields = EndpointChanges(data=request.data)
        fields.is_valid(raise_exception=True)
        caller = caller_of(request)
        endpoint = webhooks.create_endpoint(
            organization=caller.organization, actor=caller.membership.user, **fields.validated_data
        )
        return Response(self.get_serializer(endpoint).data, status=201)

    def partial_update(self, request: Request, pk: str) -> Response:
        self._require_owner()
        endpoint = self.get_object()
        current = {key: getattr(endpoint, key) for key in ("url", "description", "events", "is_active")}
        fields = EndpointChanges(data={**current, **request.data} if isinstance(request.data, dict) else request.data)
        fields.is_valid(raise_exception=True)
        endpoint = webhooks.update_endpoint(endpoint=endpoint, actor=self.membership.user, **fields.validated_data)
        return Response(self.get_serializer(endpoint).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        self._require_owner()
        webhooks.delete_endpoint(endpoint=instance, actor=self.membership.user)


class DeliverySerializer(ReadSerializer):
    class Meta:
        model = WebhookDelivery
        exclude = ("organization", "locked_until")  # the lease is MLS's own bookkeeping


class DeliveryFilter(TenantFilterSet):
    updated_since = None  # a delivery has no such column; `created_after` says since when
    endpoint = IdFilter()
    status = filters.ChoiceFilter(choices=WebhookDeliveryStatus.choices)
    event = filters.CharFilter()
    created_after = MomentFilter(field_name="created_at", lookup_expr="gte", help_text="Made at or after this moment.")


class WebhookDeliveryViewSet(ReadOnlyResource):
    """The endpoints' delivery log (owners' tokens), as on the endpoint's page: `attempts` made so far,
    `last_response_code`, and `next_attempt_at`, when the next attempt is due (a retry waits for it; a past time
    means it is due and being sent), empty once delivered or failed. Each attempt's answer is on the page."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ("id", "created_at")

    def visible(self, membership: Membership) -> QuerySet[WebhookDelivery]:
        if not membership.has_permission(Permission.MANAGE_WEBHOOKS):
            return WebhookDelivery.objects.none()
        return webhook_delivery_log()
