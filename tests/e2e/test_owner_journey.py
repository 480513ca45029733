"""Journey: the owner sets up an integration: an API token (shown once, then used against the REST API) and a webhook
endpoint, both listed under Settings."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from mls.enums import Role
from mls.models import ApiToken, WebhookEndpoint
from tests.factories.engagements import EngagementFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECEIVER = "https://93.184.216.34/mls"  # a public address: the endpoint check resolves nothing, sends nothing


def api_get(url: str, authorization: str | None = None) -> tuple[int, dict]:
    """A GET from outside the browser (no session cookie), as an integrator's system makes it."""
    request = urllib.request.Request(url, headers={"Authorization": authorization} if authorization else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the live test server
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_owner_creates_an_api_token_that_reads_the_api_and_a_webhook_endpoint(
    live_server, page: Page, screenshot_path, tenant_a, tenant_b, sign_in
):
    ours = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    EngagementFactory(organization=tenant_b.organization, provider=tenant_b.provider)  # what a leak would show

    sign_in(tenant_a.user(Role.OWNER).email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Workday sync")
    page.get_by_label("Scope").select_option(label="Read only")
    page.get_by_role("button", name="Create token").click()

    raw = page.get_by_role("textbox", name="Token", exact=True).input_value()
    page.screenshot(path=screenshot_path.with_name("owner_api_token_shown_once.png"), full_page=True)
    assert raw.startswith("mls_")
    expect(page.get_by_role("region", name="API tokens").get_by_role("row", name="Workday sync")).to_contain_text(
        "Read only"
    )
    with tenant_a.scope():
        token = ApiToken.objects.get(name="Workday sync")
    assert raw.startswith(token.prefix)

    status, listing = api_get(f"{live_server.url}/api/v1/engagements/", f"Token {raw}")
    refused, _ = api_get(f"{live_server.url}/api/v1/engagements/")
    assert (status, [engagement["id"] for engagement in listing["results"]]) == (200, [ours.pk])
    assert refused == 401
    page.reload()  # sends the form again: shown once means no second token, and no token on the page
    expect(page.get_by_role("alert")).to_contain_text("This form was already sent")
    expect(page.get_by_role("textbox", name="Token", exact=True)).to_have_count(0)
    expect(page.get_by_role("row", name="Workday sync")).not_to_contain_text("Never")  # used by the GET above
    with tenant_a.scope():
        assert list(ApiToken.objects.values_list("name", flat=True)) == ["Workday sync"]

    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Webhooks").click()
    page.get_by_role("link", name="Add endpoint").click()
    page.get_by_label("Payload URL").fill(RECEIVER)
    page.get_by_label("Description").fill("ERP credit notes")
    page.get_by_role("checkbox", name="credit.issued").check()
    page.get_by_role("checkbox", name="qbr.ready").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Endpoint added.")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Webhooks").click()
    endpoints = page.get_by_role("region", name="Webhook endpoints").get_by_role("row")
    expect(endpoints).to_have_count(2)  # the header and the new endpoint
    expect(endpoints.nth(1).get_by_role("cell")).to_have_text(
        [f"{RECEIVER}ERP credit notes", "credit.issued, qbr.ready", "Active", "0"]
    )
    with tenant_a.scope():
        endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.description, endpoint.events, endpoint.is_active) == (
        RECEIVER,
        "ERP credit notes",
        ["credit.issued", "qbr.ready"],
        True,
    )
    page.screenshot(path=screenshot_path, full_page=True)
