"""Provider pages: owners and procurement add and edit providers and invite their account managers; the forms
keep the input on errors and write nothing; other roles are refused; the list is constant in queries."""

import pytest
from django.core import mail
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent, Invitation, Provider
from tests.factories import InvitationFactory, MembershipFactory, ProviderFactory
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def providers(tenant) -> list[tuple[str, str]]:
    with tenant.scope():
        return list(Provider.objects.order_by("name").values_list("name", "contact_email"))


@pytest.mark.parametrize("role", [Role.OWNER, Role.PROCUREMENT])
def test_owner_and_procurement_add_a_provider_and_it_is_audited(client, tenant_a, role):
    client.force_login(tenant_a.user(role))

    response = client.post(
        org_url(tenant_a, "vendors:provider_create"), {"name": " Contoso ", "contact_email": "Accounts@Contoso.test"}
    )

    assert response.status_code == 302
    assert response["Location"] == org_url(tenant_a, "engagements:create")  # no engagement yet: the next step
    assert providers(tenant_a) == [("Contoso", "accounts@contoso.test"), ("Northwind Learning", "")]
    with tenant_a.scope():
        event = AuditEvent.objects.get(action="provider.added")
    assert (event.actor_label, event.before, event.after) == (
        tenant_a.user(role).email,
        None,
        {"name": "Contoso", "contact_email": "accounts@contoso.test"},
    )


def test_adding_a_provider_can_invite_its_account_manager_and_returns_to_the_list_once_engaged(client, tenant_a):
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "vendors:provider_create"), {"name": "Contoso", "account_manager_email": "am@contoso.test"}
    )

    assert response["Location"] == org_url(tenant_a, "vendors:providers")
    with tenant_a.scope():
        assert list(Invitation.objects.values_list("email", "role", "provider__name")) == [
            ("am@contoso.test", Role.PROVIDER_MANAGER, "Contoso")
        ]
        assert AuditEvent.objects.filter(action="provider.added").count() == 1


def test_a_refused_invitation_adds_no_provider_either(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "vendors:provider_create"),
        {"name": "Contoso", "account_manager_email": tenant_a.user(Role.VIEWER).email},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["account_manager_email"]
    assert providers(tenant_a) == [("Northwind Learning", "")]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "northwind learning"}, {"name": ["There is already a provider named northwind learning."]}),
        ({"name": ""}, {"name": ["This field is required."]}),
        ({"name": "Contoso", "contact_email": "not-an-address"}, {"contact_email": ["Enter a valid email address."]}),
    ],
    ids=["same-name-other-case", "no-name", "bad-email"],
)
def test_a_refused_provider_shows_field_errors_keeps_the_input_and_writes_nothing(client, tenant_a, data, errors):
    client.force_login(tenant_a.user(Role.OWNER))
    with tenant_a.scope():
        events = AuditEvent.objects.count()

    response = client.post(org_url(tenant_a, "vendors:provider_create"), data)

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert f'value="{data["name"]}"'.encode() in response.content or not data["name"]
    assert providers(tenant_a) == [("Northwind Learning", "")]
    with tenant_a.scope():
        assert AuditEvent.objects.count() == events


def test_procurement_renames_a_provider_with_before_and_after_in_the_audit_log(client, tenant_a):
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    url = org_url(tenant_a, "vendors:provider_edit", pk=tenant_a.provider.pk)

    initial = client.get(url).context["form"].initial
    response = client.post(url, {"name": "Northwind Learning Ltd", "contact_email": "hello@northwind.test"})

    assert initial == {"name": "Northwind Learning", "contact_email": ""}
    assert response.status_code == 302
    assert providers(tenant_a) == [("Northwind Learning Ltd", "hello@northwind.test")]
    with tenant_a.scope():
        event = AuditEvent.objects.get(action="provider.updated")
    assert (event.before, event.after) == (
        {"name": "Northwind Learning", "contact_email": ""},
        {"name": "Northwind Learning Ltd", "contact_email": "hello@northwind.test"},
    )


