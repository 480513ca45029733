from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import pytest
from django.db import connection

from mls.celery import app as celery_app
from mls.enums import Role
from mls.models import ApiToken, Membership
from mls.tenancy import organization_scope
from tests.factories import (
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
    ProviderFactory,
    WebhookDeliveryFactory,
    api_token,
)
from tests.factories.engagements import (
    ProviderDelivery,
    provider_delivery,
    signed_contract_with_proposal,
    submitted_outcome,
)
from tests.factories.reporting import stored_qbr
from vendors.models import Provider


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    """The suite's contract is PostgreSQL (constraints, triggers); SQLite is only the zero-config run path."""
    if "django_db_setup" in request.fixturenames and connection.vendor != "postgresql":
        pytest.fail("The test suite runs on PostgreSQL: use scripts/test or set DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _test_settings(settings, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Uploads (SLA evidence) go to a temporary directory, never into the checkout's media/.
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
    # A fresh cache per test: allauth's rate limits must not carry over between tests or runs.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.node.nodeid}
    }


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    """Unit and view tests run tasks inline; the real-worker tests switch this off for themselves."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@dataclass
class SecondProvider:
    provider: Provider
    manager: Membership
    delivery: ProviderDelivery


class Tenant:
    """One client organization with a member of every role, built the same way for A and B."""

    def __init__(self, name: str, slug: str) -> None:
        self.organization = OrganizationFactory(name=name, slug=slug)
        self.provider = ProviderFactory(organization=self.organization, name="Northwind Learning")
        self.members = {
            role: MembershipFactory(
                organization=self.organization,
                role=role,
                provider=self.provider if role == Role.PROVIDER_MANAGER else None,
            )
            for role in Role.values
        }

    def user(self, role: str):
        return self.members[role].user

    def scope(self):
        return organization_scope(self.organization)

    def with_route_objects(self) -> "Tenant":
        """One of every object the organization's routes name (tests/url_matrix.py builds URLs from them)."""
        self.invitation = InvitationFactory(organization=self.organization)
        self.webhook_delivery = WebhookDeliveryFactory(organization=self.organization)
        api_token(self)
        with self.scope():
            self.api_token = ApiToken.objects.get()
        self.contract = signed_contract_with_proposal(self)
        self.outcome = submitted_outcome(self)
        return self

    def with_second_provider(self) -> "Tenant":
        """A second provider (Southwind) with its own account manager and delivery (`other.delivery`): what the
        first provider's manager, `members[PROVIDER_MANAGER]`, must neither read nor write."""
        provider = ProviderFactory(organization=self.organization, name="Southwind Training")
        manager = MembershipFactory(organization=self.organization, role=Role.PROVIDER_MANAGER, provider=provider)
        self.other = SecondProvider(provider, manager, provider_delivery(self, manager))
        return self

    @cached_property
    def qbr(self):
        """A stored QBR revision of the access tests' contract (`contract` is set by those tests)."""
        with self.scope():
            return stored_qbr(self.contract.engagement)


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant("Acme Corp", "acme")


@pytest.fixture
def tenant_b(db) -> Tenant:
    # Same names as A on purpose: a leak would be indistinguishable by name, so tests compare ids.
    return Tenant("Acme Corp", "acme-2")
