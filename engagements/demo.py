"""The demo tenant's contracts (used by seed_demo): a managed-services engagement with Northwind Learning, a smaller
one with Kestrel Skills, their governance cadence and a dispute. Dates are relative to the engagements' start, the
first month of the demo's year."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from mls.models import Membership, Organization, Provider
from slas.periods import first_of_next_month

from . import services
from .enums import (
    EngagementModel,
    EngagementStatus,
    LineBasis,
    MeetingKind,
    PricingModel,
    Responsibility,
    StandardService,
    VendorModel,
)
from .models import Dispute, Engagement, GovernanceMeeting, IndexSeries

ENGAGEMENT_NAME = "Acme learning operations"
SECOND_ENGAGEMENT_NAME = "Acme sales academy"
LONDON = ZoneInfo("Europe/London")
# UK CPI index (2015 = 100), rounded, from two months before the start: enough for the first anniversary adjustment.
CPI = ["138.4", "138.9", "138.5", "139.2", "139.6", "140.8", "141.2", "141.5", "141.8", "142.2", "142.3", "142.9",
       "143.1", "143.6"]  # fmt: skip
SCOPE = [
    (StandardService.NEEDS_ANALYSIS, Responsibility.INCLUDED, "Annual training needs analysis per business unit"),
    (StandardService.CONTENT_DEVELOPMENT, Responsibility.CLIENT_RETAINED, "Acme's academy team builds content"),
    (StandardService.SCHEDULING, Responsibility.INCLUDED, "ILT and VILT, UK and Germany"),
    (StandardService.ENROLLMENT_MANAGEMENT, Responsibility.INCLUDED, ""),
    (StandardService.VENDOR_SOURCING, Responsibility.INCLUDED, "Via Northwind's supplier panel"),
    (StandardService.PLATFORM_ADMINISTRATION, Responsibility.EXCLUDED, "Acme IT runs the LMS"),
    (StandardService.COMPLIANCE_TRACKING, Responsibility.INCLUDED, ""),
    (StandardService.REPORTING_ANALYTICS, Responsibility.INCLUDED, "Raw data in MLS; client has direct access"),
    (StandardService.LEARNER_SUPPORT, Responsibility.INCLUDED, "08:00–18:00 UK time"),
]


def _month(start: date, offset: int) -> date:
    """The first day of the month `offset` months after `start`'s (negative: before)."""
    months = start.year * 12 + start.month - 1 + offset
    return date(months // 12, months % 12 + 1, 1)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def seed_demo_contract(
    organization: Organization, provider: Provider, memberships: dict[str, Membership], start: date
) -> Engagement:
    """Idempotent: an existing demo engagement is returned unchanged."""
    existing = Engagement.objects.filter(name=ENGAGEMENT_NAME).first()
    if existing is not None:
        return existing
    procurement = memberships["procurement@demo.test"]
    actor = procurement.user
    cpi, _ = IndexSeries.objects.get_or_create(
        organization=organization, name="UK CPI", defaults={"description": "ONS consumer price index, 2015 = 100"}
    )
    for offset, value in enumerate(CPI, start=-2):
        services.record_index_value(series=cpi, actor=actor, month=_month(start, offset), value=Decimal(value))
    engagement = services.create_engagement(
        organization=organization,
        actor=actor,
        provider=provider,
        name=ENGAGEMENT_NAME,
        engagement_model=EngagementModel.MANAGED_SERVICES,
        vendor_model=VendorModel.MASTER_SERVICE_PROVIDER,
        status=EngagementStatus.ACTIVE,
        currency="GBP",
        timezone="Europe/London",
        holiday_country="GB",
        holiday_subdivision="ENG",
        start_date=start,
        end_date=_month(start, 36) - timedelta(days=1),
        annual_value=Decimal("579000.00"),
        annual_budget=Decimal("600000.00"),
        liability_cap_multiple=Decimal("1.50"),
        renewal_notice_days=90,
    )
    sow = services.create_sow(
        engagement=engagement,
        actor=actor,
        reference="SOW-001",
        title="Learning operations and delivery",
        effective_from=start,
        pricing_model=PricingModel.HYBRID,
    )
    version = sow.versions.get()
    services.update_draft_version(
        version=version, actor=actor, forecast_learners=80, index_series=cpi, index_cap_percent=Decimal("3.00")
    )
    for service, responsibility, notes in SCOPE:
        services.set_scope_item(
            version=version, actor=actor, service=service, responsibility=responsibility, notes=notes
        )
    services.add_service_line(
        version=version,
        actor=actor,
        name="Learning operations retainer",
        basis=LineBasis.FIXED,
        amount=Decimal("36000.00"),
    )
    services.add_service_line(
        version=version,
        actor=actor,
        name="Delivery above included learners",
        basis=LineBasis.PER_LEARNER,
        included_learners=60,  # a month: most months bill some learners above the retainer
        bands=[(200, Decimal("28.00")), (500, Decimal("24.00")), (None, Decimal("21.50"))],
    )
    services.sign_version(
        version=version, actor=memberships["director@demo.test"].user, now=_at(start - timedelta(days=10), 11)
    )
    change_request = services.propose_change_request(
        sow=sow,
        membership=memberships["provider@demo.test"],
        title="Extend learner support to 20:00",
        description="Learners in the Germany region ask for evening support. Adds two hours a day.",
    )
    services.set_scope_item(
        version=change_request.proposed_version,
        actor=memberships["provider@demo.test"].user,
        service=StandardService.LEARNER_SUPPORT,
        responsibility=Responsibility.INCLUDED,
        notes="08:00–20:00 UK time",
    )
    services.add_service_line(
        version=change_request.proposed_version,
        actor=memberships["provider@demo.test"].user,
        name="Extended learner support",
        basis=LineBasis.FIXED,
        amount=Decimal("1850.00"),
    )
    services.submit_change_request(change_request=change_request, membership=memberships["provider@demo.test"])
    return engagement


