"""Venue, room and compliance requirement pages: forms keep input on errors, writers by role, constant queries."""

from datetime import date

import pytest
from django.urls import reverse

from mls.enums import Role
from scheduling.models import ComplianceAssignment, ComplianceRequirement, RequirementCourse, Room, Venue
from tests.factories.scheduling import CourseFactory, LearnerFactory, RoomFactory, VenueFactory

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


# --- Venues and rooms ----------------------------------------------------------------------------------------


def test_new_venue_defaults_to_the_organization_timezone_and_refuses_an_unknown_one(client, tenant_a):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    url = org_url(tenant_a, "scheduling:venue_create")

    initial = client.get(url).context["form"].initial
    bad = client.post(url, {"name": "HQ", "address": "1 High Street", "timezone": "London"})
    good = client.post(url, {"name": "HQ", "address": "1 High Street", "timezone": "Europe/London"})

    assert initial == {"timezone": "Europe/London"}
    assert bad.status_code == 400
    assert bad.context["form"].errors == {"timezone": ["London is not an IANA timezone such as Europe/London."]}
    assert b'value="HQ"' in bad.content
    assert good["Location"] == org_url(tenant_a, "scheduling:venues")
    with tenant_a.scope():
        assert list(Venue.objects.values_list("name", "timezone")) == [("HQ", "Europe/London")]


def test_rooms_are_added_and_edited_from_the_venue_list(client, tenant_a):
    venue = VenueFactory(organization=tenant_a.organization, name="HQ")
    client.force_login(tenant_a.user(Role.OWNER))

    client.post(org_url(tenant_a, "scheduling:room_create", pk=venue.pk), {"name": "Ada", "capacity": "12"})
    with tenant_a.scope():
        room = Room.objects.get()
    duplicate = client.post(org_url(tenant_a, "scheduling:room_create", pk=venue.pk), {"name": "Ada", "capacity": "8"})
    client.post(
        org_url(tenant_a, "scheduling:room_edit", pk=room.pk),
        {"name": "Ada", "capacity": "16", "resources": "Projector"},
    )
    page = client.get(org_url(tenant_a, "scheduling:venues"))

    assert duplicate.status_code == 400
    assert duplicate.context["form"].errors == {"name": ["HQ already has a room named Ada."]}
    [listed] = page.context["page"].object_list
    assert [(r.name, r.capacity, r.resources) for r in listed.rooms.all()] == [("Ada", 16, "Projector")]
    assert listed.seats == 16


def test_room_with_a_negative_capacity_keeps_the_input(client, tenant_a):
    venue = VenueFactory(organization=tenant_a.organization)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "scheduling:room_create", pk=venue.pk), {"name": "Ada", "capacity": "-3"})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["capacity"]
    assert b'value="-3"' in response.content
    with tenant_a.scope():
        assert Room.objects.count() == 0


@pytest.mark.parametrize(("role", "can_manage"), [(Role.PROVIDER_MANAGER, True), (Role.LD_DIRECTOR, False)])
def test_venue_list_offers_maintenance_only_to_writers(client, tenant_a, role, can_manage):
    room = RoomFactory(organization=tenant_a.organization)
    client.force_login(tenant_a.user(role))

    response = client.get(org_url(tenant_a, "scheduling:venues"))

    page = response.content.decode()
    assert (org_url(tenant_a, "scheduling:venue_create") in page) is can_manage
    assert (org_url(tenant_a, "scheduling:room_edit", pk=room.pk) in page) is can_manage


def test_viewer_cannot_post_a_venue(client, tenant_a):
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.post(org_url(tenant_a, "scheduling:venue_create"), {"name": "HQ", "timezone": "UTC"})

    assert response.status_code == 403
    with tenant_a.scope():
        assert Venue.objects.count() == 0


@pytest.mark.parametrize("count", [1, 3])
def test_venue_list_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    for _ in range(count):
        venue = VenueFactory(organization=tenant_a.organization)
        RoomFactory.create_batch(2, organization=tenant_a.organization, venue=venue)
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread, count, page, rooms.
    with django_assert_num_queries(9):
        response = client.get(org_url(tenant_a, "scheduling:venues"))

    assert [len(v.rooms.all()) for v in response.context["page"].object_list] == [2] * count


def test_delivery_tabs_link_to_venues(client, tenant_a):
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(org_url(tenant_a, "scheduling:sessions"))

    assert f'<a href="{org_url(tenant_a, "scheduling:venues")}">Venues & rooms</a>' in response.content.decode()


# --- Compliance requirements ---------------------------------------------------------------------------------


REQUIREMENT = {
    "name": "Anti-money laundering",
    "audience_business_units": " Finance ,Retail,, ",
    "audience_regions": "UK",
    "recertification_interval_days": "365",
}


