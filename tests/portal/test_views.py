"""The learner portal through the test client: sign-in by the link in the outbox, the learner's pages, the calendar
feed, the rate limit, the learner's language and zone."""

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core import mail
from django.urls import reverse

from mls.enums import Role
from portal import services
from portal.models import LearnerCalendarFeed, LearnerSignInLink
from scheduling.enums import EnrollmentStatus, SessionStatus
from tests.portal.world import NOW, assign, complete, enrol, make_course, make_session, sign_in_as

pytestmark = pytest.mark.integration

LINK = re.compile(r"https?://[^/\s]+(/learn/link/[^\s]+/)")


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """POST the sign-in form as the browser does; the email goes out when the request's transaction commits."""

    def ask(email: str, **extra: object):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("portal:sign_in"), {"email": email}, **extra)

    return ask


def _link_path(message: mail.EmailMessage) -> str:
    return LINK.search(message.body).group(1)


def test_learner_signs_in_by_the_link_in_the_outbox_and_sees_their_sessions(client, ask, world):
    mail.outbox.clear()

    asked = ask("Bea@ACME.example")
    link_page = client.get(_link_path(mail.outbox[0]))
    signed_in = client.post(_link_path(mail.outbox[0]))
    home = client.get(reverse("portal:home"))

    assert asked.status_code == 200
    assert "If that address is known, we've sent a link to it." in asked.content.decode()
    assert [(m.to, m.subject) for m in mail.outbox] == [(["bea@acme.example"], "Your sign-in link for Acme Corp")]
    assert link_page.status_code == 200
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("portal:home")
    page = home.content.decode()
    assert ("Bea upcoming course" in page, "Ada upcoming course" in page) == (True, False)
    assert home["Cache-Control"] == "no-store, private"


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, ask, world):
    mail.outbox.clear()

    known = ask("bea@acme.example")
    unknown = ask("nobody@acme.example")

    assert unknown.status_code == known.status_code == 200
    assert _without_csrf(unknown) == _without_csrf(known)
    assert [m.to for m in mail.outbox] == [["bea@acme.example"]]


def _without_csrf(response) -> str:
    """The page without what differs on every request (the CSRF token, the script nonce)."""
    return re.sub(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"', "", response.content.decode())


def test_an_address_known_to_two_organizations_gets_a_link_for_each(client, ask, world):
    mail.outbox.clear()

    ask("ada@acme.example")

    # Both organizations are called Acme Corp (on purpose): each link names and opens its own.
    assert [m.to for m in mail.outbox] == [["ada@acme.example"], ["ada@acme.example"]]
    opened = []
    for message in mail.outbox:
        client.post(_link_path(message))
        opened.append("Other upcoming course" in client.get(reverse("portal:home")).content.decode())
        client.post(reverse("portal:sign_out"))
    assert opened == [False, True]  # in the order the organizations were created: A first


def test_a_link_works_once(client, world):
    first = client.post(reverse("portal:link", kwargs={"token": world.link_token}))
    client.post(reverse("portal:sign_out"))

    again = client.post(reverse("portal:link", kwargs={"token": world.link_token}))
    shown = client.get(reverse("portal:link", kwargs={"token": world.link_token}))

    assert first.status_code == 302
    assert again.status_code == shown.status_code == 410
    assert "This link was already used. Each link works only once." in again.content.decode()
    assert client.get(reverse("portal:home"))["Location"] == reverse("portal:sign_in")


def test_an_expired_link_is_refused_with_a_clear_page(client, world, time_machine):
    time_machine.move_to(NOW + services.SIGN_IN_LINK_VALID_FOR, tick=False)

    response = client.post(reverse("portal:link", kwargs={"token": world.link_token}))

    assert response.status_code == 410
    assert "This link has expired. Links work for 15 minutes." in response.content.decode()
    with world.tenant.scope():
        assert LearnerSignInLink.objects.get(learner=world.a.learner).used_at is None


@pytest.mark.parametrize("token", ["nonsense", "999999_abc", "1_", "_abc"])
def test_a_malformed_or_unknown_link_is_a_clear_404(client, world, token):
    response = client.get(reverse("portal:link", kwargs={"token": token}))

    assert response.status_code == 404
    assert "This link is not valid." in response.content.decode()


def test_a_link_with_another_organizations_id_is_not_valid(client, world):
    secret = world.link_token.partition("_")[2]
    forged = f"{world.other.organization.pk}_{secret}"

    response = client.post(reverse("portal:link", kwargs={"token": forged}))

    assert response.status_code == 404


def test_the_rate_limit_answers_a_clear_message(client, ask, world):
    mail.outbox.clear()
    answers = [ask("bea@acme.example").status_code for _ in range(services.SIGN_IN_REQUESTS_PER_HOUR + 1)]

    refused = ask("bea@acme.example")

    assert answers == [200] * 5 + [429]
    assert refused.status_code == 429
    assert "Too many sign-in requests for this address or from this network." in refused.content.decode()
    assert len(mail.outbox) == 5


def test_the_rate_limit_counts_per_client_address_across_emails(client, ask, world):
    answers = [
        client.post(reverse("portal:sign_in"), {"email": f"someone{n}@acme.example"}).status_code for n in range(6)
    ]
    elsewhere = ask("x@acme.example", REMOTE_ADDR="192.0.2.7")

    assert answers == [200] * 5 + [429]
    assert elsewhere.status_code == 200


def test_the_rate_limit_opens_again_the_next_hour(client, ask, world, time_machine):
    for _ in range(6):
        ask("bea@acme.example")
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)

    response = ask("bea@acme.example")

    assert response.status_code == 200


