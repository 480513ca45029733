"""The shared list sorting (mls.sorting): whitelisted keys, direction, stable ties, links, and the pager's labels."""

import html
import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse

from engagements import views as engagement_views
from engagements import views_governance as governance_views
from engagements.models import Engagement
from mls.enums import Role
from mls.sorting import Sorting, by, by_date
from reporting import views_qbr as qbr_views
from scheduling import services
from scheduling import views as scheduling_views
from scheduling import views_records as records_views
from scheduling import views_reference as reference_views
from scheduling.enums import Modality
from slas import views as sla_views
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, at
from vendors import views as vendor_views

pytestmark = pytest.mark.integration

COLUMNS = {"name": by("name"), "provider": by("provider__name"), "end": by_date("end_date")}


def sorting_for(query: str, default: str = "name") -> Sorting:
    return Sorting.from_request(RequestFactory().get(f"/list/?{query}"), COLUMNS, default=default)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("name", False)),
        ("sort=-end", ("end", True)),
        ("sort=end", ("end", False)),
        ("sort=password", ("name", False)),
        ("sort=--name", ("name", False)),
    ],
)
def test_sorting_reads_a_whitelisted_key_and_falls_back_to_the_default(query, expected):
    sorting = sorting_for(query)

    assert (sorting.key, sorting.descending) == expected


def test_sorting_header_link_flips_the_active_column_keeps_filters_and_resets_the_page():
    sorting = sorting_for("q=acme&page=3&sort=name")

    assert (sorting.url_for("name"), sorting.url_for("end")) == ("?q=acme&sort=-name", "?q=acme&sort=end")
    assert (sorting.aria_sort("name"), sorting.aria_sort("end")) == ("ascending", "none")
    assert sorting_for("sort=-name").url_for("name") == "?sort=name"


@pytest.mark.parametrize(("query", "order"), [("sort=end", "oldest"), ("sort=-end", "newest"), ("sort=-name", "")])
def test_sorting_tells_the_pager_whether_the_list_runs_by_date(query, order):
    assert sorting_for(query).page_order == order


def test_sorting_breaks_ties_by_pk_in_the_chosen_direction(tenant_a):
    with tenant_a.scope():
        first, second = (
            EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider) for _ in "12"
        )
        engagements = Engagement.objects.filter(pk__in=[first.pk, second.pk])

        ascending = list(sorting_for("sort=provider").apply(engagements))
        descending = list(sorting_for("sort=-provider").apply(engagements))

    assert (ascending, descending) == ([first, second], [second, first])


def _sessions(tenant, count):
    org = tenant.organization
    engagement = EngagementFactory(organization=org, provider=tenant.provider)
    courses = [CourseFactory(organization=org, code=f"C{n:02}") for n in range(count)]
    with tenant.scope():
        return [
            services.request_session(
                engagement=engagement,
                membership=tenant.members[Role.PROVIDER_MANAGER],
                course=course,
                modality=Modality.SELF_PACED,
                starts_at=at(1 + n, 9),
                ends_at=at(1 + n, 9) + timedelta(hours=1),
                capacity=5,
            )
            for n, course in enumerate(courses)
        ]


def test_session_list_sorted_by_course_descending_marks_the_header_and_keeps_the_order_across_pages(client, tenant_a):
    sessions = _sessions(tenant_a, 26)  # course C00 on 1 March … C25 on 26 March: one more than a page
    client.force_login(tenant_a.user(Role.VIEWER))
    url = reverse("scheduling:sessions", kwargs={"organization_slug": tenant_a.organization.slug})

    first = client.get(url, {"sort": "-course"})
    page = first.content.decode()
    link = re.search(r'<a href="\?([^"]*)" rel="next">([^<]*)</a>', page)
    second = client.get(f"{url}?{html.unescape(link[1])}")

    assert '<th scope="col" aria-sort="descending"><a class="sort" href="?sort=course"' in page
    assert '<th scope="col" aria-sort="none"><a class="sort" href="?sort=when"' in page
    assert '<input type="hidden" name="sort" value="-course">' in page
    assert link[2] == "Next →"  # not "Later": this order is not by date
    assert [s.pk for s in first.context["page"].object_list] == [s.pk for s in reversed(sessions[1:])]
    assert [s.pk for s in second.context["page"].object_list] == [sessions[0].pk]
    assert 'rel="prev">← Previous</a>' in second.content.decode()


def test_engagement_list_sorts_by_provider_with_header_link(client, tenant_a):
    org = tenant_a.organization
    with tenant_a.scope():
        zeta = EngagementFactory(organization=org, name="A engagement", provider__name="Zeta Learning")
        alpha = EngagementFactory(organization=org, name="B engagement", provider__name="Alpha Academy")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = reverse("engagements:list", kwargs={"organization_slug": org.slug})

    by_provider = client.get(url, {"sort": "provider"})
    by_name = client.get(url)

    assert [e.pk for e in by_provider.context["page"].object_list if e.pk in (zeta.pk, alpha.pk)] == [alpha.pk, zeta.pk]
    assert [e.pk for e in by_name.context["page"].object_list if e.pk in (zeta.pk, alpha.pk)] == [zeta.pk, alpha.pk]
    assert 'aria-sort="ascending"><a class="sort" href="?sort=-provider"' in by_provider.content.decode()


# Every sortable list, the context entry holding its rows, and its columns: each key in each direction renders
# and runs its query on real rows (a whitelisted key naming no field fails only once the list has rows).
SORTABLE_LISTS = [
    ("scheduling:sessions", "page", scheduling_views.SESSION_COLUMNS),
    ("scheduling:learners", "page", records_views.LEARNER_COLUMNS),
    ("scheduling:courses", "page", records_views.COURSE_COLUMNS),
    ("scheduling:outages", "page", records_views.OUTAGE_COLUMNS),
    ("scheduling:tickets", "page", records_views.TICKET_COLUMNS),
    ("scheduling:venues", "page", reference_views.VENUE_COLUMNS),
    ("engagements:list", "page", engagement_views.ENGAGEMENT_COLUMNS),
    ("engagements:disputes", "page", governance_views.DISPUTE_COLUMNS),
    ("slas:list", "page", sla_views.SLA_COLUMNS),
    ("slas:escalations", "page", sla_views.ESCALATION_COLUMNS),
    ("reporting:qbrs", "page", qbr_views.QBR_COLUMNS),
    ("vendors:providers", "providers", vendor_views.PROVIDER_COLUMNS),
    ("vendors:suppliers", "instructors", vendor_views.INSTRUCTOR_COLUMNS),
]


@pytest.mark.parametrize(("name", "rows", "columns"), SORTABLE_LISTS, ids=[name for name, _, _ in SORTABLE_LISTS])
def test_every_sort_key_of_every_list_renders_and_orders_by_real_fields(client, tenant_a, name, rows, columns):
    assert tenant_a.with_route_objects().qbr  # every list has a row: its headers show and its query runs
    client.force_login(tenant_a.user(Role.OWNER))
    url = reverse(name, kwargs={"organization_slug": tenant_a.organization.slug})

    for value in [key for column in columns for key in (column, f"-{column}")]:
        response = client.get(url, {"sort": value})
        listed = list(response.context[rows])  # runs the ordered query: a FieldError for a column naming no field

        assert (response.status_code, response.context["sorting"].value) == (200, value)
        assert f'aria-sort="{"descending" if value.startswith("-") else "ascending"}"' in response.content.decode()
        assert listed