def seed_demo_second_contract(
    organization: Organization, provider: Provider, memberships: dict[str, Membership], start: date
) -> Engagement:
    """A smaller, virtual-only engagement with a second provider: its manager sees this engagement and no other.
    Idempotent: an existing one is returned unchanged."""
    existing = Engagement.objects.filter(name=SECOND_ENGAGEMENT_NAME).first()
    if existing is not None:
        return existing
    actor = memberships["procurement@demo.test"].user
    engagement = services.create_engagement(
        organization=organization, actor=actor, provider=provider, name=SECOND_ENGAGEMENT_NAME,
        engagement_model=EngagementModel.PROJECT_BASED, vendor_model=VendorModel.NEUTRAL_VENDOR,
        status=EngagementStatus.ACTIVE, currency="GBP", timezone="Europe/London", holiday_country="GB",
        holiday_subdivision="ENG", start_date=start, end_date=_month(start, 24) - timedelta(days=1),
        annual_value=Decimal("96000.00"), annual_budget=Decimal("110000.00"),
        liability_cap_multiple=Decimal("1.00"), renewal_notice_days=60,
    )  # fmt: skip
    sow = services.create_sow(
        engagement=engagement, actor=actor, reference="SOW-KS-01", title="Virtual sales academy",
        effective_from=start, pricing_model=PricingModel.HYBRID,
    )  # fmt: skip
    version = sow.versions.get()
    services.update_draft_version(version=version, actor=actor, forecast_learners=40)
    for service, responsibility, notes in [
        (StandardService.SCHEDULING, Responsibility.INCLUDED, "Virtual classrooms only"),
        (StandardService.ENROLLMENT_MANAGEMENT, Responsibility.INCLUDED, ""),
        (StandardService.CONTENT_DEVELOPMENT, Responsibility.INCLUDED, "Kestrel's sales curriculum"),
        (StandardService.LEARNER_SUPPORT, Responsibility.INCLUDED, "09:00–17:00 UK time"),
        (StandardService.PLATFORM_ADMINISTRATION, Responsibility.CLIENT_RETAINED, "Acme IT runs the LMS"),
    ]:
        services.set_scope_item(
            version=version, actor=actor, service=service, responsibility=responsibility, notes=notes
        )
    services.add_service_line(
        version=version, actor=actor, name="Academy retainer", basis=LineBasis.FIXED, amount=Decimal("6500.00")
    )
    services.add_service_line(
        version=version, actor=actor, name="Learners above the included 40", basis=LineBasis.PER_LEARNER,
        included_learners=40, bands=[(100, Decimal("45.00")), (None, Decimal("38.00"))],
    )  # fmt: skip
    services.sign_version(
        version=version, actor=memberships["director@demo.test"].user, now=_at(start - timedelta(days=7), 15)
    )
    return engagement


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def seed_demo_governance(
    engagement: Engagement, membership: Membership, months: list[date], now: datetime, *, monthly: bool
) -> int:
    """The governance cadence: an operational review early each month on the month before (when `monthly`), a
    quarterly business review three weeks after each quarter; the held ones have minutes, the next ones are
    booked. One meeting per kind and date, so none is listed twice; the performance reviews the SLA engine booked
    for formal reviews have minutes once held. Idempotent; returns the cadence's meetings."""
    # The performance reviews the SLA engine booked for formal reviews were held too.
    for review in GovernanceMeeting.objects.filter(
        engagement=engagement, kind=MeetingKind.PERFORMANCE_REVIEW, minutes="", scheduled_for__lte=now
    ):
        services.record_minutes(
            meeting=review,
            membership=membership,
            minutes="The provider presented its remediation plan; the client accepted it with monthly checkpoints "
            "and reserved its rights should the target be missed again.",
            now=review.scheduled_for + timedelta(hours=1),
        )
    cadence = (MeetingKind.MONTHLY_OPERATIONAL_REVIEW, MeetingKind.QUARTERLY_BUSINESS_REVIEW)
    meetings = GovernanceMeeting.objects.filter(engagement=engagement, kind__in=cadence)
    if meetings.exists():
        return meetings.count()
    planned: list[tuple[str, datetime, str, str]] = []
    for month in [*months, first_of_next_month(months[-1])] if monthly else []:
        day = _weekday_on_or_after(first_of_next_month(month) + timedelta(days=6))
        planned.append((
            MeetingKind.MONTHLY_OPERATIONAL_REVIEW, _at(day, 10),
            f"{month:%B %Y}: SLA results, sessions delivered and cancelled, open tickets, the month ahead.",
            f"Reviewed {month:%B %Y}: SLA results as provisional, delivery against plan, open tickets and the "
            f"enrolment backlog. Agreed the session plan for {first_of_next_month(month):%B}.",
        ))  # fmt: skip
    ahead = [first_of_next_month(months[-1])]
    ahead += [first_of_next_month(ahead[-1]), first_of_next_month(first_of_next_month(ahead[-1]))]
    for month in [*months, *ahead]:  # the quarters of the year, and the next review booked
        if month.month % 3 == 0:
            day = _weekday_on_or_after(first_of_next_month(month) + timedelta(days=20))
            quarter = f"Q{(month.month - 1) // 3 + 1} {month.year}"
            planned.append((
                MeetingKind.QUARTERLY_BUSINESS_REVIEW, _at(day, 14),
                f"{quarter} business review: the QBR, service credits, escalations, volume against forecast.",
                f"Walked through the {quarter} QBR: service levels, credits and earn-back, volume against forecast "
                "and next quarter's demand. Both sides signed off the remediation actions still open.",
            ))  # fmt: skip
    for kind, scheduled_for, agenda, minutes in planned:
        meeting = services.schedule_meeting(
            engagement=engagement, membership=membership, kind=kind, scheduled_for=scheduled_for, agenda=agenda
        )
        if scheduled_for + timedelta(hours=2) <= now:
            services.record_minutes(
                meeting=meeting, membership=membership, minutes=minutes, now=scheduled_for + timedelta(hours=1)
            )
    return meetings.count()


def seed_demo_dispute(
    engagement: Engagement, provider_manager: Membership, director: Membership, month: date, now: datetime
) -> Dispute:
    """The provider disputes a month's support credit (tickets doubled after the client's LMS change); unresolved
    at account management, it has gone to the executive sponsors. Idempotent."""
    existing = Dispute.objects.filter(engagement=engagement).first()
    if existing is not None:
        return existing
    opened = min(_at(_weekday_on_or_after(first_of_next_month(month) + timedelta(days=9)), 11), now)
    dispute = services.open_dispute(
        engagement=engagement,
        membership=provider_manager,
        title=f"Support first response credit for {month:%B %Y}",
        description="Ticket volume doubled after Acme's LMS single sign-on change; Northwind asks for relief on "
        "the support first response target for the month and the credit to be withdrawn.",
        now=opened,
    )
    return services.escalate_dispute(
        dispute=dispute,
        membership=director,
        note="No agreement at account management: the sign-on change was announced a month ahead. "
        "Referred to the executive sponsors.",
    )
