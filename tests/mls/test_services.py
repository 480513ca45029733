"""Tenancy-core services: organizations, invitations, members, audit trail."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from mls import services
from mls.enums import Role
from mls.models import AuditEvent, Invitation, Membership
from mls.selectors import organizations_of
from mls.tenancy import organization_scope
from tests.factories import InvitationFactory, ProviderFactory, UserFactory

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def actions(tenant):
    with tenant.scope():
        return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_create_organization_makes_owner_and_audits(db):
    owner = UserFactory()

    organization = services.create_organization(owner=owner, name="  Globex Learning ")

    assert (organization.name, organization.slug) == ("Globex Learning", "globex-learning")
    with organization_scope(organization):
        assert list(Membership.objects.values_list("user_id", "role")) == [(owner.pk, Role.OWNER)]
        assert list(AuditEvent.objects.order_by("id").values_list("action", "actor_id")) == [
            ("organization.created", owner.pk),
            ("member.added", owner.pk),
        ]


def test_create_organization_slug_is_unique_per_name(db):
    first = services.create_organization(owner=UserFactory(), name="Globex")
    second = services.create_organization(owner=UserFactory(), name="Globex")

    assert (first.slug, second.slug) == ("globex", "globex-2")


def test_create_organization_rejects_unknown_timezone_and_writes_nothing(db):
    owner = UserFactory()

    with pytest.raises(ValidationError) as error:
        services.create_organization(owner=owner, name="Globex", timezone="Mars/Olympus")

    assert "timezone" in error.value.error_dict
    assert list(organizations_of(owner)) == []


def test_invite_member_sends_email_after_commit_with_working_link(tenant_a, django_capture_on_commit_callbacks):
    owner = tenant_a.user(Role.OWNER)

    with tenant_a.scope(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        invitation = services.invite_member(
            organization=tenant_a.organization, invited_by=owner, email=" New.Person@Example.test ", role=Role.VIEWER
        )

    assert invitation.email == "new.person@example.test"
    assert len(callbacks) == 1
    assert [m.to for m in mail.outbox] == [["new.person@example.test"]]
    assert services.invitation_url(invitation) in mail.outbox[0].body
    assert actions(tenant_a)[-1] == "invitation.created"


def test_invite_member_again_revokes_the_previous_open_invitation(tenant_a):
    owner = tenant_a.user(Role.OWNER)
    with tenant_a.scope():
        first = services.invite_member(
            organization=tenant_a.organization, invited_by=owner, email="x@example.test", role=Role.VIEWER
        )
        second = services.invite_member(
            organization=tenant_a.organization, invited_by=owner, email="x@example.test", role=Role.PROCUREMENT
        )
        first.refresh_from_db()

    assert first.revoked_at is not None
    assert second.status == "pending"
    assert actions(tenant_a)[-3:] == ["invitation.created", "invitation.revoked", "invitation.created"]


@pytest.mark.parametrize(
    ("role", "with_provider", "field"),
    [(Role.PROVIDER_MANAGER, False, "provider"), (Role.VIEWER, True, "provider")],
)
def test_invite_member_provider_link_must_match_role(tenant_a, role, with_provider, field):
    with tenant_a.scope(), pytest.raises(ValidationError) as error:
        services.invite_member(
            organization=tenant_a.organization,
            invited_by=tenant_a.user(Role.OWNER),
            email="x@example.test",
            role=role,
            provider=tenant_a.provider if with_provider else None,
        )

    assert list(error.value.error_dict) == [field]
    with tenant_a.scope():
        assert Invitation.objects.count() == 0


def test_invite_member_refuses_provider_of_another_organization(tenant_a, tenant_b):
    with tenant_a.scope(), pytest.raises(ValidationError, match="provider of this organization"):
        services.invite_member(
            organization=tenant_a.organization,
            invited_by=tenant_a.user(Role.OWNER),
            email="x@example.test",
            role=Role.PROVIDER_MANAGER,
            provider=tenant_b.provider,
        )


def test_invite_member_refuses_existing_member(tenant_a):
    existing = tenant_a.user(Role.VIEWER).email.upper()

    with tenant_a.scope(), pytest.raises(ValidationError, match="already a member"):
        services.invite_member(
            organization=tenant_a.organization, invited_by=tenant_a.user(Role.OWNER), email=existing, role=Role.VIEWER
        )


def test_accept_invitation_creates_membership_with_invited_role(tenant_a):
    provider = ProviderFactory(organization=tenant_a.organization)
    invitation = InvitationFactory(
        organization=tenant_a.organization, email="pm@example.test", role=Role.PROVIDER_MANAGER, provider=provider
    )
    user = UserFactory(email="pm@example.test")

    with tenant_a.scope():
        membership = services.accept_invitation(invitation=invitation, user=user)
        invitation.refresh_from_db()

    assert (membership.user, membership.role, membership.provider) == (user, Role.PROVIDER_MANAGER, provider)
    assert invitation.status == "accepted"
    assert actions(tenant_a)[-2:] == ["invitation.accepted", "member.added"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"revoked_at": NOW}, "revoked"),
        ({"expires_at": NOW - timedelta(seconds=1)}, "expired"),
        ({"email": "someone.else@example.test"}, "was sent to someone.else@example.test"),
    ],
)
def test_accept_invitation_refuses_unusable_invitation(tenant_a, time_machine, change, message):
    time_machine.move_to(NOW, tick=False)
    invitation = InvitationFactory(organization=tenant_a.organization, **{"email": "me@example.test", **change})
    user = UserFactory(email="me@example.test")

    with tenant_a.scope(), pytest.raises(ValidationError, match=message):
        services.accept_invitation(invitation=invitation, user=user)

    with tenant_a.scope():
        assert not Membership.objects.filter(user=user).exists()


@pytest.mark.parametrize("operation", ["demote", "remove"])
def test_last_owner_cannot_be_demoted_or_removed(tenant_a, operation):
    owner = tenant_a.members[Role.OWNER]

    act = {
        "demote": lambda: services.change_member_role(
            membership=owner, role=Role.VIEWER, provider=None, actor=owner.user
        ),
        "remove": lambda: services.remove_member(membership=owner, actor=owner.user),
    }[operation]

    with tenant_a.scope(), pytest.raises(ValidationError, match="at least one owner"):
        act()

    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_owner_can_step_down_when_another_owner_exists(tenant_a):
    owner = tenant_a.members[Role.OWNER]
    director = tenant_a.members[Role.LD_DIRECTOR]
    with tenant_a.scope():
        services.change_member_role(membership=director, role=Role.OWNER, provider=None, actor=owner.user)

        services.change_member_role(membership=owner, role=Role.VIEWER, provider=None, actor=owner.user)

        event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.before["role"], event.after["role"]) == ("member.role_changed", "owner", "viewer")


def test_remove_member_deletes_membership_and_keeps_audit(tenant_a):
    viewer = tenant_a.members[Role.VIEWER]
    viewer_id, viewer_user_id = viewer.pk, viewer.user_id

    with tenant_a.scope():
        services.remove_member(membership=viewer, actor=tenant_a.user(Role.OWNER))
        event = AuditEvent.objects.order_by("-id").first()

        assert not Membership.objects.filter(pk=viewer_id).exists()
    assert (event.action, event.object_id, event.before["user"]) == ("member.removed", str(viewer_id), viewer_user_id)


def test_audit_event_cannot_be_changed_or_deleted_through_the_orm(tenant_a):
    with tenant_a.scope():
        event = tenant_a.provider.log_action("x.y", actor=None)
        event.action = "tampered"

        with pytest.raises(PermissionError):
            event.save()
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize("statement", ["UPDATE mls_auditevent SET action = 'x'", "DELETE FROM mls_auditevent"])
def test_audit_event_is_append_only_in_postgres_itself(tenant_a, statement):
    with tenant_a.scope():
        tenant_a.provider.log_action("x.y", actor=None)

    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert "append-only" in str(error.value)
