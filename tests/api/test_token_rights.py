"""A token acts with its creator's rights, so it dies with them (issue 18): refused while the creator is inactive
or no longer an owner; demoting, removing or deactivating the creator revokes the tokens (audited), so giving the
rights back does not revive them. A token restricted to a provider follows the same rule with its creator."""

import pytest
from django.urls import reverse

from mls import services
from mls.enums import Role
from mls.models import ApiToken, AuditEvent, Invitation, Membership, User
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.integration

RESTRICTIONS = ["unrestricted", "provider"]


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def token_of(tenant: object, restriction: str, membership: Membership | None = None) -> tuple[ApiToken, str]:
    """A token created by the tenant's owner (or `membership`, an owner), restricted to its provider or not."""
    with tenant.scope():
        return services.create_api_token(
            membership=membership or tenant.members[Role.OWNER],
            name="Integration",
            scope="read_write",
            provider=tenant.provider if restriction == "provider" else None,
        )


def answers(client, raw: str) -> int:
    return client.get("/api/v1/learners/", **auth(raw)).status_code


def revocations(tenant: object) -> list[tuple[str, str, bool]]:
    """(actor, token id, revoked) of every token revocation audited in the tenant."""
    with tenant.scope():
        return [
            (event.actor_label, event.object_id, event.after["revoked_at"] is not None)
            for event in AuditEvent.objects.filter(action="api_token.revoked").order_by("id")
        ]


def second_owner(tenant: object) -> Membership:
    """An owner besides the token's creator, so the creator may be demoted or removed."""
    with tenant.scope():
        return services.change_member_role(
            membership=tenant.members[Role.LD_DIRECTOR], role=Role.OWNER, provider=None, actor=tenant.user(Role.OWNER)
        )


@pytest.mark.parametrize("restriction", RESTRICTIONS)
def test_a_token_is_refused_while_its_creator_is_inactive_however_that_happened(client, tenant_a, restriction):
    _, raw = token_of(tenant_a, restriction)
    creator = tenant_a.user(Role.OWNER)
    working = answers(client, raw)

    User.objects.filter(pk=creator.pk).update(is_active=False)  # no service ran (an operator's SQL, say)
    inactive = answers(client, raw)

    assert (working, inactive) == (200, 401)


@pytest.mark.parametrize("restriction", RESTRICTIONS)
def test_a_token_is_refused_while_its_creator_is_no_longer_an_owner_however_that_happened(
    client, tenant_a, restriction
):
    _, raw = token_of(tenant_a, restriction)
    working = answers(client, raw)

    with tenant_a.scope():
        Membership.objects.filter(pk=tenant_a.members[Role.OWNER].pk).update(role=Role.VIEWER)
    demoted = answers(client, raw)

    assert (working, demoted) == (200, 401)


@pytest.mark.parametrize("restriction", RESTRICTIONS)
def test_deactivating_the_creator_revokes_their_tokens_in_every_organization_and_no_one_elses(
    client, tenant_a, tenant_b, restriction
):
    creator = tenant_a.members[Role.OWNER]
    in_b = MembershipFactory(organization=tenant_b.organization, user=creator.user, role=Role.OWNER)
    (token_a, raw_a), (token_b, raw_b) = token_of(tenant_a, restriction), token_of(tenant_b, restriction, in_b)
    _, colleagues = token_of(tenant_a, restriction, second_owner(tenant_a))
    operator = UserFactory(is_staff=True)

    services.deactivate_user(user=creator.user, actor=operator)
    User.objects.filter(pk=creator.user_id).update(is_active=True)  # reactivated: the tokens stay revoked

    assert [answers(client, raw) for raw in (raw_a, raw_b, colleagues)] == [401, 401, 200]
    assert revocations(tenant_a) == [(operator.email, str(token_a.pk), True)]
    assert revocations(tenant_b) == [(operator.email, str(token_b.pk), True)]


def test_an_operator_unticking_active_in_the_admin_revokes_the_users_tokens(client, tenant_a):
    token, raw = token_of(tenant_a, "unrestricted")
    creator = tenant_a.user(Role.OWNER)
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)

    saved = client.post(
        reverse("admin:mls_user_change", args=[creator.pk]),
        {
            "email": creator.email,
            "first_name": "Ada",
            "last_name": "",
            "is_staff": "",
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
        },
    )

    creator.refresh_from_db()
    assert (saved.status_code, creator.is_active, creator.first_name) == (302, False, "Ada")
    assert answers(client, raw) == 401
    assert revocations(tenant_a) == [(operator.email, str(token.pk), True)]


@pytest.mark.parametrize("restriction", RESTRICTIONS)
def test_demoting_the_creator_revokes_their_tokens_so_promotion_does_not_bring_them_back(client, tenant_a, restriction):
    creator = tenant_a.members[Role.OWNER]
    token, raw = token_of(tenant_a, restriction)
    colleague = second_owner(tenant_a)
    _, colleagues = token_of(tenant_a, restriction, colleague)
    client.force_login(colleague.user)
    edit = reverse("org:member_edit", kwargs={"organization_slug": tenant_a.organization.slug, "pk": creator.pk})

    demoted = client.post(edit, {"role": Role.LD_DIRECTOR})
    refused = answers(client, raw)
    promoted = client.post(edit, {"role": Role.OWNER})

    creator.refresh_from_db()
    assert (demoted.status_code, refused, promoted.status_code, creator.role) == (302, 401, 302, Role.OWNER)
    assert [answers(client, raw), answers(client, colleagues)] == [401, 200]
    assert revocations(tenant_a) == [(colleague.user.email, str(token.pk), True)]
    with tenant_a.scope():
        changes = AuditEvent.objects.filter(action__in=["member.role_changed", "api_token.revoked"]).order_by("id")
        actions = [event.action for event in changes]
    # the revocation is written by the same service call as the demotion (the promotion of the colleague first)
    assert actions == [
        "member.role_changed",
        "api_token.revoked",
        "member.role_changed",
        "member.role_changed",
    ]


def test_a_refused_demotion_revokes_nothing(client, tenant_a):
    token, raw = token_of(tenant_a, "unrestricted")
    client.force_login(tenant_a.user(Role.OWNER))
    owner = tenant_a.members[Role.OWNER]
    edit = reverse("org:member_edit", kwargs={"organization_slug": tenant_a.organization.slug, "pk": owner.pk})

    refused = client.post(edit, {"role": Role.VIEWER})  # the last owner

    token.refresh_from_db()
    assert (refused.status_code, token.revoked_at, answers(client, raw)) == (400, None, 200)
    assert revocations(tenant_a) == []


def test_removing_the_creator_revokes_their_tokens_so_a_new_invitation_does_not_bring_them_back(client, tenant_a):
    creator = tenant_a.members[Role.OWNER]
    token, raw = token_of(tenant_a, "provider")
    colleague = second_owner(tenant_a)

    with tenant_a.scope():
        services.remove_member(membership=creator, actor=colleague.user)
        invitation = services.invite_member(
            organization=tenant_a.organization, invited_by=colleague.user, email=creator.user.email, role=Role.OWNER
        )
        services.accept_invitation(invitation=Invitation.objects.get(pk=invitation.pk), user=creator.user)

    assert answers(client, raw) == 401
    assert revocations(tenant_a) == [(colleague.user.email, str(token.pk), True)]
