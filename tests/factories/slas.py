"""SLA fixtures: an engagement with a signed retainer SoW and an SLA schedule, and delivery items with exact times.

Items are created straight through the ORM (not the delivery services) so a test can place every timestamp
where its hand computation needs it.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from engagements import services as contract_services
from engagements.enums import Side
from engagements.models import Engagement
from mls.enums import Role
from scheduling.enums import Modality, SessionStatus, TicketCategory
from scheduling.models import Course, Session, SupportTicket
from slas import services
from slas.models import SlaSchedule
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
) -> SupportTicket:
    return SupportTicket.objects.create(
        organization=engagement.organization,
        engagement=engagement,
        category=category,
        subject="Help",
        opened_at=opened_at,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
    )
