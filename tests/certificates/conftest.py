"""A delivered classroom session in Berlin with one learner's completion, in tenant A."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engagements.models import Engagement
from scheduling.enums import Modality, SessionStatus
from scheduling.models import Completion, Course, Learner, Session
from tests.conftest import Tenant
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory, RoomFactory, VenueFactory

# 23:30 UTC on 2 March is 00:30 on 3 March in Berlin: the certificate's day is the learner's.
COMPLETED_AT = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
ISSUED_AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


@dataclass
class Certified:
    tenant: Tenant
    engagement: Engagement
    course: Course
    session: Session
    learner: Learner
    completion: Completion


def completion_of(tenant: Tenant, *, learner_name: str = "Grace Hopper", language: str = "en-gb") -> Certified:
    """A learner's completion of a delivered session at a Berlin venue, under an engagement in London time."""
    organization = tenant.organization
    engagement = EngagementFactory(organization=organization, provider=tenant.provider)
    with tenant.scope():
        course = CourseFactory(
            organization=organization, code="GDPR-2", title="Data protection essentials", duration_hours=Decimal("3.5")
        )
        venue = VenueFactory(organization=organization, name="Berlin office", timezone="Europe/Berlin")
        room = RoomFactory(organization=organization, venue=venue)
        session = Session.objects.create(
            organization=organization,
            engagement=engagement,
            course=course,
            modality=Modality.ILT,
            room=room,
            capacity=10,
            status=SessionStatus.DELIVERED,
            requested_at=datetime(2026, 2, 1, tzinfo=UTC),
            confirmed_at=datetime(2026, 2, 2, tzinfo=UTC),
            starts_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
            ends_at=datetime(2026, 3, 2, 20, 30, tzinfo=UTC),
        )
        learner = LearnerFactory(
            organization=organization, name=learner_name, email="grace@acme.example", language=language
        )
        completion = Completion.objects.create(
            organization=organization, learner=learner, course=course, session=session, completed_at=COMPLETED_AT
        )
    return Certified(tenant, engagement, course, session, learner, completion)


@pytest.fixture
def certified(tenant_a) -> Certified:
    return completion_of(tenant_a)


@pytest.fixture
def certified_de(tenant_a) -> Certified:
    return completion_of(tenant_a, learner_name="Jürgen Weiß", language="de")
