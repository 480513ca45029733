"""Journey (issue 21 item 2): a learner present at a delivered session opens the survey link from the invitation
email, answers with the keyboard and a click, and the engagement's instructor_rating for the month moves to the
hand-computed mean; a second answer is refused; a tampered and an expired link are a clear page, not a 500.

Time stands (ticking) at 10 June 2026, two days after the session; the live server runs in this process and sees
the same clock, which signs and checks the links.
"""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from scheduling.enums import EnrollmentStatus, SessionStatus
from surveys import services
from tests.factories.scheduling import LearnerFactory
from tests.factories.slas import attendance, course, enrollment, feedback, measured, session, sla_engagement

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
RATING_TARGET = {
    "instructor_rating": {"target": Decimal("4.2"), "allocation_percent": Decimal("25"), "min_sample": 1},
}


def instructor_rating(engagement, tenant) -> Decimal:
    """June's instructor_rating as the SLA engine computes it now (the clock ticks: the answer is a few seconds
    after NOW)."""
    with tenant.scope():
        return measured(engagement, "2026-06", timezone.now())["instructor_rating"].value


def survey_link(body: str) -> str:
    (link,) = re.findall(r"^(http\S+/survey/\S+/)$", body, flags=re.M)
    return link


def test_a_learner_answers_the_survey_and_the_months_instructor_rating_moves(
    live_server, page: Page, screenshot_path, tenant_a, time_machine, settings, mailoutbox
):
    time_machine.move_to(NOW, tick=True)
    settings.SITE_URL = live_server.url
    engagement, _ = sla_engagement(tenant_a, targets=RATING_TARGET, active_from=date(2026, 6, 1))
    with tenant_a.scope():
        coaching = course(engagement, title="Coaching conversations")
        earlier = session(engagement, starts_at=datetime(2026, 6, 3, 9, tzinfo=UTC), status=SessionStatus.DELIVERED)
        for score in (5, 4, 4):
            feedback(earlier, score, score)
        delivered = session(
            engagement, starts_at=datetime(2026, 6, 8, 9, tzinfo=UTC), status=SessionStatus.DELIVERED, course_=coaching
        )
        seats = []
        for name in ("Lena Fischer", "Omar Haddad"):
            learner = LearnerFactory(organization=tenant_a.organization, name=name)
            seat = enrollment(delivered, delivered.starts_at, learner_=learner, status=EnrollmentStatus.ATTENDED)
            attendance(seat)
            seats.append(seat)
        assert services.invite_present_learners(delivered, NOW) == 2
    lena_link, omar_link = (survey_link(message.body) for message in sorted(mailoutbox, key=lambda m: m.to[0]))
    # Existing feedback of the month: 5 + 4 + 4 = 13 over 3 = 4.333… → 4.33.
    assert instructor_rating(engagement, tenant_a) == Decimal("4.33")

    opened = page.goto(lena_link)
    expect(page.get_by_role("heading", name="How was your session?")).to_be_visible()
    expect(page.get_by_text("Coaching conversations")).to_be_visible()
    instructor = page.get_by_role("group", name="How would you rate the instructor?")
    instructor.get_by_label("2", exact=True).check()  # a click
    overall = page.get_by_role("group", name="How would you rate the session overall?")
    overall.get_by_label("1", exact=True).focus()
    page.keyboard.press("Space")  # the keyboard: choose 1, then arrow on to 3
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.get_by_label("Anything you would like to tell us? (optional)").fill("More practice, please.")
    page.screenshot(path=str(screenshot_path), full_page=True)
    page.get_by_role("button", name="Send my answer").click()

    expect(page.get_by_role("heading", name="Thank you for your feedback")).to_be_visible()
    assert opened.status == 200
    # The month's feedback now: 5 + 4 + 4 + 2 = 15 over 4 = 3.75.
    assert instructor_rating(engagement, tenant_a) == Decimal("3.75")
    with tenant_a.scope():
        assert list(
            seats[0]
            .session.feedback.filter(learner=seats[0].learner)
            .values_list("instructor_score", "overall_score", "comment")
        ) == [(2, 3, "More practice, please.")]

    again = page.goto(lena_link)
    assert again.status == 409
    expect(page.get_by_role("alert")).to_have_text("You have already answered this survey. Thank you!")

    tampered = page.goto(omar_link[:-4] + "abc/")
    assert tampered.status == 400
    expect(page.get_by_role("alert")).to_have_text(
        "This survey link is not valid. Please use the link from your email."
    )

    time_machine.move_to(NOW + timedelta(days=15), tick=True)
    expired = page.goto(omar_link)
    assert expired.status == 410
    expect(page.get_by_role("alert")).to_have_text("This survey link has expired.")
    assert instructor_rating(engagement, tenant_a) == Decimal("3.75")
