"""A month of delivery data that meets or breaches each of the four default SLA targets on purpose.

Per month: 5 support tickets (answered after 1 h, or after 10 h against H = 8), 5 sessions plus one feedback
session (delivered, or cancelled by the provider), 5 feedback scores (5, or 3 against 4.2) and 5 mandatory
training assignments due on the 20th (completed on the 19th, or never). Times are UTC, mid-month, far from
any DST edge.
"""

from datetime import UTC, date, datetime, timedelta

from engagements.models import Engagement
from scheduling.enums import SessionStatus
from scheduling.models import (
    ComplianceAssignment,
    ComplianceRequirement,
    Course,
    Feedback,
    Learner,
    RequirementCourse,
)
from tests.factories.slas import course, session, ticket

FIRST_RESPONSE_MET, FIRST_RESPONSE_LATE = timedelta(hours=1), timedelta(hours=10)


def deliver_month(
    engagement: Engagement, month: date, *, breached: frozenset[str] = frozenset(), items: int = 5
) -> None:
    """`items` of each kind (5 by default): failing for the metrics named in `breached`, met otherwise."""
    organization = engagement.organization

    def at(day: int, hour: int = 9) -> datetime:
        return datetime(month.year, month.month, day, hour, tzinfo=UTC)

    for n in range(items):
        opened = at(2 + n % 20) + timedelta(minutes=n)
        late = "support_first_response" in breached
        ticket(engagement, opened, opened + (FIRST_RESPONSE_LATE if late else FIRST_RESPONSE_MET))

    delivered_course = Course.objects.filter(code=f"FB-{engagement.pk}").first() or course(
        engagement, code=f"FB-{engagement.pk}"
    )
    for n in range(items):
        if "session_delivery_rate" in breached:
            session(engagement, starts_at=at(3 + n % 20), status=SessionStatus.CANCELLED)
        else:
            session(engagement, starts_at=at(3 + n % 20), status=SessionStatus.DELIVERED, course_=delivered_course)
    feedback_session = session(engagement, starts_at=at(10), status=SessionStatus.DELIVERED, course_=delivered_course)
    score = 3 if "instructor_rating" in breached else 5
    Feedback.objects.bulk_create(
        Feedback(
            organization=organization,
            session=feedback_session,
            instructor_score=score,
            overall_score=score,
            submitted_at=at(11),
        )
        for _ in range(items)
    )

    batch = Learner.objects.count()
    requirement, _ = ComplianceRequirement.objects.get_or_create(organization=organization, name="Data protection")
    RequirementCourse.objects.get_or_create(organization=organization, requirement=requirement, course=delivered_course)
    learners = Learner.objects.bulk_create(
        Learner(
            organization=organization, name=f"Learner {month:%m}-{n}", email=f"l{month:%Y%m}-{n}-{batch}@acme.example"
        )
        for n in range(items)
    )
    done = None if "mandatory_training_on_time" in breached else at(19)
    ComplianceAssignment.objects.bulk_create(
        ComplianceAssignment(
            organization=organization,
            requirement=requirement,
            learner=learner,
            due_on=date(month.year, month.month, 20),
            completed_at=done,
        )
        for learner in learners
    )
