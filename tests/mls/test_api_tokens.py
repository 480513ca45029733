"""Settings → API tokens: an owner creates a token (shown once, stored hashed), lists and revokes it."""

import hashlib

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import ApiToken, ApiTokenScope, AuditEvent

pytestmark = pytest.mark.integration


def tokens_url(tenant: object) -> str:
    return reverse("org:api_tokens", kwargs={"organization_slug": tenant.organization.slug})


def send_token_form(client, tenant: object, data: dict):
    """Open the page, then send its form (with the form's one-time key, as a browser does)."""
    form_key = client.get(tokens_url(tenant)).context["form_key"]
    return client.post(tokens_url(tenant), {"form_key": form_key, **data})


def test_owner_creates_token_shown_once_and_stored_as_its_hash(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    created = send_token_form(
        client, tenant_a, {"name": "Workday sync", "scope": "read_write", "provider": tenant_a.provider.pk}
    )
    listed = client.get(tokens_url(tenant_a))

    raw = created.context["raw_token"]
    assert created.status_code == 201
    assert raw.startswith(f"mls_{tenant_a.organization.pk}_")
    assert raw in created.content.decode()
    assert raw not in listed.content.decode()
    with tenant_a.scope():
        token = ApiToken.objects.get()
        assert (token.name, token.scope, token.provider, token.secret_hash) == (
            "Workday sync",
            ApiTokenScope.READ_WRITE,
            tenant_a.provider,
            hashlib.sha256(raw.encode()).hexdigest(),
        )
        assert list(AuditEvent.objects.filter(object_type="mls.apitoken").values_list("action", flat=True)) == [
            "api_token.created"
        ]


def test_token_without_a_name_is_refused_with_the_form_and_nothing_written(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    response = send_token_form(client, tenant_a, {"name": "", "scope": "read"})

    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    with tenant_a.scope():
        assert ApiToken.objects.count() == 0


def test_sending_the_token_form_again_creates_no_second_token(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    data = {"form_key": client.get(tokens_url(tenant_a)).context["form_key"], "name": "LMS", "scope": "read"}
    created = client.post(tokens_url(tenant_a), data)

    again = client.post(tokens_url(tenant_a), data)  # what reloading the page that shows the token does

    assert (created.status_code, again.status_code) == (201, 400)
    assert again.context["form"].non_field_errors()[0].startswith("This form was already sent")
    assert "raw_token" not in again.context
    with tenant_a.scope():
        assert list(ApiToken.objects.values_list("name", flat=True)) == ["LMS"]


def test_token_forms_open_in_two_tabs_each_create_their_token(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    first_key, second_key = (client.get(tokens_url(tenant_a)).context["form_key"] for _ in range(2))

    first = client.post(tokens_url(tenant_a), {"form_key": first_key, "name": "LMS", "scope": "read"})
    second = client.post(tokens_url(tenant_a), {"form_key": second_key, "name": "HRIS", "scope": "read"})

    assert (first.status_code, second.status_code) == (201, 201)
    with tenant_a.scope():
        assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["HRIS", "LMS"]


def test_revoking_asks_first_then_revokes_and_the_api_refuses_the_token(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    raw = send_token_form(client, tenant_a, {"name": "LMS", "scope": "read"}).context["raw_token"]
    with tenant_a.scope():
        token = ApiToken.objects.get()
    url = reverse("org:api_token_revoke", kwargs={"organization_slug": tenant_a.organization.slug, "pk": token.pk})

    asked = client.get(url)
    revoked = client.post(url)
    api = client.get("/api/v1/learners/", HTTP_AUTHORIZATION=f"Token {raw}")

    assert (asked.status_code, revoked.status_code, api.status_code) == (200, 302, 401)
    with tenant_a.scope():
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert AuditEvent.objects.filter(action="api_token.revoked", object_id=str(token.pk)).count() == 1
