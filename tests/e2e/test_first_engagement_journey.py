"""Journey (issue 20's acceptance): from sign-up to an engagement dashboard whose SLA tiles show values, through
the "Get started" checklist, a provider with its account manager invited, an engagement from a template in the
wizard and one CSV upload of a finished month's delivery — six files (courses, learners, sessions delivered and
cancelled, enrollments, completions, support tickets) chosen at once, their kinds detected from their columns and
imported together in dependency order by one "Import all" — in at most 25 browser actions, counted (23 today).
Four of the template's six SLA tiles then show January's value; the other two (instructor rating, learner
satisfaction) need feedback, which the month's files do not carry.

Time is frozen (ticking) at 3 Feb 2027: January, the first month of an engagement started on 1 Jan, is over and
still inside its five grace days, so imported history is measured at once (provisional until 6 Feb, when the daily
job finalizes it). The live server runs in this process, so it sees the same clock. Celery is eager in tests: the
import and the SLA measurement it triggers run when the batch is started.
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import Locator, Page, expect

from engagements.models import Engagement, GovernanceMeeting
from mls.models import Invitation, Organization
from mls.tenancy import organization_scope
from slas.models import Measurement, SlaTarget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MAX_ACTIONS = 25
FROZEN_AT = datetime(2027, 2, 3, 9, 0, tzinfo=UTC)
ENGAGEMENT = "Training delivery – Northwind Learning"  # the wizard's name for a blank name field


class Actions:
    """Every click, fill, choice, upload and navigation of the user goes through here and is counted."""

    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0

    def goto(self, url: str) -> None:
        self.count += 1
        self.page.goto(url)

    def click(self, locator: Locator) -> None:
        self.count += 1
        locator.click()

    def fill(self, locator: Locator, value: str) -> None:
        self.count += 1
        locator.fill(value)

    def select(self, locator: Locator, value: str) -> None:
        self.count += 1
        locator.select_option(value)

    def upload(self, locator: Locator, paths: list[Path]) -> None:
        self.count += 1
        locator.set_input_files(paths)


def moment(day: int, hour: int, minute: int = 0) -> str:
    return f"2027-01-{day:02d}T{hour:02d}:{minute:02d}:00+00:00"


def january_files(folder: Path) -> list[Path]:
    """January 2027's delivery, one file per sheet, named so that none is in the order they are imported in.

    - sessions: six delivered, one cancelled by the provider → delivery rate 6 / 7 = 85.71 % (target 98);
    - enrollments: a learner on each delivered session, five processed within the 2 business days, one after 3
      → 5 / 6 = 83.33 % (target 95);
    - completions: six, all recorded within the 5 business days → 100 % (target 95);
    - tickets: five answered within the 8 hours, one after 10 hours → 5 / 6 = 83.33 % (target 90).
    """
    delivered = [5, 6, 7, 12, 13, 14]
    files = {
        "tickets.csv": ["external_id,category,subject,opened_at,engagement,first_response_at"]
        + [
            f"T-{day},technical,Cannot join the class,{moment(day, 9)},{ENGAGEMENT},"
            f"{moment(day, 9 + (10 if day == 9 else 2))}"
            for day in range(4, 10)
        ],
        "completions.csv": ["external_id,learner_external_id,course_code,completed_at,recorded_at"]
        + [f"CP-{n},L-{n},LEAD-1,{moment(day, 12)},{moment(day + 1, 9)}" for n, day in enumerate(delivered, 1)],
        "enrollments.csv": ["external_id,session_external_id,learner_external_id,requested_at,status,processed_at"]
        + [
            f"E-{n},S-{n},L-{n},{moment(2, 9)},enrolled,{moment(4 if n < 6 else 7, 9)}"
            for n in range(1, len(delivered) + 1)
        ],
        "sessions.csv": [
            "external_id,course_code,modality,starts_at,ends_at,capacity,engagement,requested_at,join_url,status,"
            "confirmed_at,cancelled_at,cancelled_by,cancellation_reason"
        ]
        + [
            f"S-{n},LEAD-1,vilt,{moment(day, 9)},{moment(day, 12)},12,{ENGAGEMENT},{moment(1, 9)},"
            f"https://meet.example.com/s-{n},delivered,{moment(2, 9)},,,"
            for n, day in enumerate(delivered, 1)
        ]
        + [
            f"S-7,LEAD-1,vilt,{moment(20, 9)},{moment(20, 12)},12,{ENGAGEMENT},{moment(1, 9)},"
            f"https://meet.example.com/s-7,cancelled,{moment(2, 9)},{moment(18, 9)},provider,Instructor ill"
        ],
        "learners.csv": ["external_id,name,email"]
        + [f"L-{n},Learner {n},learner{n}@globex.test" for n in range(1, len(delivered) + 1)],
        "courses.csv": ["external_id,code,title,modality,duration_hours", "CRS-1,LEAD-1,Leading teams,vilt,3"],
    }
    paths = []
    for name, lines in files.items():
        path = folder / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_a_new_customer_reaches_sla_results_from_a_template_in_at_most_25_actions(
    live_server, page: Page, screenshot_path, tmp_path
):
    page.set_viewport_size({"width": 1280, "height": 900})
    act = Actions(page)
    files = january_files(tmp_path)

    with time_machine.travel(FROZEN_AT, tick=True):
        act.goto(f"{live_server.url}/accounts/signup/")
        act.fill(page.get_by_label("Email"), "founder@globex.test")
        act.fill(page.get_by_label("Organization name"), "Globex")
        act.fill(page.get_by_label("Password:", exact=True), "a long pass phrase 2027")
        act.fill(page.get_by_label("Password (again)"), "a long pass phrase 2027")
        act.click(page.get_by_role("button", name="Sign Up"))
        expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
        link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body)[0]

        act.goto(link)
        act.click(page.get_by_role("button", name="Confirm"))
        expect(page.get_by_role("heading", name="Get started")).to_be_visible()

        act.click(page.get_by_role("link", name="Add your provider and invite its account manager"))
        act.fill(page.get_by_label("Name"), "Northwind Learning")
        act.fill(page.get_by_label("Account manager's email"), "am@northwind.test")
        act.click(page.get_by_role("button", name="Save"))
        expect(page.get_by_role("status")).to_contain_text("Provider added.")  # and on to the wizard, step 1
        expect(page.get_by_label("Managed training delivery (per learner)")).to_be_checked()
        act.fill(page.get_by_label("Start date"), "2027-01-01")
        page.screenshot(path=screenshot_path.with_name("wizard_step_1.png"), full_page=True)
        act.click(page.get_by_role("button", name="Next"))

        act.fill(page.get_by_label("Annual contract value"), "300000")
        page.screenshot(path=screenshot_path.with_name("wizard_step_2.png"), full_page=True)
        act.click(page.get_by_role("button", name="Next"))

        expect(page.get_by_text("Allocations of the kept targets: 100 %")).to_be_visible()
        page.screenshot(path=screenshot_path.with_name("wizard_step_3.png"), full_page=True)
        act.click(page.get_by_role("button", name="Next"))

        expect(page.get_by_role("heading", name="Review and create")).to_be_visible()
        page.screenshot(path=screenshot_path.with_name("wizard_step_4.png"), full_page=True)
        act.click(page.get_by_role("button", name="Create engagement"))
        expect(page.get_by_role("status")).to_contain_text(f"Engagement {ENGAGEMENT} created")

        act.goto(f"{live_server.url}/o/globex/imports/")
        expect(page.get_by_label("The file contains")).to_have_value("")  # "Detect from the columns"
        page.screenshot(path=screenshot_path.with_name("import_upload.png"), full_page=True)
        act.upload(page.get_by_label("Files"), files)
        act.click(page.get_by_role("button", name="Upload and preview"))
        expect(page.get_by_role("heading", level=2)).to_have_text(
            [re.compile(rf"^{n}\. {name}\.csv$") for n, name in enumerate(
                ("courses", "learners", "sessions", "enrollments", "completions", "tickets"), 1)]
        )  # fmt: skip
        page.screenshot(path=screenshot_path.with_name("import_batch_preview.png"), full_page=True)
        act.click(page.get_by_role("button", name="Import all"))
        expect(page.get_by_text(re.compile(r"^Imported \d+ rows?: "))).to_have_count(6)
        expect(page.get_by_text("Imported 7 rows: 7 created, 0 updated.")).to_be_visible()  # the sessions

        organization = Organization.objects.get()
        with organization_scope(organization):
            engagement = Engagement.objects.get()
        act.goto(f"{live_server.url}/o/globex/engagements/{engagement.pk}/dashboard/")
        tiles = page.get_by_role("region", name="Service levels").get_by_role("listitem")
        expect(tiles).to_have_count(6)  # the template's six targets
        for name, value in (
            ("Session delivery rate", "85.71 %"),
            ("Support first response", "83.33 %"),
            ("Enrollment processing", "83.33 %"),
            ("Completion reporting timeliness", "100.00 %"),
        ):
            tile = tiles.filter(has_text=name)
            expect(tile).to_contain_text(value)
            expect(tile).to_contain_text("Jan 2027")
        page.screenshot(path=screenshot_path, full_page=True)

    print(f"{act.count} browser actions")  # 23: the single tickets file took 24
    assert act.count <= MAX_ACTIONS, f"{act.count} browser actions"
    # Not part of the journey: the engagement page the wizard made, with its "Save as template" action.
    page.goto(f"{live_server.url}/o/globex/engagements/{engagement.pk}/")
    expect(page.get_by_role("link", name="Save as template")).to_be_visible()
    page.screenshot(path=screenshot_path.with_name("engagement_from_template.png"), full_page=True)
    with organization_scope(organization):
        assert list(Invitation.objects.values_list("email", "provider__name")) == [
            ("am@northwind.test", "Northwind Learning")
        ]
        assert SlaTarget.objects.filter(schedule__engagement=engagement).count() == 6
        assert GovernanceMeeting.objects.filter(engagement=engagement).count() == 8
        support = Measurement.objects.get(
            engagement=engagement, metric="support_first_response", period__month=date(2027, 1, 1)
        )
        january = dict(
            Measurement.objects.filter(engagement=engagement, period__month=date(2027, 1, 1))
            .exclude(value=None)
            .values_list("metric", "value")
        )
    assert january == {
        "session_delivery_rate": Decimal("85.71"),  # 6 delivered / 7 (one cancelled by the provider)
        "support_first_response": Decimal("83.33"),
        "enrollment_processing": Decimal("83.33"),  # 5 / 6 within 2 business days
        "completion_reporting_timeliness": Decimal("100.00"),
    }
    assert (support.status, support.value, support.numerator, support.denominator) == (
        "provisional",  # until January's grace days are over
        Decimal("83.33"),  # 100 × 5 / 6, rounded half up; below the target of 90
        5,
        6,
    )
