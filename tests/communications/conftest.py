"""A Berlin classroom session of tenant A's engagement, acted on by its provider manager, with the clock frozen a
week and more before it."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from mls.enums import Role
from scheduling import services
from scheduling.enums import Modality
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory, RoomFactory

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
STARTS = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Berlin (CET), 05:00 in New York (EDT since 8 March)


class Delivery:
    def __init__(self, tenant) -> None:
        org = tenant.organization
        self.tenant = tenant
        self.pm = tenant.members[Role.PROVIDER_MANAGER]
        self.engagement = EngagementFactory(organization=org, provider=tenant.provider)
        self.course = CourseFactory(organization=org, title="Leading hybrid teams", code="LHT-101")
        self.room = RoomFactory(
            organization=org,
            name="Room 2",
            venue__name="Berlin centre",
            venue__address="Unter den Linden 1\n10117 Berlin",
            venue__timezone="Europe/Berlin",
        )

    def session(self, starts_at=STARTS, capacity=10, modality=Modality.ILT):
        session = services.request_session(
            engagement=self.engagement,
            membership=self.pm,
            course=self.course,
            modality=modality,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            capacity=capacity,
            room=self.room if modality != Modality.VILT else None,
            join_url="https://meet.example/lht" if modality != Modality.ILT else "",
        )
        return services.confirm_session(session=session, membership=self.pm)

    def learner(self, **fields):
        return LearnerFactory(organization=self.tenant.organization, **fields)

    def enroll(self, session, learner):
        return services.enroll(session=session, learner=learner, membership=self.pm)


@pytest.fixture
def delivery(tenant_a, time_machine):
    time_machine.move_to(NOW, tick=False)
    with tenant_a.scope():
        yield Delivery(tenant_a)


def calendar_of(message) -> tuple[icalendar.Calendar, str]:
    """The .ics an email carries, parsed, and its Content-Type header."""
    (part,) = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True)), part["Content-Type"]


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event
