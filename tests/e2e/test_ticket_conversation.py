"""Journey: the client's L&D director answers the provider in a ticket's conversation and assigns it; the provider's
manager finds it waiting on them in the ticket list, filtered by status."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from mls.enums import Role
from scheduling import services
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_director_replies_and_assigns_and_the_provider_sees_it_waiting_on_them(
    live_server, page: Page, screenshot_path, tenant_a, sign_in
):
    now = timezone.now()
    engagement = EngagementFactory(
        organization=tenant_a.organization, provider=tenant_a.provider, name="Northwind delivery"
    )
    provider, director = tenant_a.members[Role.PROVIDER_MANAGER], tenant_a.members[Role.LD_DIRECTOR]
    with tenant_a.scope():
        question = ticket(engagement, now - timedelta(hours=3), subject="Certificate shows the wrong name")
        ticket(engagement, now - timedelta(hours=1), subject="Room too small for the group")
        services.post_reply(
            ticket=question,
            membership=provider,
            body="Which spelling should the certificate use? We will reissue it today.",
            now=now - timedelta(hours=2),
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(director.user.email)

    page.goto(f"{live_server.url}/o/{tenant_a.organization.slug}/tickets/{question.pk}/")
    page.get_by_label("Your reply").fill("“Zoë Ångström”, with both accents, please.")
    page.get_by_role("button", name="Post reply").click()
    page.get_by_label("Assigned to").select_option(str(director.pk))
    page.get_by_role("button", name="Assign").click()

    thread = page.locator(".thread__reply")
    expect(thread).to_have_count(2)
    expect(thread.nth(0)).to_contain_text("Provider")
    expect(thread.nth(1)).to_contain_text("Client")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Waiting on provider")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no horizontal scroll
    page.screenshot(path=screenshot_path, full_page=True)

    page.context.clear_cookies()
    sign_in(provider.user.email)
    page.goto(f"{live_server.url}/o/{tenant_a.organization.slug}/tickets/")
    page.get_by_label("Status").select_option("waiting_on_provider")
    page.get_by_role("button", name="Apply").click()

    tickets = page.get_by_role("region", name="Tickets")
    expect(tickets.locator("tbody").get_by_role("link")).to_have_text(["Certificate shows the wrong name"])
    expect(tickets.locator("tbody tr").first).to_contain_text("Waiting on provider")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=screenshot_path.with_name("ticket_list_waiting_on_provider.png"), full_page=True)
