"""Delivery, compliance, contract dates and what waits for the member's side to decide."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum

from engagements.enums import AWAITING_APPROVAL, EngagementStatus, Side
from engagements.models import ChangeRequest, ContractMilestone, Engagement
from engagements.selectors import change_requests_for
from engagements.services import contract_milestones
from mls.models import Membership
from scheduling.enums import SessionStatus
from scheduling.models import Session
from scheduling.selectors import compliance_overview, sessions_for
from slas.enums import ManualStatus, ReliefStatus
from slas.models import ManualMeasurement, ReliefEvent

from ._common import _money

UPCOMING_DAYS = 14
UPCOMING_SESSIONS = 10
DEADLINE_SOON_DAYS = 30
CONTRACT_DATES = 8
NOTICE_DEADLINES = frozenset({ContractMilestone.RENEWAL_NOTICE_DEADLINE, ContractMilestone.TERMINATION_NOTICE_DEADLINE})


@dataclass(frozen=True)
class ComplianceStatus:
    due: int
    on_time: int
    overdue: int

    @property
    def percent_compliant(self) -> Decimal | None:
        return _money(Decimal(100 * self.on_time) / self.due) if self.due else None


def compliance_status(today: date) -> ComplianceStatus:
    """The organization's mandatory training (scheduling.selectors.compliance_overview) added up in one query."""
    row = compliance_overview(today).aggregate(
        due=Sum("due_count"), on_time=Sum("on_time_count"), overdue=Sum("overdue_count")
    )
    return ComplianceStatus(due=row["due"] or 0, on_time=row["on_time"] or 0, overdue=row["overdue"] or 0)


def scheduled_sessions(sessions: QuerySet[Session], start: datetime, end: datetime) -> QuerySet[Session]:
    """Sessions starting in [start, end) that still take place, soonest first: the dashboard's list and the QBR's
    forward plan count the same way."""
    return (
        sessions.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("starts_at", "pk")
    )


def upcoming_sessions(membership: Membership, engagements: QuerySet[Engagement], now: datetime) -> QuerySet[Session]:
    """Sessions of the next two weeks that still take place, soonest first."""
    return scheduled_sessions(
        sessions_for(membership).filter(engagement__in=engagements), now, now + timedelta(days=UPCOMING_DAYS)
    )


@dataclass(frozen=True)
class ContractDate:
    engagement: Engagement
    milestone: str
    on: date
    days_left: int

    @property
    def soon(self) -> bool:
        return self.days_left <= DEADLINE_SOON_DAYS

    @property
    def label(self) -> str:
        return ContractMilestone(self.milestone).label

    @property
    def is_deadline(self) -> bool:
        """A notice deadline missed cannot be made good: the contract renews or runs on."""
        return self.milestone in NOTICE_DEADLINES


def contract_dates(engagements: QuerySet[Engagement], today: date) -> list[ContractDate]:
    """The coming renewal/end dates and notice deadlines of live engagements (engagements.services'
    contract_milestones), soonest first. One query."""
    live = engagements.exclude(status__in=[EngagementStatus.DRAFT, EngagementStatus.ENDED])
    dates = [
        ContractDate(engagement, milestone, on, (on - today).days)
        for engagement in live
        for milestone, on in contract_milestones(engagement)
        if on >= today
    ]
    return sorted(dates, key=lambda item: (item.on, item.engagement.name))


def member_side(membership: Membership) -> str:
    """A provider manager acts for the provider; every other member reads the client's side."""
    return Side.PROVIDER if membership.is_provider_side else Side.CLIENT


def pending_change_requests(membership: Membership, engagements: QuerySet[Engagement]) -> QuerySet[ChangeRequest]:
    """Submitted change requests still waiting for the member's side to approve or reject, by deadline."""
    side = member_side(membership)
    waiting = [status for status, sides in AWAITING_APPROVAL.items() if side in sides]
    return (
        change_requests_for(membership)
        .filter(sow__engagement__in=engagements, status__in=waiting)
        .order_by("respond_by", "pk")
    )


def pending_manual_values(membership: Membership, engagements: QuerySet[Engagement]) -> QuerySet[ManualMeasurement]:
    """Manual SLA values the other side submitted, for the member's side to verify or dispute."""
    return (
        ManualMeasurement.objects.filter(engagement__in=engagements, status=ManualStatus.SUBMITTED)
        .exclude(submitted_side=member_side(membership))
        .select_related("engagement")
        .order_by("submitted_at", "pk")
    )


def pending_relief(engagements: QuerySet[Engagement]) -> QuerySet[ReliefEvent]:
    """Relief requests awaiting the client's decision (a provider manager sees those of its engagements)."""
    return (
        ReliefEvent.objects.filter(engagement__in=engagements, status=ReliefStatus.REQUESTED)
        .select_related("engagement")
        .order_by("requested_at", "pk")
    )
