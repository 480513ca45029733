"""The "Get started" checklist: each step ticks from the organization's own rows, the checklist leaves the
dashboard once every step is done, and reading it costs one query however much data there is."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.tenancy import organization_scope
from reporting.onboarding import checklist_for, onboarding_steps
from scheduling.models import ImportJob, ImportStatus
from slas import services
from slas.periods import Period
from tests.factories import InvitationFactory, MembershipFactory, OrganizationFactory, ProviderFactory
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration


@pytest.fixture
def owner(db):
    """The only member of an organization that has just signed up."""
    return MembershipFactory(organization=OrganizationFactory(name="Fresh Ltd", slug="fresh"), role=Role.OWNER)


def ticks(organization) -> list[bool]:
    with organization_scope(organization):
        return [step.done for step in onboarding_steps(organization)]


def imported(organization, status=ImportStatus.SUCCEEDED) -> ImportJob:
    return ImportJob.objects.create(
        organization=organization, kind="learners", filename="l.csv", content="external_id\n", status=status
    )


def test_a_new_organization_has_every_step_to_do(owner):
    assert ticks(owner.organization) == [False, False, False, False]


def test_first_step_ticks_once_a_provider_has_an_invited_account_manager(owner):
    organization = owner.organization
    provider = ProviderFactory(organization=organization)
    provider_only = ticks(organization)
    InvitationFactory(organization=organization, role=Role.PROVIDER_MANAGER, provider=provider)

    assert provider_only == [False, False, False, False]
    assert ticks(organization) == [True, False, False, False]


def test_a_revoked_invitation_does_not_tick_the_first_step(owner):
    organization = owner.organization
    provider = ProviderFactory(organization=organization)
    InvitationFactory(
        organization=organization,
        role=Role.PROVIDER_MANAGER,
        provider=provider,
        revoked_at=datetime(2026, 3, 1, tzinfo=UTC),
    )

    assert ticks(organization) == [False, False, False, False]


def test_engagement_step_ticks_from_an_engagement(owner):
    EngagementFactory(organization=owner.organization, provider=ProviderFactory(organization=owner.organization))

    assert ticks(owner.organization) == [False, True, False, False]


@pytest.mark.parametrize(("status", "done"), [(ImportStatus.SUCCEEDED, True), (ImportStatus.UPLOADED, False)])
def test_delivery_step_ticks_from_a_finished_import_only(owner, status, done):
    imported(owner.organization, status)

    assert ticks(owner.organization) == [False, False, done, False]


def test_sla_month_step_ticks_once_a_month_is_measured(tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    before = ticks(tenant_a.organization)
    with tenant_a.scope():
        services.compute_period(
            engagement=engagement,
            period=Period(date(2026, 3, 1), engagement.timezone),
            now=datetime(2026, 3, 10, tzinfo=UTC),
        )

    assert before == [True, True, False, False]
    assert ticks(tenant_a.organization) == [True, True, False, True]


@pytest.mark.parametrize("data", ["none", "all"])
def test_steps_cost_one_query(tenant_a, django_assert_num_queries, data):
    if data == "all":
        engagement, _ = sla_engagement(tenant_a)
        imported(tenant_a.organization)
        with tenant_a.scope():
            services.compute_period(
                engagement=engagement,
                period=Period(date(2026, 3, 1), engagement.timezone),
                now=datetime(2026, 3, 10, tzinfo=UTC),
            )

    with tenant_a.scope(), django_assert_num_queries(1):
        steps = onboarding_steps(tenant_a.organization)

    assert len(steps) == 4


def test_dashboard_of_a_new_organization_shows_the_checklist_with_its_links(client, owner):
    client.force_login(owner.user)

    html = client.get(reverse("reporting:dashboard", kwargs={"organization_slug": "fresh"})).content.decode()

    assert "Get started" in html
    # No provider yet: the first step opens the new-provider form (it invites the account manager too).
    for route in ("vendors:provider_create", "engagements:create", "scheduling:imports", "slas:list"):
        assert f'href="{reverse(route, kwargs={"organization_slug": "fresh"})}"' in html


def test_checklist_disappears_once_every_step_is_done(client, tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    imported(tenant_a.organization)
    with tenant_a.scope():
        services.compute_period(
            engagement=engagement,
            period=Period(date(2026, 3, 1), engagement.timezone),
            now=datetime(2026, 3, 10, tzinfo=UTC),
        )
        hidden = checklist_for(tenant_a.members[Role.OWNER], tenant_a.organization)
    client.force_login(tenant_a.user(Role.OWNER))

    html = client.get(reverse("reporting:dashboard", kwargs={"organization_slug": "acme"})).content.decode()

    assert hidden is None
    assert "Get started" not in html


def test_provider_manager_is_not_shown_the_clients_setup(tenant_a):
    with tenant_a.scope():
        assert checklist_for(tenant_a.members[Role.PROVIDER_MANAGER], tenant_a.organization) is None
        assert checklist_for(tenant_a.members[Role.OWNER], tenant_a.organization) is not None
