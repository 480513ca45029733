"""Journey: the demo provider account manager finds learners in the picker, enrols two and pastes an unknown email;
then opens the new-session form, whose fields follow the modality."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from mls.management.commands.seed_demo import DEMO_PASSWORD
from mls.models import Organization
from mls.tenancy import organization_scope
from scheduling.enums import SessionStatus
from scheduling.models import Session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/work/shots")


def test_provider_picks_learners_by_name_and_pastes_emails(live_server, page: Page, screenshot_path, demo, sign_in):
    with organization_scope(Organization.objects.get(slug="acme")):
        session = (
            Session.objects.filter(
                engagement__provider__name="Northwind Learning",  # the demo's other provider's are not theirs
                status=SessionStatus.CONFIRMED,
                starts_at__gt=timezone.now(),
            )
            .order_by("starts_at")
            .first()
        )
    sign_in("provider@demo.test", DEMO_PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/o/acme/sessions/{session.pk}/")
    page.get_by_label("Find learners").fill("a")
    options = page.locator(f"#learner-options-{session.pk} input[name=learner]")
    expect(options.first).to_be_visible()
    options.nth(0).check()
    options.nth(1).check()
    page.get_by_label("Find learners").fill("an")
    expect(page.locator(f"#learner-options-{session.pk} legend")).to_have_text("Learners matching “an”")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "enrol-picker.png", full_page=True)
    page.get_by_label("Or paste emails").fill("nobody@nowhere.example")
    page.get_by_role("button", name="Enroll", exact=True).click()

    expect(page.get_by_text("No learner has these emails, nothing written: nobody@nowhere.example.")).to_be_visible()
    page.screenshot(path=screenshot_path, full_page=True)

    page.goto(f"{live_server.url}/o/acme/sessions/new/")
    page.get_by_label("Modality").select_option("vilt")
    expect(page.get_by_label("Join URL")).to_be_visible()
    expect(page.get_by_label("Room")).to_be_hidden()
    page.screenshot(path=SHOTS / "enrol-session-form-virtual.png", full_page=True)
    page.get_by_label("Modality").select_option("ilt")
    expect(page.get_by_label("Room")).to_be_visible()
    expect(page.get_by_label("Join URL")).to_be_hidden()
    page.screenshot(path=SHOTS / "enrol-session-form-classroom.png", full_page=True)
