"""API resources of the contracts domain: read-only (contracts are negotiated and signed in MLS itself)."""

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from mls.api import IdFilter, ReadOnlyResource, ReadSerializer, TenantFilterSet, date_range
from mls.models import Membership

from .enums import ChangeRequestStatus, EngagementStatus
from .models import ChangeRequest, Engagement, Sow
from .selectors import change_requests_for, engagements_for, sows_for


class EngagementSerializer(ReadSerializer):
    class Meta:
        model = Engagement
        exclude = ("organization",)


class EngagementFilter(TenantFilterSet):
    provider = IdFilter()
    status = filters.ChoiceFilter(choices=EngagementStatus.choices)
    ends_after, ends_before = date_range("end_date")


class EngagementViewSet(ReadOnlyResource):
    """Engagements the caller sees: all for the client, its own for a provider's token."""

    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter
    ordering_fields = ("id", "name", "start_date", "end_date")

    def visible(self, membership: Membership) -> QuerySet[Engagement]:
        return engagements_for(membership)


class SowSerializer(ReadSerializer):
    class Meta:
        model = Sow
        exclude = ("organization",)


class SowFilter(TenantFilterSet):
    engagement = IdFilter()


class SowViewSet(ReadOnlyResource):
    serializer_class = SowSerializer
    filterset_class = SowFilter
    ordering_fields = ("id", "reference")

    def visible(self, membership: Membership) -> QuerySet[Sow]:
        return sows_for(membership)


class ChangeRequestSerializer(ReadSerializer):
    class Meta:
        model = ChangeRequest
        exclude = ("organization",)


class ChangeRequestFilter(TenantFilterSet):
    engagement = IdFilter(field_name="sow__engagement")
    sow = IdFilter()
    status = filters.ChoiceFilter(choices=ChangeRequestStatus.choices)


class ChangeRequestViewSet(ReadOnlyResource):
    serializer_class = ChangeRequestSerializer
    filterset_class = ChangeRequestFilter
    ordering_fields = ("id", "created_at", "respond_by")

    def visible(self, membership: Membership) -> QuerySet[ChangeRequest]:
        return change_requests_for(membership)
