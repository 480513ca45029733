"""Signing in: the demo L&D director lands on Acme Corp's dashboard; a wrong password keeps the login form."""

import pytest
from playwright.sync_api import Page, expect

from mls.enums import Role
from mls.models import Organization
from mls.tenancy import organization_scope
from slas.enums import EscalationLevel, MeasurementStatus, PeriodStatus
from slas.models import Escalation, Measurement, ServiceCredit, SlaPeriod

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_demo_director_signs_in_and_sees_acme_dashboard(live_server, page: Page, screenshot_path, demo):
    with organization_scope(Organization.objects.get(slug="acme")):  # the demo's delivery is measured
        assert SlaPeriod.objects.filter(status=PeriodStatus.FINALIZED).exists()
        assert Measurement.objects.filter(finalized=True, status=MeasurementStatus.BREACHED).exists()
        assert Measurement.objects.filter(finalized=True, status=MeasurementStatus.MET).exists()
        assert ServiceCredit.objects.filter(amount__gt=0).exists()
        assert Escalation.objects.filter(level=EscalationLevel.NOTICE).exists()

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("director@demo.test")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Sign In").click()

    expect(page).to_have_url(f"{live_server.url}/o/acme/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Corp")
    expect(page.get_by_text("Signed in as L&D director")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")).to_have_attribute(
        "aria-current", "page"
    )
    page.screenshot(path=screenshot_path, full_page=True)


def test_wrong_password_keeps_the_user_on_the_login_form_with_an_error(page: Page, screenshot_path, tenant_a, sign_in):
    director = tenant_a.user(Role.LD_DIRECTOR)

    sign_in(director.email, "not-the-password")

    expect(page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(director.email)
    page.screenshot(path=screenshot_path, full_page=True)
