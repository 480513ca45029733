"""Every /learn/ route × every kind of visitor: nobody, learner A, learner B of A's organization, a learner of
another organization (with A's email), a signed-in member. The data that could leak exists first (tests/portal/
conftest.py); a learner is never a member, and a member never a learner."""

import pytest
from django.urls import reverse

from mls.enums import Role
from portal.models import LearnerCalendarFeed
from tests.portal.world import sign_in_as, visit_as
from tests.url_matrix import LEARNER_ROUTES, VISITORS, all_routes

pytestmark = pytest.mark.integration


def test_every_portal_route_is_in_the_learner_matrix():
    portal_routes = sorted(r.name for r in all_routes() if r.route.startswith("learn/"))

    assert portal_routes == sorted(LEARNER_ROUTES)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("name", sorted(LEARNER_ROUTES))
def test_portal_route_answers_each_visitor_as_the_matrix_says(client, world, name, visitor):
    route = LEARNER_ROUTES[name]
    visit_as(client, world, visitor)
    url = reverse(name, kwargs=route.kwargs(world))
    feeds_before = _feeds(world)

    response = client.post(url) if route.method == "POST" else client.get(url)

    assert response.status_code == route.statuses[visitor]
    if visitor in ("anonymous", "member"):
        assert _feeds(world) == feeds_before  # nothing written for someone who is not a learner
    if response.status_code == 302 and visitor in ("anonymous", "member") and name != "portal:sign_out":
        assert response["Location"] == reverse("portal:sign_in")


def _feeds(world) -> list[tuple[int, int, object]]:
    rows = []
    for tenant in (world.tenant, world.other):
        with tenant.scope():
            rows += LearnerCalendarFeed.objects.order_by("pk").values_list("pk", "learner_id", "revoked_at")
    return rows


@pytest.mark.parametrize("visitor", ["learner_a", "learner_b", "other_organization_learner"])
def test_each_learners_portal_holds_only_their_own_rows(client, world, visitor):
    own = {"learner_a": world.a, "learner_b": world.b, "other_organization_learner": world.elsewhere}[visitor]
    records = (world.a, world.b, world.elsewhere)
    visit_as(client, world, visitor)

    page = client.get(reverse("portal:home")).content.decode()

    shown = {
        (record.learner.name, what)
        for record in records
        for what, title in (
            ("session", record.session.course.title),
            ("past session", record.past_session.course.title),
            ("training", record.assignment.requirement.name),
        )
        if title in page
    }
    assert shown == {
        (own.learner.name, "session"),
        (own.learner.name, "past session"),
        (own.learner.name, "training"),
    }
    assert page.count("/calendar.ics") == 2  # the .ics of their two sessions, nobody else's
    assert f'/learn/sessions/{own.session.pk}/calendar.ics"' in page


def test_a_learner_sees_nothing_of_the_organizations_member_pages(client, world):
    sign_in_as(client, world.a.learner)

    dashboard = client.get(f"/o/{world.tenant.organization.slug}/")
    learners = client.get(f"/o/{world.tenant.organization.slug}/learners/{world.a.learner.pk}/")

    assert dashboard.status_code == 302
    assert dashboard["Location"].startswith(reverse("account_login"))
    assert learners.status_code == 302
    assert learners["Location"].startswith(reverse("account_login"))


def test_following_a_learner_link_signs_the_member_out(client, world):
    client.force_login(world.tenant.user(Role.OWNER))

    sign_in_as(client, world.a.learner)

    assert client.get(f"/o/{world.tenant.organization.slug}/").status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_member_signing_in_ends_the_learner_session(client, world):
    sign_in_as(client, world.a.learner)

    client.force_login(world.tenant.user(Role.OWNER))

    assert client.get(reverse("portal:home"))["Location"] == reverse("portal:sign_in")
    assert client.get(f"/o/{world.tenant.organization.slug}/").status_code == 200
