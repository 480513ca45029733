"""A delivered session of 1 June 2026, 09:00–12:00 UTC, and its four learners, the clock at 2 June 09:00 UTC."""

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count

import pytest

from engagements.models import Engagement
from mls.enums import Language
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.models import Enrollment, Learner, Session
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory
from tests.factories.slas import attendance, enrollment, session

STARTS = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
_more = count(2)


@dataclass
class Delivered:
    engagement: Engagement
    session: Session
    ann: Enrollment  # present
    bob: Enrollment  # absent (no-show)
    cy: Enrollment  # present
    dee: Enrollment  # present; German, in Berlin


def delivered_session(tenant: object, *, starts_at: datetime = STARTS, title: str = "Coaching skills") -> Delivered:
    """A delivered session of `tenant` whose register is taken: Ann, Cy and Dee present, Bob absent."""
    with tenant.scope():
        org = tenant.organization
        engagement = EngagementFactory(organization=org, provider=tenant.provider)
        course = CourseFactory(organization=org, title=title)
        delivered = session(engagement, starts_at=starts_at, status=SessionStatus.DELIVERED, course_=course)
        seats = {}
        for name, present, fields in (
            ("ann", True, {}),
            ("bob", False, {}),
            ("cy", True, {}),
            ("dee", True, {"language": Language.DE, "timezone": "Europe/Berlin"}),
        ):
            # The first session's learners are ann@<slug>.example and so on; a second session's get other addresses.
            email = f"{name}@{org.slug}.example"
            if Learner.objects.filter(email=email).exists():
                email = f"{name}.{next(_more)}@{org.slug}.example"
            learner = LearnerFactory(organization=org, name=name.title(), email=email, **fields)
            status = EnrollmentStatus.ATTENDED if present else EnrollmentStatus.NO_SHOW
            seats[name] = enrollment(delivered, starts_at, learner_=learner, status=status)
            attendance(seats[name], present=present)
        return Delivered(engagement, delivered, **seats)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def acme(tenant_a, clock) -> Delivered:
    return delivered_session(tenant_a)
