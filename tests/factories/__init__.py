"""factory-boy factories. Tenant objects are created with `Model.objects.create`, which scopes allow."""

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from mls.enums import Role, WebhookDeliveryStatus
from mls.models import (
    OPEN_DELIVERY_STATUSES,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    Provider,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from mls.services import create_api_token

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Client {n}")
    slug = factory.Sequence(lambda n: f"client-{n}")
    timezone = "Europe/London"
    currency = "GBP"
    holiday_country = "GB"


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Provider {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER
    provider = factory.Maybe(
        factory.LazyAttribute(lambda m: m.role == Role.PROVIDER_MANAGER),
        yes_declaration=factory.SubFactory(ProviderFactory, organization=factory.SelfAttribute("..organization")),
        no_declaration=None,
    )


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.LD_DIRECTOR
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda i: i.created_at + timedelta(days=14))


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    organization = factory.SubFactory(OrganizationFactory)
    action = "member.added"
    object_type = "mls.membership"
    object_id = factory.Sequence(str)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """Saved directly, without the service's target check: tests point it wherever they need."""

    class Meta:
        model = WebhookEndpoint

    organization = factory.SubFactory(OrganizationFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.test/mls")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    organization = factory.SubFactory(OrganizationFactory)
    endpoint = factory.SubFactory(WebhookEndpointFactory, organization=factory.SelfAttribute("..organization"))
    audit_event = factory.SubFactory(
        AuditEventFactory, organization=factory.SelfAttribute("..organization"), action="breach.created"
    )
    event = "breach.created"
    payload = factory.LazyAttribute(lambda d: {"id": d.audit_event.pk, "event": d.event, "data": {}})
    status = WebhookDeliveryStatus.PENDING
    # An open delivery is due at once (as the service makes it, less the first message's lease); a final one never.
    next_attempt_at = factory.LazyAttribute(lambda d: timezone.now() if d.status in OPEN_DELIVERY_STATUSES else None)


def api_token(tenant: object, *, scope: str = "read_write", provider: Provider | None = None) -> str:
    """A raw API token of `tenant`, created by its owner through the service (the only way tokens exist)."""
    with tenant.scope():
        _, raw = create_api_token(
            membership=tenant.members[Role.OWNER], name="Integration", scope=scope, provider=provider
        )
    return raw
