"""API resources of the vendors domain. Providers are created (POST) and changed (PATCH with If-Match) by the
client's owners and procurement through the same services as the providers pages; suppliers and instructors are
read-only here (maintained on the vendors pages)."""

from django.db.models import QuerySet
from rest_framework import serializers

from mls.api import IdFilter, ReadOnlyResource, ReadSerializer, TenantFilterSet
from mls.api_etags import CreatableContractResource, contract_schema
from mls.enums import Permission
from mls.models import Membership, Provider

from . import services
from .models import Instructor, Supplier
from .selectors import instructors_for, providers_for, suppliers_for


class ProviderSerializer(ReadSerializer):
    class Meta:
        model = Provider
        exclude = ("organization",)


class ProviderChanges(serializers.ModelSerializer):
    """What a provider is to the client: its name (unique, ignoring case) and an optional contact address."""

    class Meta:
        model = Provider
        fields = Provider.EDITABLE_FIELDS


PROVIDER_EXAMPLE = {"name": "Northwind Learning", "contact_email": "accounts@northwind.example"}


@contract_schema(ProviderChanges, ProviderSerializer, create=ProviderChanges, create_example=PROVIDER_EXAMPLE)
class ProviderViewSet(CreatableContractResource):
    """Providers the caller sees: all for the client, its own for a provider's token. Owners and procurement
    create them (POST) and change them (PATCH with If-Match)."""

    serializer_class = ProviderSerializer
    update_serializer_class = ProviderChanges
    write_permission = Permission.MANAGE_PROVIDERS
    ordering_fields = ("id", "name")

    def visible(self, membership: Membership) -> QuerySet[Provider]:
        return providers_for(membership)

    def create_object(self, fields: dict) -> Provider:
        return services.add_provider(membership=self.membership, **fields)

    def apply_changes(self, obj: Provider, fields: dict) -> Provider:
        return services.update_provider(provider=obj, membership=self.membership, **fields)


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
