"""Journey: under the Content-Security-Policy the dashboard, a form page and htmx still work in Chromium with no
violation reported; an owner requires two-factor sign-in of directors, and a director is sent to set it up."""

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from mls.enums import Role
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pages_render_under_the_policy_and_a_director_is_sent_to_two_factor_set_up(
    live_server, page: Page, screenshot_path, sign_in
):
    organization = OrganizationFactory(name="Globex", slug="globex")
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    director = MembershipFactory(organization=organization, role=Role.LD_DIRECTOR).user
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: violations.append(str(error)))

    sign_in(owner.email)
    expect(page).to_have_url(f"{live_server.url}/o/globex/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # htmx loaded (our own file, nonce'd) and configured without eval.
    assert page.evaluate("() => [typeof htmx, htmx.config.allowEval, htmx.config.includeIndicatorStyles]") == [
        "object",
        False,
        False,
    ]
    page.screenshot(path=screenshot_path.with_name("csp_dashboard.png"), full_page=True)

    page.goto(f"{live_server.url}/o/globex/settings/")
    expect(page.get_by_role("heading", name="Settings of Globex")).to_be_visible()
    page.get_by_role("group", name="Require two-factor authentication of these roles").get_by_label(
        "L&D director"
    ).check()
    page.screenshot(path=screenshot_path.with_name("csp_settings_form.png"), full_page=True)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")
    organization.refresh_from_db()
    assert (organization.mfa_required, organization.mfa_required_roles) == (False, [Role.LD_DIRECTOR])
    page.get_by_role("button", name="Sign out").click()

    sign_in(director.email)
    # The dashboard is not shown: allauth confirms the password, then sets up the authenticator app.
    expect(page.get_by_text("Globex requires two-factor authentication")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    qr_code = page.locator('img[src^="data:image/svg+xml"]')
    assert qr_code.evaluate("(img) => img.complete && img.naturalWidth > 0")  # the data: QR code is allowed
    page.screenshot(path=screenshot_path.with_name("csp_mfa_set_up.png"), full_page=True)
    page.goto(f"{live_server.url}/o/globex/")
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/totp/activate/")

    assert violations == []


def test_the_api_docs_render_from_local_assets_under_the_policy(live_server, page: Page, screenshot_path):
    violations: list[str] = []
    external: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content" in message.text else None)
    page.on("pageerror", lambda error: violations.append(str(error)))
    page.on(
        "request", lambda request: None if request.url.startswith(live_server.url) else external.append(request.url)
    )

    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.get_by_role("heading", name="MLS API")).to_be_visible()
    expect(page.get_by_text("/api/v1/engagements/").first).to_be_visible()
    page.screenshot(path=screenshot_path.with_name("csp_swagger.png"))
    page.goto(f"{live_server.url}/api/v1/redoc/")
    # Redoc lays out the whole schema in the browser before it shows anything: seconds on a busy machine.
    expect(page.get_by_role("heading", name="MLS API").first).to_be_visible(timeout=60_000)
    page.screenshot(path=screenshot_path.with_name("csp_redoc.png"))

    # Redoc's bundle hard-codes its "API docs by Redocly" logo on a CDN: the policy refuses it (the component then
    # hides itself), so nothing is fetched from outside; that refusal is the only one.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [url for url in external if not url.startswith(("data:", "blob:"))] in ([], [logo])
    assert all(logo in violation and "img-src" in violation for violation in violations), violations
