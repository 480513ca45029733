"""Reference data of delivery: venues, rooms and compliance requirements — who may write them, and the rules."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from mls.enums import Role
from mls.models import AuditEvent
from scheduling import services
from scheduling.models import ComplianceRequirement, Venue
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, RoomFactory, VenueFactory

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def acme(tenant_a):
    with tenant_a.scope():
        yield tenant_a


def audit(action):
    return list(AuditEvent.objects.filter(action=action).values_list("object_id", "before", "after"))


# --- Venues and rooms ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.PROVIDER_MANAGER])
def test_venue_keepers_add_a_venue_and_it_is_audited(acme, role):
    venue = services.add_venue(
        organization=acme.organization,
        membership=acme.members[role],
        name="HQ",
        address="1 High Street",
        timezone="Europe/London",
    )

    assert list(Venue.objects.values_list("name", "address", "timezone")) == [("HQ", "1 High Street", "Europe/London")]
    assert audit("venue.added") == [
        (str(venue.pk), None, {"name": "HQ", "address": "1 High Street", "timezone": "Europe/London"})
    ]


@pytest.mark.parametrize("role", [Role.LD_DIRECTOR, Role.PROCUREMENT, Role.VIEWER])
def test_other_roles_cannot_add_a_venue(acme, role):
    with pytest.raises(ValidationError, match="maintain venues and rooms"):
        services.add_venue(
            organization=acme.organization, membership=acme.members[role], name="HQ", timezone="Europe/London"
        )

    assert Venue.objects.count() == 0


def test_a_second_venue_with_the_same_name_is_refused_on_the_name(acme):
    VenueFactory(organization=acme.organization, name="HQ")

    with pytest.raises(ValidationError) as error:
        services.add_venue(
            organization=acme.organization, membership=acme.members[Role.OWNER], name="HQ", timezone="UTC"
        )

    assert error.value.message_dict == {"name": ["A venue named HQ already exists."]}


def test_venue_update_audits_before_and_after(acme):
    venue = VenueFactory(organization=acme.organization, name="HQ", timezone="Europe/London")

    services.update_venue(
        venue=venue, membership=acme.members[Role.OWNER], name="Head office", address="", timezone="Europe/Berlin"
    )

    assert audit("venue.updated") == [
        (
            str(venue.pk),
            {"name": "HQ", "address": "", "timezone": "Europe/London"},
            {"name": "Head office", "address": "", "timezone": "Europe/Berlin"},
        )
    ]


def test_venue_update_refuses_an_unknown_timezone(acme):
    venue = VenueFactory(organization=acme.organization)

    with pytest.raises(ValidationError) as error:
        services.update_venue(
            venue=venue, membership=acme.members[Role.OWNER], name=venue.name, timezone="Mars/Olympus"
        )

    assert list(error.value.message_dict) == ["timezone"]


def test_room_names_are_unique_within_a_venue_only(acme):
    owner = acme.members[Role.OWNER]
    hq, annex = VenueFactory(organization=acme.organization), VenueFactory(organization=acme.organization)
    services.add_room(venue=hq, membership=owner, name="Ada", capacity=12)

    services.add_room(venue=annex, membership=owner, name="Ada", capacity=8)
    with pytest.raises(ValidationError) as error:
        services.add_room(venue=hq, membership=owner, name="Ada", capacity=20)

    assert error.value.message_dict == {"name": [f"{hq.name} already has a room named Ada."]}
    assert sorted(hq.rooms.values_list("capacity", flat=True)) == [12]


def _confirmed_session(tenant, room, starts_at, capacity):
    pm = tenant.members[Role.PROVIDER_MANAGER]
    engagement = EngagementFactory(organization=tenant.organization, provider=tenant.provider)
    session = services.request_session(
        engagement=engagement,
        membership=pm,
        course=CourseFactory(organization=tenant.organization),
        modality="ilt",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        capacity=capacity,
        room=room,
    )
    return services.confirm_session(session=session, membership=pm)


def test_room_capacity_cannot_drop_below_a_confirmed_session_to_come(acme, time_machine):
    time_machine.move_to(NOW, tick=False)
    room = RoomFactory(organization=acme.organization, capacity=20)
    _confirmed_session(acme, room, NOW + timedelta(days=7), capacity=16)

    with pytest.raises(ValidationError) as error:
        services.update_room(room=room, membership=acme.members[Role.OWNER], name=room.name, capacity=12)
    services.update_room(room=room, membership=acme.members[Role.OWNER], name=room.name, capacity=16)

    message = "1 confirmed session(s) to come in this room seat more than 12: lower their capacity or move them first."
    assert error.value.message_dict == {"capacity": [message]}
    room.refresh_from_db()
    assert room.capacity == 16


def test_room_capacity_may_drop_below_past_sessions_and_the_change_is_audited(acme, time_machine):
    time_machine.move_to(NOW, tick=False)
    room = RoomFactory(organization=acme.organization, name="Big", capacity=20)
    _confirmed_session(acme, room, NOW - timedelta(days=7), capacity=16)

    services.update_room(room=room, membership=acme.members[Role.PROVIDER_MANAGER], name="Small", capacity=8)

    room.refresh_from_db()
    assert (room.name, room.capacity) == ("Small", 8)
    assert audit("room.updated") == [
        (
            str(room.pk),
            {"venue": room.venue_id, "name": "Big", "capacity": 20, "resources": ""},
            {"venue": room.venue_id, "name": "Small", "capacity": 8, "resources": ""},
        )
    ]


# --- Compliance requirements ---------------------------------------------------------------------------------


@pytest.fixture
def courses(acme):
    return [CourseFactory(organization=acme.organization, code=code) for code in ("AML-1", "AML-2", "AML-3")]


def test_director_defines_a_requirement_with_its_courses_and_it_is_audited(acme, courses):
    requirement = services.define_requirement(
        organization=acme.organization,
        membership=acme.members[Role.LD_DIRECTOR],
        courses=courses[:2],
        name="Anti-money laundering",
        audience_business_units="Finance, Retail",
        audience_regions="",
        recertification_interval_days=365,
    )

    assert sorted(requirement.requirement_courses.values_list("course__code", flat=True)) == ["AML-1", "AML-2"]
    assert audit("compliance.requirement_defined") == [
        (
            str(requirement.pk),
            None,
            {
                "name": "Anti-money laundering",
                "audience_business_units": "Finance, Retail",
                "audience_regions": "",
                "recertification_interval_days": 365,
                "courses": sorted([courses[0].pk, courses[1].pk]),
            },
        )
    ]


@pytest.mark.parametrize("role", [Role.PROVIDER_MANAGER, Role.PROCUREMENT, Role.VIEWER])
def test_only_the_client_side_defines_mandatory_training(acme, courses, role):
    with pytest.raises(ValidationError, match="owners and L&D directors"):
        services.define_requirement(
            organization=acme.organization, membership=acme.members[role], courses=courses, name="AML"
        )

    assert ComplianceRequirement.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [({"courses": []}, "courses"), ({"name": "Data protection"}, "name")],
    ids=["no-course", "duplicate-name"],
)
def test_requirement_needs_a_course_and_a_unique_name(acme, courses, change, field):
    ComplianceRequirement.objects.create(organization=acme.organization, name="Data protection")
    data = {"courses": courses, "name": "AML", **change}

    with pytest.raises(ValidationError) as error:
        services.define_requirement(organization=acme.organization, membership=acme.members[Role.OWNER], **data)

    assert list(error.value.message_dict) == [field]
    assert ComplianceRequirement.objects.count() == 1


def test_requirement_update_replaces_its_courses_and_audits_both_states(acme, courses):
    director = acme.members[Role.LD_DIRECTOR]
    requirement = services.define_requirement(
        organization=acme.organization, membership=director, courses=courses[:2], name="AML"
    )

    services.update_requirement(
        requirement=requirement, membership=director, courses=courses[1:], name="AML", audience_regions="UK"
    )

    assert sorted(requirement.requirement_courses.values_list("course__code", flat=True)) == ["AML-2", "AML-3"]
    [(_, before, after)] = audit("compliance.requirement_updated")
    assert (before["courses"], before["audience_regions"]) == (sorted([courses[0].pk, courses[1].pk]), "")
    assert (after["courses"], after["audience_regions"]) == (sorted([courses[1].pk, courses[2].pk]), "UK")