def test_director_defines_a_requirement_and_is_taken_to_assign_it(client, tenant_a):
    courses = [CourseFactory(organization=tenant_a.organization, code=f"AML-{n}") for n in (1, 2)]
    LearnerFactory(organization=tenant_a.organization, business_unit="Finance", region="UK")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = org_url(tenant_a, "scheduling:requirement_create")

    form = client.get(url).context["form"]
    response = client.post(url, {**REQUIREMENT, "courses": [c.pk for c in courses]})

    assert (
        form.fields["audience_business_units"].help_text
        == "Comma-separated; empty = everyone. On learner records: Finance."
    )
    with tenant_a.scope():
        requirement = ComplianceRequirement.objects.get()
        linked = sorted(RequirementCourse.objects.values_list("course__code", flat=True))
    assert response["Location"] == org_url(tenant_a, "scheduling:compliance_report", pk=requirement.pk)
    assert (requirement.audience_business_units, requirement.recertification_interval_days) == ("Finance, Retail", 365)
    assert linked == ["AML-1", "AML-2"]


def test_requirement_without_a_course_keeps_the_input(client, tenant_a):
    CourseFactory(organization=tenant_a.organization)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(org_url(tenant_a, "scheduling:requirement_create"), REQUIREMENT)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["courses"]
    assert b'value="Anti-money laundering"' in response.content
    with tenant_a.scope():
        assert ComplianceRequirement.objects.count() == 0


def test_requirement_edit_starts_from_the_stored_courses_and_replaces_them(client, tenant_a):
    org = tenant_a.organization
    old, new = CourseFactory(organization=org), CourseFactory(organization=org)
    requirement = ComplianceRequirement.objects.create(organization=org, name="AML")
    RequirementCourse.objects.create(organization=org, requirement=requirement, course=old)
    client.force_login(tenant_a.user(Role.OWNER))
    url = org_url(tenant_a, "scheduling:requirement_edit", pk=requirement.pk)

    initial = client.get(url).context["form"].initial
    response = client.post(url, {**REQUIREMENT, "name": "AML", "courses": [new.pk]})

    assert (initial["name"], initial["courses"]) == ("AML", [old.pk])
    assert response.status_code == 302
    with tenant_a.scope():
        assert list(RequirementCourse.objects.values_list("course", flat=True)) == [new.pk]


def test_provider_manager_cannot_post_a_requirement(client, tenant_a):
    course = CourseFactory(organization=tenant_a.organization)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "scheduling:requirement_create"), {**REQUIREMENT, "courses": [course.pk]})

    assert response.status_code == 403
    with tenant_a.scope():
        assert ComplianceRequirement.objects.count() == 0


def test_assign_to_audience_from_the_overview_creates_the_assignments(client, tenant_a):
    org = tenant_a.organization
    requirement = ComplianceRequirement.objects.create(organization=org, name="AML", audience_regions="UK")
    uk = LearnerFactory(organization=org, region="UK")
    LearnerFactory(organization=org, region="DACH")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    report = org_url(tenant_a, "scheduling:compliance_report", pk=requirement.pk)

    overview = client.get(org_url(tenant_a, "scheduling:compliance")).content.decode()
    response = client.post(report, {"due_on": "2027-03-31"}, follow=True)

    assert f'<form method="post" action="{report}"' in overview
    assert f'<input type="date" name="due_on" id="due-on-{requirement.pk}" required>' in overview
    assert [str(m) for m in response.context["messages"]] == ["Assigned to 1 learner."]
    with tenant_a.scope():
        assert list(ComplianceAssignment.objects.values_list("learner", "due_on")) == [(uk.pk, date(2027, 3, 31))]


@pytest.mark.parametrize(
    ("role", "assign", "edit"),
    [(Role.LD_DIRECTOR, True, True), (Role.PROVIDER_MANAGER, True, False), (Role.VIEWER, False, False)],
)
def test_compliance_overview_offers_actions_by_role(client, tenant_a, role, assign, edit):
    requirement = ComplianceRequirement.objects.create(organization=tenant_a.organization, name="AML")
    client.force_login(tenant_a.user(role))

    content = client.get(org_url(tenant_a, "scheduling:compliance")).content.decode()

    assert ("Assign to audience" in content, "New requirement" in content) == (assign, edit)
    assert (org_url(tenant_a, "scheduling:requirement_edit", pk=requirement.pk) in content) is edit


@pytest.mark.parametrize("count", [1, 3])
def test_compliance_overview_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    for n in range(count):
        ComplianceRequirement.objects.create(organization=tenant_a.organization, name=f"Requirement {n}")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    # Queries: session, user, organization, membership, switcher, unread, requirements with their counts,
    # overdue count (no overdue page to read).
    with django_assert_num_queries(8):
        response = client.get(org_url(tenant_a, "scheduling:compliance"))

    assert len(response.context["requirements"]) == count
