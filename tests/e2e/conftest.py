"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live_server (never a download)."""

import os
import shutil
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page

from tests.factories import PASSWORD

# Playwright's sync API keeps an event loop running in the main thread for the rest of the session, which makes
# Django refuse ORM calls there; the calls are in fact synchronous, so allow them (tests only; see test_settings).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Not test-results/: pytest-playwright owns and empties that folder.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium package is required for e2e tests (scripts/test installs it)"
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture
def screenshot_path(request: pytest.FixtureRequest) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{request.node.originalname}.png"


@pytest.fixture
def demo(transactional_db) -> None:
    """The demo tenant of scripts/run (Acme Corp, its five logins, a year of delivery and SLA results)."""
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def sign_in(live_server, page: Page) -> Callable[..., None]:
    """Fill in the login form as `email`; the page is left where the form sends it (a dashboard, or the
    two-factor step when the user has an authenticator)."""

    def sign_in(email: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()

    return sign_in
