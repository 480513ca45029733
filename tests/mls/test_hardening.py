"""ASVS 5.0 L2 hardening through the test client: the response headers (CSP with nonces, Permissions-Policy,
no-store), the organization's two-factor requirement, session lifetimes, the offline API docs."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.core.internal.httpkit import get_client_ip
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import RequestFactory
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent, Organization
from tests.factories import PASSWORD, api_token
from tests.factories.reporting import stored_qbr
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration

MONDAY_9AM = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as directive → sources."""
    directives = [part.split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def token_auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def org_url(tenant, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


# --- Headers ----------------------------------------------------------------------------------------------


def test_tenant_page_api_answer_and_qbr_download_carry_csp_permissions_policy_and_no_store(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    with tenant_a.scope():
        review = stored_qbr(engagement, content=b"%PDF-1.7 stored QBR")
    raw = api_token(tenant_a)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    page = client.get(org_url(tenant_a, "reporting:dashboard"))
    download = client.get(org_url(tenant_a, "reporting:qbr_download", pk=review.pk))
    client.logout()
    api = client.get(f"/api/v1/engagements/{engagement.pk}/", **token_auth(raw))

    assert [page.status_code, api.status_code, download.status_code] == [200, 200, 200]
    for response in (page, api, download):
        csp = policy(response)
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["default-src"] == ["'self'"]
        assert "'unsafe-inline'" not in csp["script-src"]
        assert "camera=()" in response["Permissions-Policy"].split(", ")
        assert "no-store" in response["Cache-Control"].split(", ")
    assert api["ETag"].startswith('"')  # no-store leaves the API's conditional requests alone


def test_every_script_of_a_page_carries_the_nonce_its_policy_names(client, tenant_a):
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    response = client.get(org_url(tenant_a, "reporting:dashboard"))

    nonces = [source for source in policy(response)["script-src"] if source.startswith("'nonce-")]
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert policy(response)["script-src"][0] == "'self'"
    assert len(nonces) == 1
    nonce = nonces[0].removeprefix("'nonce-").removesuffix("'")
    assert len(scripts) >= 2  # htmx and mls.js
    assert all(f'nonce="{nonce}"' in script for script in scripts), scripts
    assert " on" not in "".join(re.findall(r"<form\b[^>]*>", response.content.decode()))  # no inline handlers


def test_a_second_request_gets_another_nonce(client, tenant_a):
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    first = policy(client.get(org_url(tenant_a, "reporting:dashboard")))["script-src"]
    second = policy(client.get(org_url(tenant_a, "reporting:dashboard")))["script-src"]

    assert first != second


def test_permissions_policy_is_on_anonymous_and_error_responses_too(client, db):
    login = client.get(reverse("account_login"))
    missing = client.get("/o/no-such-organization/")
    api = client.get("/api/v1/engagements/")

    assert [login.status_code, missing.status_code, api.status_code] == [200, 302, 401]
    for response in (login, missing, api):
        features = response["Permissions-Policy"].split(", ")
        assert {"camera=()", "microphone=()", "geolocation=()", "payment=()"} <= set(features)


def test_an_anonymous_answer_is_not_marked_no_store(client, db):
    response = client.get("/api/v1/schema/")

    assert "no-store" not in response.get("Cache-Control", "")


def test_the_session_api_answer_is_no_store_and_keeps_its_etag_for_if_none_match(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    headers = {"HTTP_X_MLS_ORGANIZATION": tenant_a.organization.slug}

    first = client.get(f"/api/v1/engagements/{engagement.pk}/", **headers)
    again = client.get(f"/api/v1/engagements/{engagement.pk}/", HTTP_IF_NONE_MATCH=first["ETag"], **headers)

    assert [first.status_code, again.status_code] == [200, 304]
    assert "no-store" in first["Cache-Control"]
    assert again["ETag"] == first["ETag"]


@pytest.mark.parametrize("path", ["/api/v1/redoc/", "/api/v1/docs/"])
def test_api_docs_load_only_local_assets_with_nonced_scripts(client, db, path):
    response = client.get(path)

    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]*)"', html)
    nonce = next(s for s in policy(response)["script-src"] if s.startswith("'nonce-"))[7:-1]
    assert response.status_code == 200
    assert assets
    assert all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    assert re.findall(r"https?://", html) == []
    assert all(f'nonce="{nonce}"' in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert "'unsafe-inline'" not in policy(response)["script-src"]


# --- Two-factor requirement ----------------------------------------------------------------------------------


def require_mfa(tenant, *, roles: list[str] = (), everyone: bool = False) -> None:
    Organization.objects.filter(pk=tenant.organization.pk).update(mfa_required=everyone, mfa_required_roles=roles)


def test_owner_requires_mfa_of_a_role_on_the_settings_page_and_it_is_audited(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    TOTP.activate(tenant_a.user(Role.OWNER), generate_totp_secret())
    form = {"name": "Acme Corp", "timezone": "Europe/Paris", "currency": "GBP", "holiday_country": "GB"}

    response = client.post(org_url(tenant_a, "org:settings"), {**form, "mfa_required_roles": ["ld_director"]})

    assert response.status_code == 302
    tenant_a.organization.refresh_from_db()
    assert (tenant_a.organization.mfa_required, tenant_a.organization.mfa_required_roles) == (False, ["ld_director"])
    with tenant_a.scope():
        event = AuditEvent.objects.get(action="organization.updated")
    assert (event.before["mfa_required_roles"], event.after["mfa_required_roles"]) == ([], ["ld_director"])
    assert (event.before["timezone"], event.after["timezone"]) == ("Europe/London", "Europe/Paris")
    assert event.actor == tenant_a.user(Role.OWNER)


def test_settings_page_refuses_an_unknown_role_and_writes_nothing(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    form = {"name": "Acme Corp", "timezone": "UTC", "currency": "GBP", "holiday_country": "GB"}

    response = client.post(org_url(tenant_a, "org:settings"), {**form, "mfa_required_roles": ["emperor"]})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["mfa_required_roles"]
    tenant_a.organization.refresh_from_db()
    assert tenant_a.organization.mfa_required_roles == []
    with tenant_a.scope():
        assert not AuditEvent.objects.filter(action="organization.updated").exists()


def test_a_member_of_a_required_role_without_mfa_is_sent_to_set_it_up_first(client, tenant_a):
    require_mfa(tenant_a, roles=[Role.LD_DIRECTOR])
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    refused = client.get(org_url(tenant_a, "reporting:dashboard"))
    asked = client.get(refused["Location"], follow=True)  # allauth confirms the password before adding a factor
    setup = client.post(asked.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    TOTP.activate(tenant_a.user(Role.LD_DIRECTOR), generate_totp_secret())
    allowed = client.get(org_url(tenant_a, "reporting:dashboard"))

    assert refused.status_code == 302
    assert refused["Location"] == reverse("mfa_activate_totp")
    assert asked.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    assert "Acme Corp requires two-factor authentication" in asked.content.decode()
    assert (setup.status_code, setup.request["PATH_INFO"]) == (200, reverse("mfa_activate_totp"))
    assert allowed.status_code == 200


def test_a_role_not_required_is_not_asked_and_everyone_means_every_role(client, tenant_a):
    require_mfa(tenant_a, roles=[Role.LD_DIRECTOR])
    client.force_login(tenant_a.user(Role.VIEWER))
    viewer_before = client.get(org_url(tenant_a, "reporting:dashboard"))

    require_mfa(tenant_a, everyone=True)
    viewer_after = client.get(org_url(tenant_a, "reporting:dashboard"))

    assert viewer_before.status_code == 200
    assert viewer_after.status_code == 302
    assert viewer_after["Location"] == reverse("mfa_activate_totp")


def test_api_tokens_are_unaffected_but_the_web_apps_session_calls_are_refused(client, tenant_a):
    raw = api_token(tenant_a)  # created by the owner, who has no authenticator
    require_mfa(tenant_a, everyone=True)

    with_token = client.get("/api/v1/engagements/", **token_auth(raw))
    client.force_login(tenant_a.user(Role.OWNER))
    with_session = client.get("/api/v1/engagements/", HTTP_X_MLS_ORGANIZATION=tenant_a.organization.slug)

    assert with_token.status_code == 200
    assert with_session.status_code == 403
    assert "two-factor" in with_session.json()["detail"]


def test_the_requirement_of_one_organization_does_not_reach_another(client, tenant_a, tenant_b):
    require_mfa(tenant_b, everyone=True)
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "reporting:dashboard"))

    assert response.status_code == 200


# --- Session lifetime ------------------------------------------------------------------------------------------


def test_a_session_idle_past_the_timeout_is_signed_out(client, tenant_a, settings):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        client.force_login(tenant_a.user(Role.VIEWER))
        traveller.shift(timedelta(minutes=29))
        still_in = client.get(reverse("organization_list"))
        traveller.shift(timedelta(minutes=30, seconds=1))  # 30 min and 1 s after the last request
        idle = client.get(reverse("organization_list"))
        after = client.get(reverse("organization_list"))

    assert still_in.status_code == 200
    assert idle.status_code == 302
    assert idle["Location"].startswith(reverse("account_login"))
    assert after.status_code == 302  # signed out for good, not for one request


def test_an_active_session_ends_at_its_absolute_lifetime(client, tenant_a, settings):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    settings.SESSION_ABSOLUTE_LIFETIME = 12 * 60 * 60
    statuses = []
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        client.force_login(tenant_a.user(Role.VIEWER))
        for _ in range(28):  # a request every 25 minutes: 28 × 25 min = 11 h 40 min
            traveller.shift(timedelta(minutes=25))
            statuses.append(client.get(reverse("organization_list")).status_code)
        traveller.shift(timedelta(minutes=20, seconds=1))  # 12 h and 1 s after signing in
        expired = client.get(reverse("organization_list"))

    assert statuses == [200] * 28
    assert expired.status_code == 302
    assert expired["Location"].startswith(reverse("account_login"))


def test_a_session_expiry_also_ends_the_api_session_call(client, tenant_a, settings):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        client.force_login(tenant_a.user(Role.VIEWER))
        traveller.shift(timedelta(minutes=31))
        response = client.get("/api/v1/engagements/", HTTP_X_MLS_ORGANIZATION=tenant_a.organization.slug)

    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."


# --- Behind a proxy ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "client_ip"), [(0, "10.0.0.9"), (1, "10.0.0.8"), (2, "203.0.113.7")])
def test_allauth_takes_the_client_address_from_the_trusted_proxies_only(settings, count, client_ip):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = count
    # The client forged the first entry; proxy 1 appended the client's address, proxy 2 (REMOTE_ADDR) proxy 1's.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7, 10.0.0.8"
    )

    assert get_client_ip(request) == client_ip
