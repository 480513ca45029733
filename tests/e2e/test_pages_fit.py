"""Acceptance: the pages people read most fit a 1280 × 800 window on the demo's data — no horizontal page scroll,
no element wider than the window inside <main> except inside a table wrapper that scrolls and says so — and each
is saved as a screenshot (the QBR's first PDF page too) to be looked at."""

import subprocess
from collections.abc import Iterator
from pathlib import Path
from shutil import which

import pytest
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import Page, expect

from engagements.models import ChangeRequest, Engagement
from mls.management.commands.seed_demo import DEMO_PASSWORD
from mls.models import Organization
from reporting import services as reporting_services
from reporting.enums import QbrStatus
from reporting.models import QuarterlyReview
from scheduling.models import SupportTicket
from slas.enums import PeriodStatus
from slas.models import SlaPeriod

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1280, "height": 800}

# Elements inside <main> whose box pokes out of the window, ignoring those inside a table wrapper that scrolls and
# shows its cue (data-overflows, set by mls.js) and the visually-hidden ones (a 1 px clipped box).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll("main *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || el.closest(".visually-hidden")) continue;
    if (box.right <= width + 0.5 && box.left >= -0.5) continue;
    const wrap = el.closest(".table-wrap");
    if (wrap && wrap.dataset.overflows === "true" && getComputedStyle(wrap).overflowX === "auto") continue;
    out.push(`${el.tagName.toLowerCase()}.${el.className} (${Math.round(box.left)}–${Math.round(box.right)})`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, offenders: out.slice(0, 8)};
}"""


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": VIEWPORT}


def demo_urls() -> Iterator[tuple[str, str]]:
    """(screenshot name, path) of each page, found in the demo's own data."""
    organization = Organization.objects.get(slug="acme")
    slug = {"organization_slug": organization.slug}
    with scope(organization=organization):
        engagement = Engagement.objects.order_by("pk").first()
        change_request = ChangeRequest.objects.order_by("-pk").first()
        ticket = SupportTicket.objects.order_by("-opened_at").first()
        sow = engagement.sows.order_by("pk").first()
        # The latest finalized month: its statement nets the credits of the month before.
        finalized = SlaPeriod.objects.filter(engagement=engagement, status=PeriodStatus.FINALIZED)
        month = finalized.order_by("-month").values_list("month", flat=True).first()
    yield "dashboard", reverse("reporting:dashboard", kwargs=slug)
    yield "engagement_dashboard", reverse("reporting:engagement", kwargs={**slug, "pk": engagement.pk})
    yield "sla", reverse("slas:engagement", kwargs={**slug, "pk": engagement.pk})
    yield "session_list", reverse("scheduling:sessions", kwargs=slug)
    yield "session_calendar", reverse("scheduling:session_calendar", kwargs=slug)
    yield "change_request", reverse("engagements:change_request", kwargs={**slug, "pk": change_request.pk})
    yield "ticket", reverse("scheduling:ticket", kwargs={**slug, "pk": ticket.pk})
    yield (
        "fee_statement",
        reverse("reporting:statement", kwargs={**slug, "pk": sow.pk, "month": f"{month:%Y-%m}"}),
    )


def test_demo_pages_fit_1280_pixels_without_horizontal_scroll(live_server, page: Page, screenshot_path, demo, sign_in):
    sign_in("owner@demo.test", DEMO_PASSWORD)  # the owner's menu is the longest: it has Settings
    expect(page).to_have_url(f"{live_server.url}/o/acme/")
    folder = screenshot_path.parent / "pages_fit"
    folder.mkdir(exist_ok=True)
    menu_rows = page.eval_on_selector_all(".main-nav li", "items => new Set(items.map(li => li.offsetTop)).size")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")).to_be_visible()

    fits = {}
    for name, path in demo_urls():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, name
        page.wait_for_load_state("networkidle")
        page.screenshot(path=folder / f"{name}.png", full_page=True)
        fits[name] = page.evaluate(OVERFLOW)
        if name == "sla":  # the scorecard opens on its latest month; earlier ones are a scroll to the left
            scorecard_at_latest = page.locator('.table-wrap[data-start="end"]').evaluate(
                "w => w.scrollLeft + w.clientWidth >= w.scrollWidth - 1"
            )

    assert scorecard_at_latest
    too_wide = {name: fit for name, fit in fits.items() if fit["scrollWidth"] > fit["clientWidth"] or fit["offenders"]}
    assert (menu_rows, too_wide) == (1, {})


def test_demo_qbr_first_page_renders_to_png(live_server, page: Page, screenshot_path, demo, sign_in):
    organization = Organization.objects.get(slug="acme")
    with scope(organization=organization):
        reporting_services.generate_due_qbrs(engagement=Engagement.objects.order_by("pk").first())  # rendered on commit
        review = QuarterlyReview.objects.filter(status=QbrStatus.READY).order_by("-quarter", "-revision").first()
    sign_in("director@demo.test", DEMO_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/o/acme/")
    url = reverse("reporting:qbr_download", kwargs={"organization_slug": organization.slug, "pk": review.pk})

    pdf = page.request.get(f"{live_server.url}{url}")
    folder = screenshot_path.parent / "pages_fit"
    folder.mkdir(exist_ok=True)
    target = folder / "qbr_page_1"
    pdftoppm = which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) renders the PDF page"
    subprocess.run(  # noqa: S603 - a fixed poppler tool on the PDF MLS served
        [pdftoppm, "-png", "-r", "96", "-f", "1", "-l", "1", "-singlefile", "-", str(target)],
        input=pdf.body(),
        check=True,
    )

    assert pdf.headers["content-type"] == "application/pdf"
    png = Path(f"{target}.png").read_bytes()
    # PNG IHDR: width and height at 96 dpi of an A4 page (210 × 297 mm → 794 × 1123 px).
    assert (int.from_bytes(png[16:20]), int.from_bytes(png[20:24])) == (794, 1123)
