"""The portal's services and selectors: links issued, spent once, expired; the rate limit's windows; the feed's
secrets; which sessions, training and completions are the learner's, in the learner's zone."""

from datetime import timedelta

import pytest
from django.core import mail

from mls.models import AuditEvent
from portal import selectors, services
from portal.models import LearnerCalendarFeed, LearnerSignInLink
from portal.services import LinkState, SignInLinkRefused, SignInRateLimited
from scheduling.calendars import learner_zone
from tests.portal.world import NOW

pytestmark = pytest.mark.unit


def test_a_link_stores_only_the_hash_of_its_secret(world):
    with world.tenant.scope():
        link = LearnerSignInLink.objects.get(learner=world.a.learner)

    assert link.token_hash == services.secret_hash(world.link_token)
    assert world.link_token.startswith(f"{world.tenant.organization.pk}_")
    assert (link.created_at, link.expires_at, link.used_at) == (NOW, NOW + timedelta(minutes=15), None)


def test_a_link_is_spent_once_and_audited(world):
    with world.tenant.scope():
        learner = services.use_sign_in_link(world.link_token, now=NOW + timedelta(minutes=14))
        with pytest.raises(SignInLinkRefused) as again:
            services.use_sign_in_link(world.link_token, now=NOW + timedelta(minutes=14))
        events = list(AuditEvent.objects.filter(action="portal.learner_signed_in").values_list("object_id", flat=True))

    assert learner == world.a.learner
    assert again.value.state == LinkState.USED
    assert events == [str(world.a.learner.pk)]


def test_a_link_expires_after_fifteen_minutes(world):
    with world.tenant.scope():
        state, _ = services.sign_in_link_state(world.link_token, now=NOW + timedelta(minutes=15))
        with pytest.raises(SignInLinkRefused) as refused:
            services.use_sign_in_link(world.link_token, now=NOW + timedelta(minutes=15))

    assert (state, refused.value.state) == (LinkState.EXPIRED, LinkState.EXPIRED)


def test_a_link_is_unknown_in_another_organizations_scope(world):
    with world.other.scope():
        state, link = services.sign_in_link_state(world.link_token, now=NOW)

    assert (state, link) == (LinkState.UNKNOWN, None)


def test_secret_organization_is_the_id_before_the_first_underscore(world):
    assert services.secret_organization(f"{world.tenant.organization.pk}_abc_def") == world.tenant.organization


@pytest.mark.parametrize("raw", ["12", "x_abc", "_abc", "12_", "1234567890123456789_a", "999999_abc"])
def test_secret_organization_of_a_malformed_secret_or_unknown_organization_is_none(world, raw):
    assert services.secret_organization(raw) is None


def test_request_sign_in_links_sends_one_per_organization_knowing_the_address(
    world, django_capture_on_commit_callbacks
):
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        issued = services.request_sign_in_links(email=" ADA@acme.example ", client_ip="192.0.2.1", now=NOW)

    assert [i.link.learner_id for i in issued] == [world.a.learner.pk, world.elsewhere.learner.pk]
    assert [(m.to, issued_link.raw in m.body) for m, issued_link in zip(mail.outbox, issued, strict=True)] == [
        (["ada@acme.example"], True),
        (["ada@acme.example"], True),
    ]


def test_request_sign_in_links_for_an_unknown_address_sends_nothing(world, django_capture_on_commit_callbacks):
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        issued = services.request_sign_in_links(email="nobody@acme.example", client_ip="192.0.2.1", now=NOW)

    assert (issued, mail.outbox) == ([], [])


def test_the_sign_in_rate_counts_an_address_in_any_case_per_clock_hour(world):
    for n in range(services.SIGN_IN_REQUESTS_PER_HOUR):
        services.check_sign_in_rate(email="Bea@acme.example", client_ip=f"192.0.2.{n}", now=NOW)

    with pytest.raises(SignInRateLimited):
        services.check_sign_in_rate(email="bea@ACME.example", client_ip="192.0.2.99", now=NOW + timedelta(minutes=49))
    # 09:00 + 1 h is the next clock hour's first second: a new window.
    services.check_sign_in_rate(email="bea@acme.example", client_ip="192.0.2.99", now=NOW + timedelta(hours=1))


def test_issuing_a_feed_revokes_the_previous_one(world):
    with world.tenant.scope():
        feed, raw = services.issue_calendar_feed(learner=world.a.learner, now=NOW + timedelta(days=1))
        feeds = list(LearnerCalendarFeed.objects.order_by("created_at").values_list("revoked_at", "token_hash"))
        old, new = selectors.feed_by_secret(world.feed_token), selectors.feed_by_secret(raw)

    assert feeds == [(NOW + timedelta(days=1), services.secret_hash(world.feed_token)), (None, feed.token_hash)]
    assert (old, new) == (None, feed)


def test_revoking_without_a_live_feed_does_nothing(world):
    with world.tenant.scope():
        first = services.revoke_calendar_feed(learner=world.a.learner, now=NOW)
        second = services.revoke_calendar_feed(learner=world.a.learner, now=NOW)
        events = list(
            AuditEvent.objects.filter(action__startswith="portal.calendar_feed").values_list("action", flat=True)
        )

    assert (first, second) == (True, False)
    assert sorted(events) == ["portal.calendar_feed_issued", "portal.calendar_feed_revoked"]


def test_learner_timezone_prefers_the_learners_then_the_venues_then_the_engagements(world, room):
    with world.tenant.scope():
        session, learner = world.a.session, world.a.learner
        online = learner_zone(learner, session)
        session.room = room
        in_room = learner_zone(learner, session)
        learner.timezone = "Asia/Tokyo"
        own = learner_zone(learner, session)

    assert (online, in_room, own) == ("Europe/London", "Europe/Berlin", "Asia/Tokyo")


def test_portal_overview_splits_the_learners_sessions_at_now(world):
    with world.tenant.scope():
        overview = selectors.portal_overview(world.a.learner, now=NOW)

    assert [row.session for row in overview.upcoming] == [world.a.session]
    assert [row.session for row in overview.past] == [world.a.past_session]
    assert overview.open_assignments == [world.a.assignment]
    assert overview.met_assignments == []
    assert overview.completions == [world.a.completion]
    assert overview.feed.learner_id == world.a.learner.pk
