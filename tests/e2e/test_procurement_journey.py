"""Journey: procurement reads the service credits of a finished quarter and downloads its QBR, the very PDF MLS
stored."""

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from mls.enums import Role
from reporting import services as reporting_services
from reporting.enums import QbrStatus
from reporting.models import QuarterlyReview
from slas.models import ServiceCredit
from tests.reporting.pdf_tools import pdf_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_procurement_reads_the_credits_and_downloads_the_stored_qbr(
    page: Page, screenshot_path, tenant_a, finished_quarter, sign_in
):
    engagement, quarter = finished_quarter.engagement, finished_quarter.quarter
    with tenant_a.scope():
        (review,) = reporting_services.generate_due_qbrs(engagement=engagement)  # rendered once it commits
        review = QuarterlyReview.objects.get(pk=review.pk)
        credits = list(ServiceCredit.objects.values_list("metric", "amount"))
    month = quarter.months[-1]
    assert review.status == QbrStatus.READY

    sign_in(tenant_a.user(Role.PROCUREMENT).email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits & statements").click()
    page.get_by_role("link", name=f"Credit ledger of {engagement.name}").click()

    ledger = page.get_by_role("region", name="Service credits").get_by_role("row")
    expect(ledger).to_have_count(3)  # the header, the month, its one credit
    # Fee 48,250.00 × 12 % = 5,790.00 at risk; support first response holds 40 % of it: 2,316.00, under the cap.
    expect(ledger.nth(1)).to_have_text(
        f"{month:%B %Y}: fee £48,250.00, at risk £5,790.00 (12 %). Uncapped £2,316.00 ≤ at risk: not capped; "
        "credited £2,316.00."
    )
    expect(ledger.nth(2).get_by_role("cell")).to_have_text(
        ["Support first response", "40 %", "£2,316.00", "£2,316.00", "Issued"]
    )
    assert [(metric, str(amount)) for metric, amount in credits] == [("support_first_response", "2316.00")]
    page.screenshot(path=screenshot_path.with_name("procurement_credits.png"), full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="QBRs").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Download {quarter.label} revision 1 of {engagement.name} (PDF)").click()
    download = download_info.value
    content = Path(download.path()).read_bytes()

    assert download.suggested_filename == Path(review.file.name).name
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == review.sha256
    text = pdf_text(content)
    assert engagement.name in text
    assert "SLA performance" in text
    page.screenshot(path=screenshot_path, full_page=True)
