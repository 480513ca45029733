"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live_server (never a download)."""

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page

from engagements.models import Engagement
from reporting.qbr import Quarter
from scheduling.models import SupportTicket
from slas import services as sla_services
from tests.factories import PASSWORD
from tests.factories.slas import sla_engagement, ticket
from tests.slas.delivery import deliver_month

# Playwright's sync API keeps an event loop running in the main thread for the rest of the session, which makes
# Django refuse ORM calls there; the calls are in fact synchronous, so allow them (tests only; see test_settings).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Not test-results/: pytest-playwright owns and empties that folder.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
FINALIZED_AFTER = timedelta(days=7)  # a month is final once its grace days (5 in sla_engagement) are over


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


# The demo's moment: mid-month, so the running month already has items to judge and last month is final. The clock
# ticks from there (the live server and the browser take real seconds), but no test reads the wall clock's date.
DEMO_NOW = datetime(2026, 12, 16, 10, 0, tzinfo=UTC)


@pytest.fixture
def demo(transactional_db, time_machine) -> None:
    """The demo tenant of scripts/run (Acme Corp, its six logins, two providers, a year of delivery ending last
    month with its SLA results and QBRs), seeded at DEMO_NOW as scripts/run seeds it at its now."""
    time_machine.move_to(DEMO_NOW, tick=True)
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


@dataclass
class FinishedQuarter:
    engagement: Engagement
    quarter: Quarter
    late_tickets: list[SupportTicket]  # the last month's failed support items, oldest first


def last_finished_quarter(at: datetime, zone: str) -> Quarter:
    """The latest quarter whose last month is final by `at` (its grace days are over)."""
    quarter = Quarter.containing(timezone.localdate(at, ZoneInfo(zone)), zone)
    while quarter.end + FINALIZED_AFTER > at:
        quarter = Quarter.containing(quarter.first_month - timedelta(days=1), zone)
    return quarter


@pytest.fixture
def finished_quarter(tenant_a) -> FinishedQuarter:
    """tenant_a's engagement with its latest finished quarter delivered and finalized (relative to today, so the
    dashboard's six-month tiles show it): every target met, except the last month's support first response,
    breached by three tickets answered 10 h after opening (threshold 8 h) beside five answered in 1 h."""
    quarter = last_finished_quarter(timezone.now(), "Europe/London")
    engagement, _ = sla_engagement(tenant_a, active_from=quarter.first_month)
    last_month = quarter.months[-1]
    with tenant_a.scope():
        for month in quarter.months:
            deliver_month(engagement, month)
        late_tickets = [
            ticket(engagement, opened, opened + timedelta(hours=10), subject=subject)
            for opened, subject in (
                (datetime(last_month.year, last_month.month, 12, 10, tzinfo=UTC), "Cannot join the virtual class"),
                (datetime(last_month.year, last_month.month, 13, 10, tzinfo=UTC), "Certificate missing"),
                (datetime(last_month.year, last_month.month, 14, 10, tzinfo=UTC), "Wrong date in the invitation"),
            )
        ]
        sla_services.finalize_due_periods(engagement=engagement, now=quarter.end + FINALIZED_AFTER)
    return FinishedQuarter(engagement, quarter, late_tickets)