def test_the_sign_in_page_speaks_the_browsers_language(client, world):
    response = client.get(reverse("portal:sign_in"), HTTP_ACCEPT_LANGUAGE="de")

    page = response.content.decode()
    assert "Bei Ihren Schulungen anmelden" in page
    assert "Kein Passwort nötig" in page


def test_a_member_following_a_learner_link_is_told_it_signs_them_out(client, world):
    member = world.tenant.user(Role.OWNER)
    client.force_login(member)

    response = client.get(reverse("portal:link", kwargs={"token": world.link_token}))

    assert f"You are signed in as the member {member.email}. Continuing signs you out" in response.content.decode()


def test_an_invalid_email_shows_the_field_error(client, ask, world):
    response = ask("not an email")

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert 'value="not an email"' in response.content.decode()


def test_a_learner_session_ends_after_the_idle_timeout(client, world, settings, time_machine):
    sign_in_as(client, world.a.learner)
    time_machine.move_to(NOW + timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 1), tick=False)
    still = client.get(reverse("portal:home"))
    time_machine.move_to(NOW + timedelta(seconds=2 * settings.SESSION_IDLE_TIMEOUT), tick=False)

    ended = client.get(reverse("portal:home"))

    assert still.status_code == 200
    assert ended["Location"] == reverse("portal:sign_in")


def test_signing_out_ends_the_learner_session(client, world):
    sign_in_as(client, world.a.learner)

    response = client.post(reverse("portal:sign_out"), follow=True)

    assert response.redirect_chain == [(reverse("portal:sign_in"), 302)]
    assert "You are signed out." in response.content.decode()
    assert client.get(reverse("portal:home"))["Location"] == reverse("portal:sign_in")


def test_session_ics_of_the_learner_parses_and_another_learners_is_404(client, world):
    sign_in_as(client, world.a.learner)

    own = client.get(reverse("portal:session_ics", kwargs={"pk": world.a.session.pk}))
    other = client.get(reverse("portal:session_ics", kwargs={"pk": world.b.session.pk}))
    foreign = client.get(reverse("portal:session_ics", kwargs={"pk": world.elsewhere.session.pk}))

    events = icalendar.Calendar.from_ical(own.content).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Ada upcoming course"]
    assert (other.status_code, foreign.status_code) == (404, 404)


def test_a_cancelled_enrollment_is_not_the_learners_session(client, world):
    with world.tenant.scope():
        world.a.session.enrollments.update(status=EnrollmentStatus.CANCELLED)
    sign_in_as(client, world.a.learner)

    response = client.get(reverse("portal:session_ics", kwargs={"pk": world.a.session.pk}))

    assert response.status_code == 404


def _feed_events(content: bytes) -> list[tuple[str, str]]:
    return [(str(e["SUMMARY"]), str(e["STATUS"])) for e in icalendar.Calendar.from_ical(content).walk("VEVENT")]


def test_calendar_feed_has_only_the_learners_sessions_cancelled_ones_marked(client, world):
    with world.tenant.scope():
        cancelled = make_session(
            world.a.session.engagement,
            make_course(world.tenant.organization, "ADA-3", "Ada cancelled course"),
            datetime(2026, 3, 25, 9, tzinfo=UTC),
            status=SessionStatus.CANCELLED,
        )
        enrol(cancelled, world.a.learner)
        waitlisted = make_session(
            world.a.session.engagement,
            make_course(world.tenant.organization, "ADA-4", "Ada waitlisted course"),
            datetime(2026, 3, 26, 9, tzinfo=UTC),
        )
        enrol(waitlisted, world.a.learner, EnrollmentStatus.WAITLISTED)

    response = client.get(reverse("portal:calendar_feed", kwargs={"token": world.feed_token}))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert _feed_events(response.content) == [
        ("Ada past course", "CONFIRMED"),
        ("Ada upcoming course", "CONFIRMED"),
        ("Ada cancelled course", "CANCELLED"),
    ]


