"""Journey (issue 17's acceptance "from the web alone"): a user with no organization creates one, and as its only
member adds the provider (a refused address first), renames it and invites its account manager, without the admin
site or a shell. Adding the first provider leads on to the new-engagement wizard, whose own journey (sign-up to SLA
results from a template) is test_first_engagement_journey.py."""

import pytest
from playwright.sync_api import Page, expect

from engagements.models import Engagement
from mls.enums import Role
from mls.models import Invitation, Membership, Organization, Provider
from mls.tenancy import organization_scope
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_new_organization_adds_its_provider_and_invites_its_manager_from_the_web_alone(
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
    expect(page.get_by_role("heading", name="New engagement")).to_be_visible()  # no engagement yet: the next step
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Engagements").click()
    page.get_by_role("link", name="Providers").click()
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

    page.screenshot(path=screenshot_path, full_page=True)

    organization = Organization.objects.get()
    with organization_scope(organization):
        assert list(Membership.objects.values_list("user__email", "role")) == [(founder.email, Role.OWNER)]
        assert list(Provider.objects.values_list("name", "contact_email")) == [
            ("Northwind Learning", "hello@northwind.test")
        ]
        assert list(Invitation.objects.values_list("email", "role", "provider__name")) == [
            ("am@northwind.test", Role.PROVIDER_MANAGER, "Northwind Learning")
        ]
        assert Engagement.objects.count() == 0
