"""Journey: the demo L&D director reads the dashboard, opens the engagement's tiles and drills into one."""

import pytest
from playwright.sync_api import Page, expect

from mls.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_director_goes_from_the_dashboard_to_an_sla_tile_and_its_items(
    live_server, page: Page, screenshot_path, demo, sign_in
):
    sign_in("director@demo.test", DEMO_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/o/acme/")

    engagements = page.get_by_role("region", name="Engagements")
    expect(engagements.get_by_role("rowheader")).to_have_count(2)  # Northwind's engagement and Kestrel's
    for heading in ("Open escalations", "Upcoming sessions (next 14 days)", "Contract dates", "Compliance"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_role("img", name="Spend per month in")).to_be_visible()
    page.screenshot(path=screenshot_path.with_name("dashboard_organization.png"), full_page=True)

    engagements.get_by_role("link", name="Acme learning operations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme learning operations")
    tiles = page.get_by_role("region", name="Service levels").get_by_role("listitem")
    expect(tiles).to_have_count(6)  # the demo's six targets
    expect(tiles.first.get_by_role("img")).to_have_count(1)  # each tile has its sparkline
    page.screenshot(path=screenshot_path.with_name("dashboard_engagement.png"), full_page=True)

    page.get_by_role("link", name="Support first response").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Support first response")
