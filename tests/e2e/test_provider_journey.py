"""Journey: the provider's account manager takes today's register, cancels and reschedules a session and answers a
support ticket, seeing only its own provider's delivery."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from mls.enums import Role
from scheduling.enums import SessionStatus
from scheduling.models import Attendance, Learner, Session
from tests.factories import ProviderFactory
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import course, enrollment, session, ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")  # the factory organization's timezone: the forms' times are read in it


def local_input(moment: datetime) -> str:
    """How a datetime-local field holds `moment` in the organization's time."""
    return f"{moment.astimezone(LONDON):%Y-%m-%dT%H:%M}"


def shown(moment: datetime) -> str:
    """How the ticket page prints `moment`: in the organization's time, with its zone."""
    return f"{moment.astimezone(LONDON):%-d %b %Y %H:%M %Z}"


def test_provider_logs_attendance_cancels_reschedules_and_answers_a_ticket(
    live_server, page: Page, screenshot_path, tenant_a, sign_in
):
    now = timezone.now().replace(second=0, microsecond=0)
    ours = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Northwind delivery")
    theirs = EngagementFactory(
        organization=tenant_a.organization,
        provider=ProviderFactory(organization=tenant_a.organization, name="Contoso Academy"),
        name="Contoso coaching",
    )
    in_ten_days = datetime.combine(timezone.localdate(timezone=LONDON) + timedelta(days=10), time(9), tzinfo=LONDON)
    with tenant_a.scope():
        today = session(ours, starts_at=now - timedelta(hours=1), course_=course(ours, title="Leading teams"))
        ada, grace, linus = (
            Learner.objects.create(organization=tenant_a.organization, name=name, email=f"{name[:3].lower()}@acme.test")
            for name in ("Ada Lovelace", "Grace Hopper", "Linus Pauling")
        )
        seats = {learner: enrollment(today, now - timedelta(days=7), learner_=learner) for learner in (ada, grace)}
        later = session(
            ours,
            starts_at=in_ten_days,
            course_=course(ours, title="Coaching skills"),
            join_url="https://meet.example/coaching",  # a virtual session has one: its replacement keeps it
        )
        moved = enrollment(later, now - timedelta(days=3), learner_=linus)
        session(theirs, starts_at=in_ten_days, course_=course(theirs, title="Negotiation skills"))
        question = ticket(ours, now - timedelta(hours=2), subject="Cannot find the joining link")
        ticket(theirs, now - timedelta(hours=2), subject="Contoso invoice query")

    sign_in(tenant_a.user(Role.PROVIDER_MANAGER).email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Delivery").click()
    sessions = page.get_by_role("region", name="Sessions").get_by_role("row")
    expect(sessions).to_have_count(3)  # the header and our two: Contoso's session is not the provider's to see
    expect(page.get_by_text("Negotiation skills")).to_have_count(0)

    sessions.filter(has_text="Leading teams").get_by_role("link").click()
    page.get_by_role("checkbox", name="Ada Lovelace present").check()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_role("status")).to_have_text("Attendance saved: 1 present.")
    roster = page.get_by_role("region", name="Roster")
    expect(roster.get_by_role("row", name="Ada Lovelace")).to_contain_text("Attended")
    expect(roster.get_by_role("row", name="Grace Hopper")).to_contain_text("No-show")
    with tenant_a.scope():
        register = dict(Attendance.objects.values_list("enrollment", "present"))
    assert register == {seats[ada].pk: True, seats[grace].pk: False}

    page.get_by_role("link", name="Sessions", exact=True).click()
    sessions.filter(has_text="Coaching skills").get_by_role("link").click()
    page.get_by_label("Cancelled by").select_option(label="Provider")
    page.get_by_label("Reason").fill("Instructor ill")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Cancel session").click()

    expect(page.get_by_role("note")).to_contain_text("Cancelled by the provider on")
    expect(page.get_by_role("note")).to_contain_text("Instructor ill")
    assert asked == [f"Cancel Coaching skills on {in_ten_days:%-d %b %Y}? 1 enrolled learner is emailed now."]
    later.refresh_from_db()
    assert (later.status, later.cancelled_by, later.cancellation_reason) == (
        SessionStatus.CANCELLED,
        "provider",
        "Instructor ill",
    )

    new_start = in_ten_days + timedelta(days=7)
    page.get_by_label("New start").fill(local_input(new_start))
    page.get_by_label("New end").fill(local_input(new_start + timedelta(hours=3)))
    page.get_by_role("button", name="Create the replacement").click()

    expect(page.get_by_role("status")).to_have_text("Rescheduled: the enrolled learners moved to this session.")
    expect(page.get_by_role("note")).to_contain_text("Replaces the cancelled session of")
    expect(page.get_by_role("region", name="Roster").get_by_role("row", name="Linus Pauling")).to_be_visible()
    with tenant_a.scope():
        replacement = Session.objects.get(replaces=later)
        moved.refresh_from_db()
    assert (replacement.status, replacement.starts_at, moved.session_id) == (
        SessionStatus.CONFIRMED,
        new_start,
        replacement.pk,
    )
    expect(page).to_have_url(re.compile(f"/sessions/{replacement.pk}/$"))
    page.screenshot(path=screenshot_path.with_name("provider_rescheduled_session.png"), full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Delivery").click()
    page.get_by_role("navigation", name="Delivery").get_by_role("link", name="Support tickets").click()
    tickets = page.get_by_role("region", name="Tickets")
    expect(tickets.locator("tbody").get_by_role("link")).to_have_text(["Cannot find the joining link"])  # not Contoso's
    tickets.get_by_role("link", name="Cannot find the joining link").click()
    page.get_by_label("Your reply").fill("The joining link is in your calendar invitation.")
    page.get_by_role("button", name="Post reply").click()

    expect(page.get_by_role("heading", name="Conversation").locator("..").locator(".thread__reply")).to_have_count(1)
    with tenant_a.scope():
        question.refresh_from_db()
        reply = question.replies.get()
    assert (question.first_response_at, question.resolved_at) == (reply.created_at, None)  # the reply's time
    expect(page.get_by_role("definition")).to_have_text(
        [
            "Waiting on client",
            "Nobody",
            "Northwind delivery",
            "Enrollment",
            "—",
            shown(question.opened_at),
            shown(reply.created_at),
            "—",
        ]
    )
    page.get_by_label("New status").select_option("resolved")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Ticket resolved.")).to_be_visible()
    with tenant_a.scope():
        question.refresh_from_db()
    assert question.status == "resolved"
    page.screenshot(path=screenshot_path, full_page=True)
