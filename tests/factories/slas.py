"""SLA fixtures: an engagement with a signed retainer SoW and an SLA schedule, and delivery items with exact times.

Items are created straight through the ORM (not the delivery services) so a test can place every timestamp
where its hand computation needs it.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

from engagements import services as contract_services
from engagements.enums import ChangeRequestStatus, Side
from engagements.models import ChangeRequest, Engagement
from mls.enums import Role
from mls.tenancy import organization_scope
from scheduling.enums import EnrollmentStatus, Modality, SessionStatus, TicketCategory
from scheduling.models import (
    AssessmentAttempt,
    Attendance,
    Completion,
    ComplianceAssignment,
    ComplianceRequirement,
    Course,
    Enrollment,
    Feedback,
    Learner,
    Outage,
    RequirementCourse,
    Session,
    SupportTicket,
)
from slas import drilldown, services
from slas.enums import ReliefKind
from slas.models import Measurement, ReliefEvent, SlaSchedule
from slas.periods import Period
from tests.factories.engagements import EngagementFactory, SowFactory, draft_retainer_version

DEFAULT_TARGETS: dict[str, dict] = {
    "support_first_response": {"target": Decimal("95"), "allocation_percent": Decimal("40")},
    "session_delivery_rate": {"target": Decimal("98"), "allocation_percent": Decimal("35")},
    "mandatory_training_on_time": {"target": Decimal("90"), "allocation_percent": Decimal("30")},
    "instructor_rating": {"target": Decimal("4.2"), "allocation_percent": Decimal("25")},
}


def sla_engagement(
    tenant: object,
    *,
    targets: dict[str, dict] | None = None,
    monthly_fee: str = "48250.00",
    active_from: date = date(2026, 1, 1),
    timezone: str = "Europe/London",
    **schedule_fields: object,
) -> tuple[Engagement, SlaSchedule]:
    """An engagement of `tenant` (its provider) with a signed retainer of `monthly_fee` and an SLA schedule (12 %
    at risk unless given) whose targets are `targets` (metric -> target fields) in force from `active_from`."""
    engagement = EngagementFactory(organization=tenant.organization, provider=tenant.provider, timezone=timezone)
    sow = SowFactory(engagement=engagement)
    owner = tenant.user(Role.OWNER)
    with tenant.scope():
        contract_services.sign_version(version=draft_retainer_version(sow, monthly_fee), actor=owner)
        schedule = services.create_schedule(
            engagement=engagement, actor=owner, **{"at_risk_percent": Decimal("12"), **schedule_fields}
        )
        for metric, fields in (DEFAULT_TARGETS if targets is None else targets).items():
            services.save_target(
                schedule=schedule,
                actor=owner,
                metric=metric,
                **{"active_from": active_from, "min_sample": 5, **fields},
            )
    return engagement, schedule


def course(engagement: Engagement, **fields: object) -> Course:
    return Course.objects.create(
        organization=engagement.organization,
        code=fields.pop("code", f"C-{Course.objects.count() + 1}"),
        title=fields.pop("title", "Course"),
        duration_hours=Decimal("3"),
        **fields,
    )


def session(
    engagement: Engagement,
    *,
    starts_at: datetime,
    requested_at: datetime | None = None,
    confirmed_at: datetime | None = None,
    status: str = SessionStatus.CONFIRMED,
    hours: int = 3,
    capacity: int = 10,
    course_: Course | None = None,
    **fields: object,
) -> Session:
    """A session; confirmed (at request time unless given) and delivered sessions get a confirmed_at."""
    requested_at = requested_at or starts_at - timedelta(days=14)
    if confirmed_at is None and status in (SessionStatus.CONFIRMED, SessionStatus.DELIVERED):
        confirmed_at = requested_at
    if status == SessionStatus.CANCELLED:
        fields.setdefault("cancelled_at", requested_at + timedelta(days=1))
        fields.setdefault("cancelled_by", Side.PROVIDER)
        fields.setdefault("cancellation_reason", "Instructor ill")
    return Session.objects.create(
        organization=engagement.organization,
        engagement=engagement,
        course=course_ or course(engagement),
        modality=Modality.VILT,
        capacity=capacity,
        status=status,
        requested_at=requested_at,
        confirmed_at=confirmed_at,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        **fields,
    )


def ticket(
    engagement: Engagement,
    opened_at: datetime,
    first_response_at: datetime | None = None,
    *,
    category: str = TicketCategory.ENROLLMENT,
    resolved_at: datetime | None = None,
    subject: str = "Help",
) -> SupportTicket:
    return SupportTicket.objects.create(
        organization=engagement.organization,
        engagement=engagement,
        category=category,
        subject=subject,
        opened_at=opened_at,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
    )


# --- Further delivery items for the metric fixtures (tests/slas/test_metrics*.py) ------------------------------


def targets(*metrics: str, min_sample: int = 1, **fields: object) -> dict[str, dict]:
    """Target fields for `sla_engagement(targets=...)`: each metric at target 95 (allocation 10 %) unless `fields`
    say otherwise; `min_sample` 1 so a fixture of a handful of items is measured."""
    return {
        metric: {"target": Decimal("95"), "allocation_percent": Decimal("10"), "min_sample": min_sample, **fields}
        for metric in metrics
    }


_sequence = count(1)


def learner(engagement: Engagement, **fields: object) -> Learner:
    n = next(_sequence)
    return Learner.objects.create(
        organization=engagement.organization, name=f"Learner {n}", email=f"metric-learner{n}@acme.example", **fields
    )


def enrollment(
    session_: Session,
    requested_at: datetime,
    processed_at: datetime | None = None,
    *,
    status: str = EnrollmentStatus.ENROLLED,
    learner_: Learner | None = None,
) -> Enrollment:
    return Enrollment.objects.create(
        organization=session_.organization,
        session=session_,
        learner=learner_ or learner(session_.engagement),
        status=status,
        requested_at=requested_at,
        processed_at=processed_at,
    )


def attendance(enrollment_: Enrollment, *, present: bool = True) -> Attendance:
    return Attendance.objects.create(organization=enrollment_.organization, enrollment=enrollment_, present=present)


def completion(
    session_: Session, completed_at: datetime, recorded_at: datetime, *, learner_: Learner | None = None
) -> Completion:
    return Completion.objects.create(
        organization=session_.organization,
        learner=learner_ or learner(session_.engagement),
        course=session_.course,
        session=session_,
        completed_at=completed_at,
        recorded_at=recorded_at,
    )


def attempt(
    course_: Course,
    attempted_at: datetime,
    *,
    passed: bool,
    attempt_number: int = 1,
    learner_: Learner | None = None,
    engagement: Engagement | None = None,
) -> AssessmentAttempt:
    """An assessment attempt; pass `learner_` (or `engagement`, to make a new learner)."""
    return AssessmentAttempt.objects.create(
        organization=course_.organization,
        learner=learner_ or learner(engagement),
        course=course_,
        attempt_number=attempt_number,
        attempted_at=attempted_at,
        score=Decimal("80") if passed else Decimal("50"),
        pass_mark=Decimal("70"),
        passed=passed,
    )


def feedback(session_: Session, instructor_score: int, overall_score: int, **fields: object) -> Feedback:
    """Feedback submitted when the session ends unless `submitted_at` says otherwise."""
    return Feedback.objects.create(
        organization=session_.organization,
        session=session_,
        instructor_score=instructor_score,
        overall_score=overall_score,
        **{"submitted_at": session_.ends_at, **fields},
    )


def requirement(course_: Course, name: str = "Data protection") -> ComplianceRequirement:
    """A mandatory-training requirement met by `course_`."""
    required = ComplianceRequirement.objects.create(organization=course_.organization, name=name)
    RequirementCourse.objects.create(organization=course_.organization, requirement=required, course=course_)
    return required


def assignment(
    requirement_: ComplianceRequirement, due_on: date, completed_at: datetime | None = None, *, engagement: Engagement
) -> ComplianceAssignment:
    return ComplianceAssignment.objects.create(
        organization=requirement_.organization,
        requirement=requirement_,
        learner=learner(engagement),
        due_on=due_on,
        completed_at=completed_at,
    )


def outage(engagement: Engagement, starts_at: datetime, ends_at: datetime, *, planned: bool = False) -> Outage:
    return Outage.objects.create(
        organization=engagement.organization,
        engagement=engagement,
        starts_at=starts_at,
        ends_at=ends_at,
        planned=planned,
        description="Maintenance" if planned else "LMS down",
    )


def change_request(
    engagement: Engagement, tenant: object, submitted_at: datetime, responded_at: datetime | None = None
) -> ChangeRequest:
    """The provider's change request, submitted at `submitted_at` with the MSA deadline the submit service sets
    (`engagement.calendar.deadline_after`), answered by the client at `responded_at` (None: still open)."""
    proposed = contract_services.propose_change_request(
        sow=engagement.sows.get(),
        membership=tenant.members[Role.PROVIDER_MANAGER],
        title="More support hours",
        description="Extend the support desk.",
    )
    ChangeRequest.objects.filter(pk=proposed.pk).update(
        status=ChangeRequestStatus.APPROVED_BY_CLIENT if responded_at else ChangeRequestStatus.SUBMITTED,
        submitted_at=submitted_at,
        respond_by=engagement.calendar.deadline_after(submitted_at, engagement.cr_response_business_days),
        responded_at=responded_at,
        client_approved_at=responded_at,
    )
    proposed.refresh_from_db()
    return proposed


def relief(
    engagement: Engagement,
    tenant: object,
    starts_on: date,
    ends_on: date,
    metrics: tuple[str, ...] = (),
    *,
    approve: bool = True,
) -> ReliefEvent:
    """Client-caused relief requested by the L&D director and, unless `approve` is False, approved by them."""
    director = tenant.members[Role.LD_DIRECTOR]
    requested = services.request_relief(
        engagement=engagement,
        membership=director,
        kind=ReliefKind.CLIENT_CAUSED,
        starts_on=starts_on,
        ends_on=ends_on,
        metrics=list(metrics),
        reason="Client closed its offices",
    )
    return services.decide_relief(relief=requested, membership=director, approve=True) if approve else requested


def measured(engagement: Engagement, month: str, now: datetime) -> dict[str, Measurement]:
    """Compute the month (`YYYY-MM`, engagement timezone) as of `now`; its measurements by metric."""
    period = services.compute_period(engagement=engagement, period=Period.parse(month, engagement.timezone), now=now)
    return {m.metric: m for m in Measurement.objects.filter(period=period)}


def counted_items(measurement: Measurement) -> dict:
    """The measurement's snapshot figures with every counted item's id by outcome: a final measurement's stored
    snapshot, an open one's items read live by the metric's definition (slas.drilldown.item_ids)."""
    with organization_scope(measurement.organization_id):
        return {**measurement.inputs, **drilldown.item_ids(measurement)}


def finalized(engagement: Engagement, month: str, now: datetime) -> dict[str, Measurement]:
    """Finalize the month (`now` past its grace days); its final measurements by metric."""
    period = services.finalize_period(engagement=engagement, period=Period.parse(month, engagement.timezone), now=now)
    return {m.metric: m for m in Measurement.objects.filter(period=period)}
