"""Journey: the L&D director signs in with a TOTP code, drills from a breached SLA tile to the failed tickets and
approves the provider's change request."""

import re
import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from playwright.sync_api import Page, expect

from engagements import services as contract_services
from engagements.enums import ChangeRequestStatus, VersionStatus
from engagements.models import ChangeRequest
from mls.enums import Role
from slas.models import Measurement

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOTP_PERIOD = mfa_settings.TOTP_PERIOD  # 30 s


def current_totp_code(secret: str) -> str:
    """The authenticator app's code now. allauth accepts only the current step (MFA_TOTP_TOLERANCE is 0), so a code
    about to expire is skipped and the next one waited for."""
    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < 5:
        time.sleep(left)
    return format_hotp_value(hotp_value(secret, int(time.time()) // TOTP_PERIOD))


def test_director_with_mfa_drills_into_a_breach_and_approves_a_change_request(
    live_server, page: Page, screenshot_path, tenant_a, finished_quarter, sign_in
):
    director = tenant_a.user(Role.LD_DIRECTOR)
    secret = generate_totp_secret()
    TOTP.activate(director, secret)
    engagement, last_month = finished_quarter.engagement, finished_quarter.quarter.months[-1]
    provider = tenant_a.members[Role.PROVIDER_MANAGER]
    with tenant_a.scope():
        proposal = contract_services.propose_change_request(
            sow=engagement.sows.get(), membership=provider, title="Weekend support desk", description="Add Saturdays."
        )
        contract_services.submit_change_request(change_request=proposal, membership=provider)
        contract_services.approve_change_request(change_request=proposal, membership=provider)
        support = Measurement.objects.get(period__month=last_month, metric="support_first_response")

    sign_in(director.email)
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    page.get_by_label("Code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Sign In").click()

    expect(page).to_have_url(f"{live_server.url}/o/acme/")
    expect(page.get_by_text("Signed in as L&D director")).to_be_visible()
    # The finished quarter's results are on its own view: this quarter's shows no month outside it.
    first = finished_quarter.quarter.first_month
    page.goto(f"{live_server.url}/o/acme/?quarter={first.year}-Q{(first.month - 1) // 3 + 1}")
    engagement_row = page.get_by_role("region", name="Engagements").get_by_role("row", name=engagement.name)
    expect(engagement_row.get_by_text("Breached", exact=True)).to_be_visible()
    engagement_row.get_by_role("link", name=engagement.name).click()

    tile = page.get_by_role("region", name="Service levels").get_by_role("link", name="Support first response")
    expect(tile).to_contain_text("Breached")
    expect(tile).to_contain_text("62.5")  # 5 of 8 tickets answered within 8 h
    tile.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Support first response, {last_month:%B %Y}")
    expect(page.get_by_role("link", name="Failed (3)")).to_have_attribute("aria-current", "page")
    items = page.get_by_role("region", name="Items").get_by_role("row")
    expect(items).to_have_count(4)  # the header and the three late tickets, oldest first
    late = finished_quarter.late_tickets
    for row, ticket in zip(items.all()[1:], late, strict=True):
        expect(row.get_by_role("link", name=ticket.subject)).to_have_attribute("href", re.compile(f"/{ticket.pk}/$"))
    assert support.inputs["failed"] == [ticket.pk for ticket in late]
    page.screenshot(path=screenshot_path.with_name("director_failed_items.png"), full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("region", name="Waiting for the client").get_by_role("link", name="Weekend support desk").click()
    expect(page.get_by_role("heading", name="CR-1: Weekend support desk")).to_contain_text("Approved by provider")
    page.get_by_role("link", name="Approve CR-1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve CR-1 Weekend support desk?")
    expect(page.get_by_text("The provider has approved already: with your approval")).to_be_visible()
    page.screenshot(path=screenshot_path.with_name("director_approval_question.png"), full_page=True)
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("status")).to_have_text("CR-1 Weekend support desk approved.")
    expect(page.get_by_role("heading", name="CR-1: Weekend support desk")).to_contain_text("Approved")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Signed")
    with tenant_a.scope():
        proposal = ChangeRequest.objects.select_related("proposed_version", "base_version").get(pk=proposal.pk)
    assert (proposal.status, proposal.client_approved_by) == (ChangeRequestStatus.APPROVED, director)
    assert (proposal.proposed_version.status, proposal.base_version.status) == (
        VersionStatus.SIGNED,
        VersionStatus.SUPERSEDED,
    )
    page.screenshot(path=screenshot_path, full_page=True)
