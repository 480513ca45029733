"""The demo tenant's contract: a managed-services engagement with Northwind Learning (used by seed_demo)."""

from datetime import date
from decimal import Decimal

from mls.models import Membership, Organization, Provider

from . import services
from .enums import (
    EngagementModel,
    EngagementStatus,
    LineBasis,
    PricingModel,
    Responsibility,
    StandardService,
    VendorModel,
)
from .models import Engagement, IndexSeries

ENGAGEMENT_NAME = "Acme learning operations"
# UK CPI index (2015 = 100), rounded: enough months for the 2027 anniversary adjustment.
CPI = {date(2025, m, 1): Decimal(v) for m, v in [(11, "138.4"), (12, "138.9")]} | {
    date(2026, m, 1): Decimal(v)
    for m, v in [
        (1, "138.5"), (2, "139.2"), (3, "139.6"), (4, "140.8"), (5, "141.2"), (6, "141.5"),
        (7, "141.8"), (8, "142.2"), (9, "142.3"), (10, "142.9"), (11, "143.1"), (12, "143.6"),
    ]
}  # fmt: skip
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


def seed_demo_contract(
    organization: Organization, provider: Provider, memberships: dict[str, Membership]
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
    for month, value in CPI.items():
        services.record_index_value(series=cpi, actor=actor, month=month, value=value)
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
        start_date=date(2026, 1, 1),
        end_date=date(2028, 12, 31),
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
        effective_from=date(2026, 1, 1),
        pricing_model=PricingModel.HYBRID,
    )
    version = sow.versions.get()
    services.update_draft_version(
        version=version, actor=actor, forecast_learners=650, index_series=cpi, index_cap_percent=Decimal("3.00")
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
        included_learners=500,
        bands=[(200, Decimal("28.00")), (500, Decimal("24.00")), (None, Decimal("21.50"))],
    )
    services.sign_version(version=version, actor=memberships["director@demo.test"].user)
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
