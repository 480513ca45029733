"""Fixtures of the portal tests: the clock at NOW and the two organizations of tests/portal/world.py."""

from datetime import datetime

import pytest

from scheduling.models import Room
from tests.factories.scheduling import RoomFactory
from tests.portal.world import NOW, PortalWorld, build_world


@pytest.fixture
def now(time_machine) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def world(db, now) -> PortalWorld:
    return build_world(now)


@pytest.fixture
def room(world: PortalWorld) -> Room:
    with world.tenant.scope():
        return RoomFactory(organization=world.tenant.organization, venue__timezone="Europe/Berlin")
