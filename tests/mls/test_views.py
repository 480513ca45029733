"""Tenancy pages through the test client: sign-up, MFA login, invitations, members, audit log."""

import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from django.urls import reverse

from mls import services
from mls.enums import Role
from mls.models import AuditEvent, Invitation, Membership, Notification, Organization, User
from mls.selectors import organizations_of
from mls.services import invitation_token
from mls.tenancy import organization_scope
from tests.factories import PASSWORD, AuditEventFactory, InvitationFactory, MembershipFactory, UserFactory
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.integration


def members_url(tenant):
    return reverse("org:members", kwargs={"organization_slug": tenant.organization.slug})


SIGNUP = {"password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42", "organization_name": "Globex"}


def confirmation_link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body)[1]


def test_signup_keeps_the_organization_name_and_creates_it_when_the_email_is_confirmed(client, db):
    response = client.post(reverse("account_signup"), {**SIGNUP, "email": "founder@globex.test"})
    user = User.objects.get(email="founder@globex.test")
    before_confirmation = (list(organizations_of(user)), user.pending_organization_name)

    client.post(confirmation_link(mail.outbox[0]))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert len(mail.outbox) == 1  # the address must be verified before the first sign-in
    assert before_confirmation == ([], "Globex")
    organization = organizations_of(user).get()
    assert (organization.name, organization.slug) == ("Globex", "globex")
    user.refresh_from_db()
    assert user.pending_organization_name == ""
    with organization_scope(organization):
        assert list(AuditEvent.objects.values_list("action", "actor__email").order_by("id")) == [
            ("organization.created", "founder@globex.test"),
            ("member.added", "founder@globex.test"),
        ]


def test_an_unverified_signup_reserves_no_slug_the_first_confirmed_gets_it(client, db):
    client.post(reverse("account_signup"), {**SIGNUP, "email": "squatter@elsewhere.test"})
    client.post(reverse("account_signup"), {**SIGNUP, "email": "founder@globex.test"})
    founder_link = confirmation_link(mail.outbox[1])

    client.post(founder_link)
    client.post(founder_link)  # opened twice: still one organization

    assert list(Organization.objects.values_list("slug", flat=True)) == ["globex"]
    assert organizations_of(User.objects.get(email="founder@globex.test")).get().slug == "globex"
    assert list(organizations_of(User.objects.get(email="squatter@elsewhere.test"))) == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"}, "email"),
        ({"email": "x@globex.test", "password1": "a-long-passphrase-42", "password2": "different-42"}, "password2"),
        ({"email": "x@globex.test", "password1": "short", "password2": "short"}, "password1"),
    ],
)
def test_signup_with_bad_input_rerenders_with_field_error_and_creates_nothing(client, db, data, field):
    response = client.post(reverse("account_signup"), {**data, "organization_name": "Globex"})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert b'value="Globex"' in response.content  # the user's input is kept
    assert (User.objects.count(), Organization.objects.count()) == (0, 0)


def test_login_with_totp_enrolled_requires_the_code(client, tenant_a):
    user = tenant_a.user(Role.LD_DIRECTOR)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("home")).status_code == 302  # not signed in yet

    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    response = client.post(reverse("mfa_authenticate"), {"code": code}, follow=True)

    assert response.redirect_chain[-1][0] == tenant_a.organization.get_absolute_url()
    assert response.context["request"].organization == tenant_a.organization


def test_login_with_wrong_totp_code_stays_signed_out(client, tenant_a):
    user = tenant_a.user(Role.LD_DIRECTOR)
    TOTP.activate(user, generate_totp_secret())
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["Incorrect code."]}
    assert "_auth_user_id" not in client.session


def test_password_reset_emails_a_link(client, tenant_a):
    user = tenant_a.user(Role.VIEWER)

    response = client.post(reverse("account_reset_password"), {"email": user.email})

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_home_without_membership_asks_to_create_an_organization(client, db):
    client.force_login(UserFactory())

    response = client.get(reverse("home"))

    assert response["Location"] == reverse("organization_create")


def test_create_organization_page_with_bad_timezone_shows_error(client, db):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        reverse("organization_create"),
        {"name": "Globex", "timezone": "Mars/Olympus", "currency": "GBP", "holiday_country": "GB"},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["timezone"]
    assert list(organizations_of(user)) == []


def test_members_page_invite_sends_invitation(client, tenant_a, django_capture_on_commit_callbacks):
    client.force_login(tenant_a.user(Role.OWNER))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(members_url(tenant_a), {"email": "New@Example.test", "role": Role.PROCUREMENT})

    assert response.status_code == 302
    with tenant_a.scope():
        assert list(Invitation.objects.values_list("email", "role")) == [("new@example.test", Role.PROCUREMENT)]
    assert [m.to for m in mail.outbox] == [["new@example.test"]]


