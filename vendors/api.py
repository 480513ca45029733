"""API resources of the vendors domain: read-only (maintained on the vendors pages)."""

from django.db.models import QuerySet

from mls.api import IdFilter, ReadOnlyResource, ReadSerializer, TenantFilterSet
from mls.models import Membership

from .models import Instructor, Provider, Supplier
from .selectors import instructors_for, providers_for, suppliers_for


class ProviderSerializer(ReadSerializer):
    class Meta:
        model = Provider
        exclude = ("organization",)


class ProviderViewSet(ReadOnlyResource):
    serializer_class = ProviderSerializer
    ordering_fields = ("id", "name")

    def visible(self, membership: Membership) -> QuerySet[Provider]:
        return providers_for(membership)


class SupplierSerializer(ReadSerializer):
    class Meta:
        model = Supplier
        exclude = ("organization",)


class ProviderFilter(TenantFilterSet):
    provider = IdFilter()


class SupplierViewSet(ReadOnlyResource):
    serializer_class = SupplierSerializer
    filterset_class = ProviderFilter
    ordering_fields = ("id", "name")

    def visible(self, membership: Membership) -> QuerySet[Supplier]:
        return suppliers_for(membership)


class InstructorSerializer(ReadSerializer):
    class Meta:
        model = Instructor
        exclude = ("organization",)


class InstructorViewSet(ReadOnlyResource):
    serializer_class = InstructorSerializer
    filterset_class = ProviderFilter
    ordering_fields = ("id", "name")

    def visible(self, membership: Membership) -> QuerySet[Instructor]:
        return instructors_for(membership)
