"""Factories for the contracts domain: a signed retainer SoW is one call away."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import factory

from engagements import services
from engagements.enums import EngagementModel, LineBasis, PricingModel, Responsibility, StandardService, VendorModel
from engagements.models import ChangeRequest, Engagement, ScopeItem, ServiceLine, Sow, SowVersion
from mls.enums import Role
from tests.factories import OrganizationFactory, ProviderFactory


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    organization = factory.SubFactory(OrganizationFactory)
    provider = factory.SubFactory(ProviderFactory, organization=factory.SelfAttribute("..organization"))
    name = factory.Sequence(lambda n: f"Managed learning {n}")
    engagement_model = EngagementModel.MANAGED_SERVICES
    vendor_model = VendorModel.MASTER_SERVICE_PROVIDER
    currency = "GBP"
    timezone = "Europe/London"
    holiday_country = "GB"
    holiday_subdivision = "ENG"
    start_date = date(2026, 1, 1)
    end_date = date(2028, 12, 31)
    annual_value = Decimal("579000.00")


class SowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sow

    engagement = factory.SubFactory(EngagementFactory)
    organization = factory.SelfAttribute("engagement.organization")
    reference = factory.Sequence(lambda n: f"SOW-{n}")
    title = "Learning operations"


class SowVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SowVersion

    sow = factory.SubFactory(SowFactory)
    organization = factory.SelfAttribute("sow.organization")
    number = 1
    effective_from = date(2026, 1, 1)
    pricing_model = PricingModel.RETAINER


def draft_retainer_version(sow: Sow, monthly: str = "48250.00", number: int = 1) -> SowVersion:
    """A complete draft: two scope rows and one retainer line, ready to sign."""
    version = SowVersionFactory(sow=sow, number=number)
    ScopeItem.objects.create(
        organization=sow.organization,
        version=version,
        service=StandardService.SCHEDULING,
        responsibility=Responsibility.INCLUDED,
    )
    ScopeItem.objects.create(
        organization=sow.organization,
        version=version,
        service=StandardService.CONTENT_DEVELOPMENT,
        responsibility=Responsibility.CLIENT_RETAINED,
    )
    ServiceLine.objects.create(
        organization=sow.organization,
        version=version,
        name="Learning operations retainer",
        basis=LineBasis.FIXED,
        amount=Decimal(monthly),
    )
    return version


@dataclass
class Contract:
    engagement: Engagement
    sow: Sow
    signed_version: SowVersion
    change_request: ChangeRequest
    proposal_scope_item: ScopeItem


def signed_contract_with_proposal(tenant: object) -> Contract:
    """An engagement with tenant's provider, a signed SoW v1 and the provider's draft change request (v2)."""
    engagement = EngagementFactory(organization=tenant.organization, provider=tenant.provider)
    sow = SowFactory(engagement=engagement)
    with tenant.scope():
        version = services.sign_version(version=draft_retainer_version(sow), actor=tenant.user(Role.PROCUREMENT))
        change_request = services.propose_change_request(
            sow=sow, membership=tenant.members[Role.PROVIDER_MANAGER], title="More support", description="Extend."
        )
        scope_item = change_request.proposed_version.scope_items.first()
    return Contract(engagement, sow, version, change_request, scope_item)
