"""Journey: a learner asks for a sign-in link by email, follows the link from the outbox and sees their sessions
(and nobody else's)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.conftest import Tenant
from tests.factories.engagements import EngagementFactory
from tests.portal.world import NOW, learner_with_training

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_learner_signs_in_by_email_and_sees_their_sessions(
    live_server, page: Page, screenshot_path, settings, time_machine
):
    time_machine.move_to(NOW, tick=True)
    settings.SITE_URL = live_server.url
    tenant = Tenant("Acme Corp", "acme")
    with tenant.scope():
        engagement = EngagementFactory(organization=tenant.organization, provider=tenant.provider)
        learner_with_training(tenant, engagement, "Ada Lovelace", "ada@acme.example", "Ada")
        learner_with_training(tenant, engagement, "Bea Baker", "bea@acme.example", "Bea")
    mail.outbox.clear()

    page.goto(f"{live_server.url}/learn/")
    page.get_by_label("Email address").fill("ada@acme.example")
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text("If that address is known, we've sent a link to it.")

    (message,) = mail.outbox
    link = re.search(r"http\S+/learn/link/\S+/", message.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your training, Ada Lovelace")
    upcoming = page.get_by_role("table", name="Your upcoming sessions, soonest first")
    expect(upcoming.get_by_role("row")).to_have_count(2)  # the header and Ada's one session
    expect(upcoming).to_contain_text("Ada upcoming course")
    expect(upcoming.get_by_role("link", name="Join online Ada upcoming course")).to_have_attribute(
        "href", "https://meet.example/Ada"
    )
    expect(page.get_by_text("Bea upcoming course")).to_have_count(0)
    page.screenshot(path=screenshot_path, full_page=True)
