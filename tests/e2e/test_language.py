"""A member chooses German with the footer's switcher: the pages speak it at once, and on another browser too."""

import pytest
from playwright.sync_api import Browser, Page, expect

from mls.enums import Role
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_member_switches_to_german_and_it_follows_them_to_another_browser(
    live_server, page: Page, browser: Browser, screenshot_path, tenant_a, sign_in
):
    director = tenant_a.user(Role.LD_DIRECTOR)
    sign_in(director.email)
    expect(page.get_by_role("heading", name="Upcoming sessions (next 14 days)")).to_be_visible()

    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change language").click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Anstehende Termine (nächste 14 Tage)")).to_be_visible()
    expect(page.get_by_role("navigation", name="Hauptmenü").get_by_role("link", name="Dashboard")).to_have_attribute(
        "aria-current", "page"
    )
    page.screenshot(path=screenshot_path, full_page=True)

    elsewhere = browser.new_context(locale="en-GB").new_page()  # no cookie: its login page is English
    elsewhere.goto(f"{live_server.url}/accounts/login/")
    elsewhere.get_by_label("Email").fill(director.email)
    elsewhere.get_by_label("Password").fill(PASSWORD)
    elsewhere.get_by_role("button", name="Sign In").click()

    expect(elsewhere.get_by_role("heading", name="Anstehende Termine (nächste 14 Tage)")).to_be_visible()
    expect(elsewhere.get_by_label("Sprache")).to_have_value("de")