@pytest.mark.parametrize("role", [Role.LD_DIRECTOR, Role.PROVIDER_MANAGER, Role.VIEWER])
def test_other_roles_cannot_add_edit_or_invite(client, tenant_a, role):
    client.force_login(tenant_a.user(role))
    pk = tenant_a.provider.pk

    statuses = [
        client.post(org_url(tenant_a, "vendors:provider_create"), {"name": "Contoso"}).status_code,
        client.post(org_url(tenant_a, "vendors:provider_edit", pk=pk), {"name": "Renamed"}).status_code,
        client.post(org_url(tenant_a, "vendors:provider_invite", pk=pk), {"email": "am@x.test"}).status_code,
    ]

    assert statuses == [403, 403, 403]
    assert providers(tenant_a) == [("Northwind Learning", "")]
    with tenant_a.scope():
        assert Invitation.objects.count() == 0


def test_inviting_the_account_manager_sends_a_provider_manager_invitation_for_this_provider(
    client, tenant_a, django_capture_on_commit_callbacks
):
    contoso = ProviderFactory(organization=tenant_a.organization, name="Contoso")
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            org_url(tenant_a, "vendors:provider_invite", pk=contoso.pk), {"email": "AM@Contoso.test"}
        )

    assert response.status_code == 302
    with tenant_a.scope():
        invitation = Invitation.objects.get()
        event = AuditEvent.objects.get(action="invitation.created")
    assert (invitation.email, invitation.role, invitation.provider, invitation.invited_by) == (
        "am@contoso.test",
        Role.PROVIDER_MANAGER,
        contoso,
        tenant_a.user(Role.PROCUREMENT),
    )
    assert (event.after["role"], event.after["provider"]) == (Role.PROVIDER_MANAGER, contoso.pk)
    assert [message.to for message in mail.outbox] == [["am@contoso.test"]]


def test_inviting_an_existing_member_is_an_error_on_the_email_field(client, tenant_a):
    member = tenant_a.user(Role.VIEWER)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "vendors:provider_invite", pk=tenant_a.provider.pk), {"email": member.email}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"email": [f"{member.email} is already a member of Acme Corp."]}
    with tenant_a.scope():
        assert Invitation.objects.count() == 0


def test_provider_list_shows_engagements_account_managers_and_open_invitations(client, tenant_a):
    contoso = ProviderFactory(organization=tenant_a.organization, name="Contoso", contact_email="hi@contoso.test")
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    InvitationFactory(
        organization=tenant_a.organization, email="new@contoso.test", role=Role.PROVIDER_MANAGER, provider=contoso
    )
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "vendors:providers"))

    rows = [
        (p.name, p.engagement_count, [m.user.email for m in p.account_managers], [i.email for i in p.open_invitations])
        for p in response.context["providers"]
    ]
    assert rows == [
        ("Contoso", 0, [], ["new@contoso.test"]),
        ("Northwind Learning", 2, [tenant_a.user(Role.PROVIDER_MANAGER).email], []),
    ]
    assert b"New provider" not in response.content
    assert b"Invite account manager" not in response.content


def test_a_provider_manager_sees_only_its_own_provider(client, tenant_a):
    ProviderFactory(organization=tenant_a.organization, name="Contoso")
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.get(org_url(tenant_a, "vendors:providers"))

    assert [p.name for p in response.context["providers"]] == ["Northwind Learning"]


@pytest.mark.parametrize("count", [1, 3])
def test_provider_list_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    for n in range(count - 1):  # Northwind is the first
        provider = ProviderFactory(organization=tenant_a.organization, name=f"Provider {n}")
        EngagementFactory(organization=tenant_a.organization, provider=provider)
        MembershipFactory(organization=tenant_a.organization, role=Role.PROVIDER_MANAGER, provider=provider)
        InvitationFactory(organization=tenant_a.organization, role=Role.PROVIDER_MANAGER, provider=provider)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    # Queries: session, user, organization, membership, switcher, unread, providers with their engagement
    # counts, their account managers with users, their open invitations.
    with django_assert_num_queries(9):
        response = client.get(org_url(tenant_a, "vendors:providers"))

    assert len(response.context["providers"]) == count
