"""Providers: only owners and procurement add, edit and invite for them (`Permission.MANAGE_PROVIDERS`); names are
unique ignoring case; every write is audited; the account manager's invitation is the members' invitation."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mls.enums import Role
from mls.models import AuditEvent, Invitation, Provider
from tests.factories import ProviderFactory
from vendors import services

pytestmark = pytest.mark.unit


def test_add_provider_trims_the_name_lowercases_the_email_and_audits_it(tenant_a):
    with tenant_a.scope():
        provider = services.add_provider(
            membership=tenant_a.members[Role.PROCUREMENT], name="  Contoso ", contact_email=" Hi@Contoso.TEST "
        )
        event = AuditEvent.objects.get(action="provider.added")

    assert (provider.organization, provider.name, provider.contact_email) == (
        tenant_a.organization,
        "Contoso",
        "hi@contoso.test",
    )
    assert (event.object_id, event.before, event.after) == (
        str(provider.pk),
        None,
        {"name": "Contoso", "contact_email": "hi@contoso.test"},
    )


@pytest.mark.parametrize("role", [Role.LD_DIRECTOR, Role.PROVIDER_MANAGER, Role.VIEWER])
def test_roles_without_manage_providers_are_refused_every_provider_write(tenant_a, role):
    membership = tenant_a.members[role]

    with tenant_a.scope():
        writes = [
            lambda: services.add_provider(membership=membership, name="Contoso"),
            lambda: services.update_provider(provider=tenant_a.provider, membership=membership, name="Renamed"),
            lambda: services.invite_account_manager(provider=tenant_a.provider, membership=membership, email="a@x.t"),
        ]
        for write in writes:
            with pytest.raises(PermissionDenied):
                write()

        assert list(Provider.objects.values_list("name", flat=True)) == ["Northwind Learning"]
        assert Invitation.objects.count() == 0


def test_update_provider_changes_only_the_given_fields_and_refuses_another_providers_name(tenant_a):
    ProviderFactory(organization=tenant_a.organization, name="Contoso")
    owner = tenant_a.members[Role.OWNER]

    with tenant_a.scope():
        services.update_provider(provider=tenant_a.provider, membership=owner, contact_email="AM@Northwind.test")
        with pytest.raises(ValidationError) as refused:
            services.update_provider(provider=tenant_a.provider, membership=owner, name="CONTOSO")
        tenant_a.provider.refresh_from_db()

    assert refused.value.message_dict == {"name": ["There is already a provider named CONTOSO."]}
    assert (tenant_a.provider.name, tenant_a.provider.contact_email) == ("Northwind Learning", "am@northwind.test")


def test_renaming_a_provider_to_its_own_name_in_another_case_is_allowed(tenant_a):
    with tenant_a.scope():
        services.update_provider(
            provider=tenant_a.provider, membership=tenant_a.members[Role.OWNER], name="NORTHWIND LEARNING"
        )

        assert list(Provider.objects.values_list("name", flat=True)) == ["NORTHWIND LEARNING"]


def test_the_same_name_in_another_organization_is_another_provider(tenant_a, tenant_b):
    with tenant_b.scope():
        provider = services.add_provider(membership=tenant_b.members[Role.OWNER], name="Contoso")
    with tenant_a.scope():
        ours = services.add_provider(membership=tenant_a.members[Role.OWNER], name="Contoso")

    assert (provider.organization, ours.organization) == (tenant_b.organization, tenant_a.organization)


def test_the_account_managers_invitation_is_bound_to_the_provider(tenant_a):
    contoso = ProviderFactory(organization=tenant_a.organization, name="Contoso")

    with tenant_a.scope():
        invitation = services.invite_account_manager(
            provider=contoso, membership=tenant_a.members[Role.PROCUREMENT], email=" AM@contoso.test "
        )

    assert (invitation.organization, invitation.email, invitation.role, invitation.provider) == (
        tenant_a.organization,
        "am@contoso.test",
        Role.PROVIDER_MANAGER,
        contoso,
    )
