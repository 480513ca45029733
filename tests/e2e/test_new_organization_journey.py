"""Journey (issue 17's acceptance "from the web alone"): a user with no organization creates one, and as its only
member adds the provider, invites its account manager, creates the engagement, its first SoW and the SLA schedule
with a target, without the admin site or a shell."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from engagements.models import Engagement, Sow, SowVersion
from mls.enums import Role
from mls.models import Invitation, Membership, Organization, Provider
from mls.tenancy import organization_scope
from slas.models import SlaSchedule, SlaTarget
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_new_organization_reaches_its_first_engagement_from_the_web_alone(
    live_server, page: Page, screenshot_path, sign_in
):
    founder = UserFactory(email="founder@globex.test")

    sign_in(founder.email)  # a member of no organization: MLS asks for one
    expect(page.get_by_role("heading", name="Create an organization")).to_be_visible()
    page.get_by_label("Name").fill("Globex")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("status")).to_contain_text("Globex is ready.")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Engagements").click()
    expect(page.get_by_text("No engagement yet. Add its provider under Providers")).to_be_visible()
    page.get_by_role("link", name="Providers").click()
    expect(page.get_by_text("No provider yet.")).to_be_visible()
    page.get_by_role("link", name="New provider").click()
    page.get_by_label("Name").fill("Northwind")
    page.get_by_label("Contact email").fill("not an address")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()  # the form keeps the name
    expect(page.get_by_label("Name")).to_have_value("Northwind")
    page.get_by_label("Contact email").fill("hello@northwind.test")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Provider added.")
    page.get_by_role("link", name="Edit Northwind").click()
    page.get_by_label("Name").fill("Northwind Learning")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Invite account manager of Northwind Learning").click()
    page.screenshot(path=screenshot_path.with_name("provider_invite_form.png"), full_page=True)
    page.get_by_label("Account manager's email").fill("am@northwind.test")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent.")
    providers = page.get_by_role("region", name="Providers").get_by_role("row")
    expect(providers).to_have_count(2)  # the header and Northwind
    expect(providers.nth(1).get_by_role("cell")).to_have_text(
        [
            "Northwind Learninghello@northwind.test",
            "0",
            "am@northwind.test (invited)",
            "Edit Northwind Learning Invite account manager of Northwind Learning",
        ]
    )
    page.screenshot(path=screenshot_path.with_name("provider_list.png"), full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Engagements").click()
    page.get_by_role("link", name="New engagement").click()
    page.get_by_label("Name").fill("Leadership academy 2027")
    page.get_by_label("Provider").select_option(label="Northwind Learning")
    page.get_by_label("Engagement model").select_option(index=1)
    page.get_by_label("Vendor model").select_option(index=1)
    page.get_by_label("Start date").fill("2027-01-01")
    page.get_by_label("End date").fill("2029-12-31")
    page.get_by_label("Annual value").fill("579000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Engagement Leadership academy 2027 created.")

    page.get_by_role("link", name="New SoW").click()
    page.get_by_label("Reference").fill("SOW-001")
    page.get_by_label("Title").fill("Leadership programme")
    page.get_by_label("Pricing model").select_option("retainer")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("SOW-001 created as a draft v1")
    page.locator(".breadcrumbs").get_by_role("link", name="Leadership academy 2027").click()

    page.get_by_role("link", name="SLA results").click()
    page.get_by_role("link", name="Create the SLA schedule").click()
    page.get_by_label("At-risk percent").fill("12")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Add the first target").click()
    page.get_by_label("Metric").select_option("support_first_response")
    page.get_by_label("Target").fill("95")
    page.get_by_label("Allocation percent").fill("40")
    page.get_by_label("Active from").fill("2027-01-01")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Target saved.")
    page.screenshot(path=screenshot_path, full_page=True)

    organization = Organization.objects.get()
    with organization_scope(organization):
        engagement = Engagement.objects.select_related("provider").get()
        assert list(Membership.objects.values_list("user__email", "role")) == [(founder.email, Role.OWNER)]
        assert list(Provider.objects.values_list("name", "contact_email")) == [
            ("Northwind Learning", "hello@northwind.test")
        ]
        assert list(Invitation.objects.values_list("email", "role", "provider__name")) == [
            ("am@northwind.test", Role.PROVIDER_MANAGER, "Northwind Learning")
        ]
        assert (engagement.name, engagement.provider.name, engagement.start_date) == (
            "Leadership academy 2027",
            "Northwind Learning",
            date(2027, 1, 1),
        )
        assert list(Sow.objects.values_list("engagement", "reference", "title")) == [
            (engagement.pk, "SOW-001", "Leadership programme")
        ]
        assert list(SowVersion.objects.values_list("number", "status", "pricing_model", "effective_from")) == [
            (1, "draft", "retainer", date(2027, 1, 1))
        ]
        assert list(SlaSchedule.objects.values_list("engagement", "at_risk_percent")) == [
            (engagement.pk, Decimal("12.00"))
        ]
        # The catalog's 8 hours is support first response's threshold when the form leaves it empty.
        assert list(SlaTarget.objects.values_list("metric", "target", "threshold", "allocation_percent")) == [
            ("support_first_response", Decimal("95.00"), 8, Decimal("40.00"))
        ]
