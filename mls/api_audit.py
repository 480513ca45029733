"""The `audit-events` API resource: the audit log as the web page shows it, for the roles that may read it, with the
credential of each change (the member, or the API token and its provider)."""

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework import exceptions

from .api import IdFilter, MomentFilter, ReadOnlyResource, ReadSerializer, TenantFilterSet
from .enums import Credential, Permission
from .models import AuditEvent, Membership
from .selectors import audit_events


class AuditEventSerializer(ReadSerializer):
    class Meta:
        model = AuditEvent
        exclude = ("organization",)


class AuditEventFilter(TenantFilterSet):
    """The page's filters, and the credential's id: `?token=` lists what one integration wrote."""

    updated_since = None  # an event is never updated; `at_after` says since when
    action = filters.CharFilter()
    object_type = filters.CharFilter()
    actor = IdFilter()
    token = IdFilter()
    credential = filters.ChoiceFilter(choices=Credential.choices, method="by_credential")
    at_after = MomentFilter(field_name="at", lookup_expr="gte", help_text="Events at or after this moment.")
    at_before = MomentFilter(field_name="at", lookup_expr="lt", help_text="Events before this moment.")

    def by_credential(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        return queryset.filter(token__isnull=value == Credential.MEMBER)


class AuditEventViewSet(ReadOnlyResource):
    """Who changed what, with the state before and after; `token` names the API token a change was made with
    (blank: a member in the web app, or the system). Client-side roles only, as the web's audit log."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ("id", "at")

    def visible(self, membership: Membership) -> QuerySet[AuditEvent]:
        if not membership.has_permission(Permission.VIEW_AUDIT_LOG):
            raise exceptions.PermissionDenied()
        return audit_events()