def test_an_invitation_from_an_organization_named_with_a_line_break_is_sent_on_one_subject_line(
    client, tenant_a, django_capture_on_commit_callbacks
):
    tenant_a.organization.name = "Acme\r\nBcc: spy@evil.test"
    tenant_a.organization.save(update_fields=["name"])
    client.force_login(tenant_a.user(Role.OWNER))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(members_url(tenant_a), {"email": "new@example.test", "role": Role.VIEWER})

    assert response.status_code == 302
    assert [(m.subject, m.to, m.message()["Bcc"]) for m in mail.outbox] == [
        ("You are invited to Acme Bcc: spy@evil.test on MLS", ["new@example.test"], None)
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email", "role": Role.VIEWER}, "email"),
        ({"email": "x@example.test", "role": "emperor"}, "role"),
        ({"email": "x@example.test", "role": Role.PROVIDER_MANAGER}, "provider"),
    ],
)
def test_members_page_bad_invite_shows_field_error_and_writes_nothing(client, tenant_a, data, field):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(members_url(tenant_a), data)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    with tenant_a.scope():
        assert Invitation.objects.count() == 0


def test_members_page_invite_of_existing_member_shows_service_error(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(members_url(tenant_a), {"email": tenant_a.user(Role.VIEWER).email, "role": Role.VIEWER})

    assert response.status_code == 400
    assert "already a member" in response.context["form"].errors["email"][0]


def test_members_page_provider_choices_are_only_this_organizations(client, tenant_a, tenant_b):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(members_url(tenant_a))

    choices = [value.value for value, _label in response.context["form"].fields["provider"].choices if value]
    assert choices == [tenant_a.provider.pk]


@pytest.mark.parametrize("extra_members", [1, 3])
def test_members_page_query_count_is_constant(client, tenant_a, django_assert_num_queries, extra_members):
    for _ in range(extra_members):
        MembershipFactory(organization=tenant_a.organization)
        InvitationFactory(organization=tenant_a.organization)
    client.force_login(tenant_a.user(Role.OWNER))

    # Queries: session, user, organization, membership, switcher, unread count, members, invitations, providers.
    with django_assert_num_queries(9):
        response = client.get(members_url(tenant_a))

    assert len(response.context["members"]) == 5 + extra_members


def test_invitation_link_for_anonymous_user_offers_sign_in_and_verifies_email(client, tenant_a):
    invitation = InvitationFactory(organization=tenant_a.organization, email="joiner@example.test")
    link = reverse("invitation_accept", kwargs={"token": invitation_token(invitation)})

    response = client.get(link)
    signup = client.post(
        reverse("account_signup"),
        {"email": "joiner@example.test", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )

    assert response.status_code == 200
    assert f'href="{reverse("account_login")}?next={quote(link)}"' in response.content.decode()
    # The emailed link proved the address: sign-up signs in at once and lands back on the invitation.
    assert signup["Location"] == link
    response = client.post(link)
    assert response.status_code == 302
    with tenant_a.scope():
        assert Membership.objects.get(user__email="joiner@example.test").role == Role.LD_DIRECTOR


def test_invitation_link_signed_in_as_other_email_explains_and_does_not_join(client, tenant_a):
    invitation = InvitationFactory(organization=tenant_a.organization, email="joiner@example.test")
    other = UserFactory()
    client.force_login(other)
    link = reverse("invitation_accept", kwargs={"token": invitation_token(invitation)})

    response = client.post(link)

    assert response.status_code == 400
    assert "was sent to joiner@example.test" in response.context["error"]
    assert list(organizations_of(other)) == []


@pytest.mark.parametrize("token", ["garbage", "eyJvIjoxLCJpIjoxfQ:1tampered:signature"])
def test_invitation_link_with_bad_token_is_404(client, db, token):
    response = client.get(reverse("invitation_accept", kwargs={"token": token}))

    assert response.status_code == 404


def test_revoked_invitation_link_is_gone(client, tenant_a):
    invitation = InvitationFactory(organization=tenant_a.organization, revoked_at="2026-01-01T00:00Z")

    response = client.get(reverse("invitation_accept", kwargs={"token": invitation_token(invitation)}))

    assert response.status_code == 410
    assert b"This invitation is revoked" in response.content


def test_remove_member_asks_for_confirmation_before_removing(client, tenant_a):
    viewer = tenant_a.members[Role.VIEWER]
    client.force_login(tenant_a.user(Role.OWNER))
    remove_url = reverse("org:member_remove", kwargs={"organization_slug": tenant_a.organization.slug, "pk": viewer.pk})

    confirm_page = client.get(remove_url)
    with tenant_a.scope():
        still_there = Membership.objects.filter(pk=viewer.pk).exists()
    response = client.post(remove_url)

    assert confirm_page.status_code == 200
    assert b"Remove member" in confirm_page.content
    assert still_there
    assert response["Location"] == members_url(tenant_a)
    with tenant_a.scope():
        assert not Membership.objects.filter(pk=viewer.pk).exists()


def test_remove_last_owner_shows_error_instead_of_removing(client, tenant_a):
    owner = tenant_a.members[Role.OWNER]
    client.force_login(owner.user)

    response = client.post(
        reverse("org:member_remove", kwargs={"organization_slug": tenant_a.organization.slug, "pk": owner.pk})
    )

    assert response.status_code == 400
    assert "at least one owner" in response.context["error"]
    with tenant_a.scope():
        assert Membership.objects.filter(pk=owner.pk).exists()


def test_change_role_to_provider_manager_without_provider_shows_error(client, tenant_a):
    viewer = tenant_a.members[Role.VIEWER]
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        reverse("org:member_edit", kwargs={"organization_slug": tenant_a.organization.slug, "pk": viewer.pk}),
        {"role": Role.PROVIDER_MANAGER},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["provider"]
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER


def test_audit_log_filters_by_action_and_paginates(client, tenant_a, tenant_b):
    AuditEventFactory.create_batch(55, organization=tenant_a.organization, action="member.added")
    AuditEventFactory(organization=tenant_a.organization, action="invitation.created")
    AuditEventFactory(organization=tenant_b.organization, action="invitation.created")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    audit_url = reverse("org:audit_log", kwargs={"organization_slug": tenant_a.organization.slug})

    filtered = client.get(audit_url, {"action": "invitation"})
    page_two = client.get(audit_url, {"page": 2})

    assert [e.organization_id for e in filtered.context["page"].object_list] == [tenant_a.organization.pk]
    assert (page_two.context["page"].number, len(page_two.context["page"].object_list)) == (2, 6)
    assert re.search(rb"Page 2 of 2", page_two.content)


@pytest.mark.parametrize("events", [1, 3])
def test_audit_log_query_count_is_constant(client, tenant_a, django_assert_num_queries, events):
    AuditEventFactory.create_batch(events, organization=tenant_a.organization)
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread count, count, page, object types.
    with django_assert_num_queries(9):
        response = client.get(reverse("org:audit_log", kwargs={"organization_slug": tenant_a.organization.slug}))

    assert len(response.context["page"].object_list) == events
    with tenant_a.scope():
        assert AuditEvent.objects.count() == events


def test_audit_log_shows_times_in_the_organizations_timezone(client, tenant_a):
    # 2026-07-01 12:00 UTC is 13:00 in London (BST, UTC+1).
    AuditEventFactory(organization=tenant_a.organization, at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(reverse("org:audit_log", kwargs={"organization_slug": tenant_a.organization.slug}))

    assert b'<time datetime="2026-07-01T13:00:00+01:00">2026-07-01 13:00</time>' in response.content
    assert b"When (Europe/London)" in response.content


def test_notifications_page_lists_only_my_notifications_and_marks_them_read(client, tenant_a):
    me, colleague = tenant_a.user(Role.LD_DIRECTOR), tenant_a.user(Role.OWNER)
    with tenant_a.scope():
        services.notify(organization=tenant_a.organization, users=[me], title="Renewal notice in 90 days", body="x")
        services.notify(organization=tenant_a.organization, users=[colleague], title="Not for you", body="y")
    client.force_login(me)
    url = reverse("org:notifications", kwargs={"organization_slug": tenant_a.organization.slug})

    inbox = client.get(url)
    client.post(url)
    after = client.get(url)

    assert [n.title for n in inbox.context["page"].object_list] == ["Renewal notice in 90 days"]
    assert (inbox.context["unread_notifications"], after.context["unread_notifications"]) == (1, 0)
    with tenant_a.scope():
        assert Notification.objects.get(user=colleague).read_at is None


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/o/acme/", "Dashboard"),
        ("/o/acme/settings/members/", "Settings"),
        ("/o/acme/settings/api-tokens/", "Settings"),
        ("/o/acme/settings/webhooks/", "Settings"),
        ("/o/acme/engagements/", "Engagements"),
        ("/o/acme/engagements/{engagement}/", "Engagements"),
        ("/o/acme/engagements/{engagement}/sla/", "SLAs"),
        ("/o/acme/slas/", "SLAs"),
        ("/o/acme/notifications/", None),
    ],
)
def test_navigation_marks_the_area_of_the_page(client, tenant_a, path, current):
    client.force_login(tenant_a.user(Role.OWNER))
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)

    response = client.get(path.format(engagement=engagement.pk))

    assert response.status_code == 200
    assert [item["label"] for item in response.context["nav_items"] if item["current"]] == (
        [current] if current else []
    )