def test_calendar_feed_stops_working_after_revoke_and_a_new_one_works(client, world):
    sign_in_as(client, world.a.learner)

    revoked = client.post(reverse("portal:calendar_feed_revoke"))
    old = client.get(reverse("portal:calendar_feed", kwargs={"token": world.feed_token}))
    issued = client.post(reverse("portal:calendar_feed_issue"))
    new_token = re.search(r"/learn/calendar/([^/\"]+)\.ics", issued.content.decode()).group(1)
    new = client.get(reverse("portal:calendar_feed", kwargs={"token": new_token}))

    assert revoked.status_code == 302
    assert old.status_code == 404
    assert [summary for summary, _ in _feed_events(new.content)] == ["Ada past course", "Ada upcoming course"]
    with world.tenant.scope():
        assert LearnerCalendarFeed.objects.filter(learner=world.a.learner, revoked_at=None).count() == 1


def test_reissuing_the_feed_revokes_the_previous_address(client, world):
    sign_in_as(client, world.a.learner)

    client.post(reverse("portal:calendar_feed_issue"))

    assert client.get(reverse("portal:calendar_feed", kwargs={"token": world.feed_token})).status_code == 404


@pytest.mark.parametrize("token", ["nonsense", "999999_abc"])
def test_an_unknown_feed_is_404(client, world, token):
    assert client.get(reverse("portal:calendar_feed", kwargs={"token": token})).status_code == 404


def test_times_are_in_the_learners_zone_with_its_name(client, world):
    with world.tenant.scope():
        world.a.learner.timezone = "America/New_York"
        world.a.learner.save()
    sign_in_as(client, world.a.learner)

    page = client.get(reverse("portal:home")).content.decode()

    # 20 March 2026 09:00 UTC is 05:00 in New York (EDT, UTC−4, since 8 March).
    assert "Friday 20 March 2026, 05:00–08:00" in page
    assert "Times in America/New_York" in page


def test_without_a_zone_of_their_own_times_are_the_venues(client, world, room):
    with world.tenant.scope():
        session = world.a.session
        session.room, session.modality, session.join_url = room, "ilt", ""
        session.save()
    sign_in_as(client, world.a.learner)

    page = client.get(reverse("portal:home")).content.decode()

    # 09:00 UTC is 10:00 in Berlin (CET, UTC+1, in March before the 29th).
    assert "Friday 20 March 2026, 10:00–13:00" in page
    assert "Times in Europe/Berlin" in page
    assert f"{room.venue.name}, {room.name}" in page


def test_a_german_learner_reads_the_portal_in_german(client, world):
    with world.tenant.scope():
        world.a.learner.language = "de"
        world.a.learner.save()
    sign_in_as(client, world.a.learner)

    response = client.get(reverse("portal:home"))

    page = response.content.decode()
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in page
    for german in ("Ihre Schulungen, Ada Lovelace", "Anstehende Termine", "Pflichtschulungen", "Abmelden"):
        assert german in page
    assert "Freitag, 20. März 2026, 09:00–12:00" in page
    assert "Upcoming sessions" not in page


def test_a_german_learners_sign_in_email_is_german(client, ask, world):
    with world.tenant.scope():
        world.b.learner.language = "de"
        world.b.learner.save()
    mail.outbox.clear()

    ask("bea@acme.example")

    assert mail.outbox[0].subject == "Ihr Anmeldelink für Acme Corp"
    assert mail.outbox[0].body.startswith("Guten Tag Bea Baker,")


@pytest.mark.parametrize("count", [1, 3])
def test_portal_home_query_count_is_constant(client, world, django_assert_num_queries, count):
    with world.tenant.scope():
        engagement, organization = world.a.session.engagement, world.tenant.organization
        for n in range(count - 1):
            course = make_course(organization, f"EXTRA-{n}", f"Extra course {n}")
            enrol(make_session(engagement, course, datetime(2026, 4, 1 + n, 9, tzinfo=UTC)), world.a.learner)
            complete(world.a.learner, course, datetime(2026, 3, 1, 9, tzinfo=UTC))
            assign(world.a.learner, world.a.assignment.requirement, datetime(2026, 5, 1 + n).date())
    sign_in_as(client, world.a.learner)

    # session, organization + learner, enrollments, assignments, completions, feed, open surveys
    with django_assert_num_queries(7):
        response = client.get(reverse("portal:home"))

    assert response.content.decode().count("/calendar.ics") == count + 1  # upcoming ones and the past one
