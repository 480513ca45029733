"""Journey: the demo provider account manager adds a room to a venue, then a supplier whose insurance is
about to expire, and sees it flagged."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from mls.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_provider_adds_a_room_and_a_supplier_with_insurance_due_soon(
    live_server, page: Page, screenshot_path, demo, sign_in
):
    sign_in("provider@demo.test", DEMO_PASSWORD)

    page.goto(f"{live_server.url}/o/acme/venues/")
    page.get_by_role("link", name="Add room to Acme HQ Learning Centre").click()
    page.get_by_label("Name").fill("Turing")
    page.get_by_label("Seats").fill("-4")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Seats")).to_have_value("-4")  # refused, input kept
    page.get_by_label("Seats").fill("14")
    page.get_by_label("Resources").fill("Projector, 14 laptops")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Room added to Acme HQ Learning Centre.")).to_be_visible()
    expect(page.get_by_role("cell", name="Turing (edit) · 14 · Projector, 14 laptops", exact=False)).to_be_visible()
    page.screenshot(path=screenshot_path.with_name("venue_list.png"), full_page=True)

    page.goto(f"{live_server.url}/o/acme/suppliers/new/")
    page.get_by_label("Name").fill("Lumen Coaching")
    page.get_by_label("Insurance expires on").fill(f"{timezone.localdate() + timedelta(days=10):%Y-%m-%d}")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("row", name="Lumen Coaching").get_by_text("(in 10 days)")).to_be_visible()
    page.screenshot(path=screenshot_path, full_page=True)
