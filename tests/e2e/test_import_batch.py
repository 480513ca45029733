"""Journey: an owner uploads three files at once, one of them with a bad row; "Import all" keeps nothing and the
page names the file and row to fix."""

import pytest
from playwright.sync_api import Page, expect

from mls.enums import Role
from scheduling.models import Learner

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_batch_with_a_bad_row_names_the_file_and_row_and_keeps_nothing(
    live_server, page: Page, screenshot_path, tenant_a, sign_in, tmp_path
):
    files = {
        "people.csv": "external_id,name,email\nL-1,Ada Learner,ada@acme.example\nL-2,Bo Learner,bo@acme.example\n",
        "catalogue.csv": "external_id,code,title,modality,duration_hours\nCRS-1,C-1,Leading teams,vilt,3\n"
        "CRS-2,C-2,Safety first,by pigeon,2\n",
        "done.csv": "external_id,learner_external_id,course_code,completed_at\n"
        "CP-1,L-1,C-1,2026-01-05T12:00:00+00:00\n",
    }
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(tenant_a.user(Role.OWNER).email)

    page.goto(f"{live_server.url}/o/{tenant_a.organization.slug}/imports/")
    page.get_by_label("Files").set_input_files(paths)
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(["1. catalogue.csv", "2. people.csv", "3. done.csv"])
    page.get_by_role("button", name="Import all").click()

    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("catalogue.csv row 3 (modality):")
    expect(
        page.get_by_text("this file was not checked: catalogue.csv, which comes before it, has errors.")
    ).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no horizontal scroll
    page.screenshot(path=screenshot_path, full_page=True)
    with tenant_a.scope():
        assert Learner.objects.count() == 0
