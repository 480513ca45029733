"""The sessions month calendar through the test client: the grid, its timezone, filters, months and queries."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from mls.enums import Role
from scheduling import services
from scheduling.enums import Modality
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, RoomFactory

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def calendar_url(tenant):
    return reverse("scheduling:session_calendar", kwargs={"organization_slug": tenant.organization.slug})


@pytest.fixture
def book(tenant_a, time_machine):
    time_machine.move_to(NOW, tick=False)
    org = tenant_a.organization
    engagement = EngagementFactory(organization=org, provider=tenant_a.provider)
    course, room = CourseFactory(organization=org, code="LEAD-1"), RoomFactory(organization=org)

    def make(start, engagement=engagement, role=Role.PROVIDER_MANAGER):
        with tenant_a.scope():
            return services.request_session(
                engagement=engagement,
                membership=tenant_a.members[role],
                course=course,
                modality=Modality.ILT,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                capacity=5,
                room=room,
            )

    return tenant_a, engagement, make


def _days_with_sessions(response):
    return {
        cell.day: [s.pk for s in cell.sessions] for week in response.context["weeks"] for cell in week if cell.sessions
    }


def test_calendar_opens_on_the_current_month_in_monday_first_weeks_with_today_marked(client, book):
    tenant, _engagement, make = book
    session = make(datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    client.force_login(tenant.user(Role.VIEWER))

    response = client.get(calendar_url(tenant))

    weeks = response.context["weeks"]
    page = response.content.decode()
    # November 2026 starts on a Sunday: the grid runs Monday 26 October to Sunday 6 December, six weeks.
    assert (weeks[0][0].day, weeks[-1][-1].day, len(weeks)) == (date(2026, 10, 26), date(2026, 12, 6), 6)
    assert [cell.day for week in weeks for cell in week if cell.is_today] == [date(2026, 11, 18)]
    assert _days_with_sessions(response) == {date(2026, 11, 3): [session.pk]}
    assert '<h2 id="calendar-month">November 2026</h2>' in page
    assert re.search(r'aria-current="date">\s*<span class="calendar__date"><time datetime="2026-11-18">', page)
    assert '<abbr title="Monday">Mon</abbr>' in page


def test_calendar_places_a_session_on_its_local_day_and_time(client, book):
    tenant, _engagement, make = book
    tenant.organization.timezone = "America/New_York"
    tenant.organization.save()
    # 02:30 UTC on 10 November is 21:30 on 9 November in New York.
    session = make(datetime(2026, 11, 10, 2, 30, tzinfo=UTC))
    client.force_login(tenant.user(Role.VIEWER))

    response = client.get(calendar_url(tenant), {"month": "2026-11"})

    assert _days_with_sessions(response) == {date(2026, 11, 9): [session.pk]}
    assert f'href="/o/{tenant.organization.slug}/sessions/{session.pk}/"><time' in response.content.decode()
    assert ">21:30</time> LEAD-1</a>" in response.content.decode()


def test_calendar_filters_by_engagement_and_keeps_the_filter_on_month_links(client, book):
    tenant, engagement, make = book
    other = EngagementFactory(organization=tenant.organization, provider=tenant.provider)
    kept = make(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    make(datetime(2026, 12, 2, 9, 0, tzinfo=UTC), engagement=other)
    client.force_login(tenant.user(Role.VIEWER))

    response = client.get(calendar_url(tenant), {"month": "2026-12", "engagement": engagement.pk})

    assert _days_with_sessions(response) == {date(2026, 12, 1): [kept.pk]}
    assert response.context["previous_query"] == f"?engagement={engagement.pk}&month=2026-11"
    assert response.context["next_query"] == f"?engagement={engagement.pk}&month=2027-01"
    assert response.context["list_query"] == (
        f"?engagement={engagement.pk}&starts_from=2026-12-01&starts_until=2026-12-31"
    )


def test_calendar_hides_another_providers_sessions_from_a_provider_manager(client, book):
    tenant, _engagement, make = book
    own = make(datetime(2026, 11, 5, 9, 0, tzinfo=UTC))
    foreign = EngagementFactory(organization=tenant.organization)  # another provider's engagement
    make(datetime(2026, 11, 6, 9, 0, tzinfo=UTC), engagement=foreign, role=Role.OWNER)
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    response = client.get(calendar_url(tenant), {"month": "2026-11", "engagement": foreign.pk})

    assert _days_with_sessions(response) == {date(2026, 11, 5): [own.pk]}
    assert list(response.context["filters"].errors) == ["engagement"]


@pytest.mark.parametrize("month", ["2026-13", "november", "0001-01"])
def test_calendar_with_a_bad_month_says_so_and_shows_the_current_month(client, book, month):
    tenant, _engagement, _make = book
    client.force_login(tenant.user(Role.VIEWER))

    response = client.get(calendar_url(tenant), {"month": month})

    assert response.status_code == 200
    assert response.context["month"] == date(2026, 11, 1)
    assert list(response.context["filters"].errors) == ["month"]


@pytest.mark.parametrize("count", [1, 3])
def test_calendar_query_count_is_constant(client, book, django_assert_num_queries, count):
    tenant, _engagement, make = book
    for day in range(count):
        make(datetime(2026, 11, 2 + day, 9, 0, tzinfo=UTC))
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))

    # Queries: session, user, organization, membership, switcher, unread, engagements (filter), the sessions.
    with django_assert_num_queries(8):
        response = client.get(calendar_url(tenant), {"month": "2026-11"})

    assert sum(len(sessions) for sessions in _days_with_sessions(response).values()) == count
