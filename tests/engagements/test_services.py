"""Contracts services: signing, immutability, the change-request lifecycle and fees per period."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from engagements import selectors, services
from engagements.enums import ChangeRequestStatus, LineBasis, PricingModel, Responsibility, Side, StandardService
from engagements.models import ScopeItem, ServiceLine, SignedVersionError, SowVersion
from engagements.pricing import Usage
from mls.enums import Role
from mls.models import AuditEvent
from tests.factories.engagements import EngagementFactory, SowFactory, draft_retainer_version

pytestmark = pytest.mark.unit


@pytest.fixture
def contract(tenant_a):
    """Tenant A's engagement with its provider, and a signed retainer SoW v1."""
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    sow = SowFactory(engagement=engagement)
    with tenant_a.scope():
        version = draft_retainer_version(sow)
        services.sign_version(version=version, actor=tenant_a.user(Role.PROCUREMENT))
    return tenant_a, sow, version


def test_sign_version_refuses_incomplete_draft_with_reasons(tenant_a):
    sow = SowFactory(engagement=EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider))

    with tenant_a.scope():
        draft = SowVersion.objects.create(
            organization=sow.organization,
            sow=sow,
            number=1,
            effective_from=date(2026, 1, 1),
            pricing_model=PricingModel.HYBRID,
        )
        with pytest.raises(ValidationError) as error:
            services.sign_version(version=draft, actor=tenant_a.user(Role.OWNER))

    assert error.value.messages == [
        "The scope matrix is empty: say which services are included, excluded or client-retained.",
        "There are no service lines: pricing must be itemized.",
        "A hybrid SoW's per-learner line must say how many learners the retainer includes.",
    ]


def test_signed_version_and_its_rows_refuse_every_change(contract):
    tenant, _sow, version = contract
    with tenant.scope():
        line = version.service_lines.get()
        scope_item = version.scope_items.first()
        version.forecast_learners = 999

        with pytest.raises(SignedVersionError):
            version.save()
        with pytest.raises(SignedVersionError):
            line.delete()
        line.amount = Decimal("1.00")
        with pytest.raises(SignedVersionError):
            line.save()
        with pytest.raises(SignedVersionError):
            scope_item.delete()
        with pytest.raises(ValidationError, match=r"is signed: it cannot be edited\. Propose a change request\."):
            services.update_draft_version(version=version, actor=tenant.user(Role.OWNER), forecast_learners=5)

        assert ServiceLine.objects.get(pk=line.pk).amount == Decimal("48250.00")


def test_second_signature_of_a_sow_is_refused(contract):
    tenant, sow, _version = contract
    with tenant.scope():
        another = draft_retainer_version(sow, number=2)

        with pytest.raises(ValidationError, match="already has a signed version"):
            services.sign_version(version=another, actor=tenant.user(Role.OWNER))


@pytest.mark.parametrize(
    ("basis", "fields", "bands", "field"),
    [
        (LineBasis.PER_LEARNER, {}, [(100, Decimal("12")), (50, Decimal("10")), (None, Decimal("9"))], "bands"),
        (LineBasis.PER_LEARNER, {}, [(100, Decimal("-1")), (None, Decimal("9"))], "bands"),
        (LineBasis.PER_LEARNER, {}, [(100, Decimal("12"))], "bands"),
        (LineBasis.FIXED, {"amount": Decimal("-5")}, [], "amount"),
        (LineBasis.UNIT, {"unit_price": Decimal("40")}, [], "__all__"),
    ],
    ids=["unsorted-bands", "negative-rate", "no-open-band", "negative-amount", "unit-without-usage"],
)
def test_add_service_line_rejects_bad_pricing_and_writes_nothing(tenant_a, basis, fields, bands, field):
    sow = SowFactory(engagement=EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider))
    with tenant_a.scope():
        version = draft_retainer_version(sow)

        with pytest.raises(ValidationError) as error:
            services.add_service_line(
                version=version, actor=tenant_a.user(Role.OWNER), name="Delivery", basis=basis, bands=bands, **fields
            )

        assert field in error.value.error_dict
        assert list(version.service_lines.values_list("name", flat=True)) == ["Learning operations retainer"]


def propose(tenant, sow, role=Role.PROVIDER_MANAGER):
    return services.propose_change_request(
        sow=sow, membership=tenant.members[role], title="Add learner support", description="Extend hours."
    )


def test_change_request_lifecycle_produces_version_two_and_a_diff(contract):
    tenant, sow, v1 = contract
    with tenant.scope(), time_machine.travel(datetime(2026, 12, 24, 10, 0, tzinfo=UTC), tick=False) as clock:
        change_request = propose(tenant, sow)
        v2 = change_request.proposed_version
        services.set_scope_item(
            version=v2,
            actor=tenant.user(Role.PROVIDER_MANAGER),
            service=StandardService.LEARNER_SUPPORT,
            responsibility=Responsibility.INCLUDED,
        )
        services.set_scope_item(
            version=v2,
            actor=tenant.user(Role.PROVIDER_MANAGER),
            service=StandardService.CONTENT_DEVELOPMENT,
            responsibility=Responsibility.INCLUDED,
            notes="Two modules a quarter",
        )
        services.submit_change_request(change_request=change_request, membership=tenant.members[Role.PROVIDER_MANAGER])
        change_request.refresh_from_db()
        # Thu 24 Dec 2026 + 10 business days (England): 25, 28 Dec and 1 Jan are holidays, weekends skipped →
        # 29, 30, 31 Dec, 4, 5, 6, 7, 8, 11, 12 Jan → end of Tue 12 Jan 2027 (GMT).
        assert change_request.respond_by == datetime(2027, 1, 12, 23, 59, 59, 999999, tzinfo=UTC)

        clock.move_to(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
        services.approve_change_request(change_request=change_request, membership=tenant.members[Role.LD_DIRECTOR])
        change_request.refresh_from_db()
        assert (change_request.status, change_request.responded_at) == (
            ChangeRequestStatus.APPROVED_BY_CLIENT,
            datetime(2027, 1, 5, 9, 0, tzinfo=UTC),
        )

        services.approve_change_request(change_request=change_request, membership=tenant.members[Role.PROVIDER_MANAGER])
        change_request.refresh_from_db()
        v1.refresh_from_db()
        v2.refresh_from_db()
        diff = selectors.version_diff(v1, v2)
        actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))

    assert change_request.status == ChangeRequestStatus.APPROVED
    assert (v1.status, v2.status, v2.number, v2.effective_from) == ("superseded", "signed", 2, date(2027, 1, 1))
    assert [(f.label, f.old, f.new) for f in diff.fields] == [("Effective from", date(2026, 1, 1), date(2027, 1, 1))]
    assert [(row.key, row.kind) for row in diff.scope] == [
        ("Content development", "changed"),
        ("Learner support", "added"),
    ]
    assert [(c.label, c.old, c.new) for c in diff.scope[0].changes] == [
        ("Responsibility", "client_retained", "included"),
        ("Notes", "", "Two modules a quarter"),
    ]
    assert diff.lines == []
    assert actions[-4:] == [
        "change_request.approved_by_client",
        "sow_version.superseded",
        "sow_version.signed",
        "change_request.approved",
    ]


def test_submitted_proposal_is_frozen(contract):
    tenant, sow, _v1 = contract
    with tenant.scope():
        change_request = propose(tenant, sow)
        services.submit_change_request(change_request=change_request, membership=tenant.members[Role.PROVIDER_MANAGER])

        with pytest.raises(ValidationError, match="its proposal can no longer change"):
            services.set_scope_item(
                version=change_request.proposed_version,
                actor=tenant.user(Role.PROVIDER_MANAGER),
                service=StandardService.LEARNER_SUPPORT,
                responsibility=Responsibility.INCLUDED,
            )


def test_reject_requires_a_reason_and_records_the_response(contract):
    tenant, sow, _v1 = contract
    with tenant.scope():
        change_request = propose(tenant, sow)
        services.submit_change_request(change_request=change_request, membership=tenant.members[Role.PROVIDER_MANAGER])

        with pytest.raises(ValidationError, match="Say why"):
            services.reject_change_request(
                change_request=change_request, membership=tenant.members[Role.LD_DIRECTOR], reason="  "
            )
        rejected = services.reject_change_request(
            change_request=change_request, membership=tenant.members[Role.LD_DIRECTOR], reason="Out of budget"
        )

    assert (rejected.status, rejected.rejection_reason) == (ChangeRequestStatus.REJECTED, "Out of budget")
    assert rejected.responded_at == rejected.rejected_at


@pytest.mark.parametrize(
    ("role", "action", "message"),
    [
        (Role.VIEWER, "propose", "cannot act on change requests"),
        (Role.PROCUREMENT, "approve", "cannot act on change requests"),
        (Role.LD_DIRECTOR, "withdraw", "Only the proposing side"),
        (Role.LD_DIRECTOR, "submit", "Only the proposing side"),
    ],
)
def test_change_request_actions_check_the_members_side(contract, role, action, message):
    tenant, sow, _v1 = contract
    with tenant.scope():
        change_request = propose(tenant, sow)
        if action == "approve":
            services.submit_change_request(
                change_request=change_request, membership=tenant.members[Role.PROVIDER_MANAGER]
            )
        act = {
            "propose": lambda: propose(tenant, sow, role),
            "approve": lambda: services.approve_change_request(
                change_request=change_request, membership=tenant.members[role]
            ),
            "withdraw": lambda: services.withdraw_change_request(
                change_request=change_request, membership=tenant.members[role]
            ),
            "submit": lambda: services.submit_change_request(
                change_request=change_request, membership=tenant.members[role]
            ),
        }[action]

        with pytest.raises(ValidationError, match=message):
            act()


def test_provider_manager_of_another_provider_cannot_act(contract):
    tenant, sow, _v1 = contract
    other_provider_manager = tenant.members[Role.PROVIDER_MANAGER]
    other_provider_manager.provider = type(tenant.provider).objects.create(
        organization=tenant.organization, name="Contoso Training"
    )

    with tenant.scope(), pytest.raises(ValidationError, match="cannot act on change requests"):
        services.propose_change_request(sow=sow, membership=other_provider_manager, title="x", description="y")


def test_fee_for_period_uses_the_version_in_force(contract):
    tenant, sow, _v1 = contract
    with tenant.scope(), time_machine.travel(datetime(2027, 1, 20, 10, 0, tzinfo=UTC), tick=False):
        change_request = propose(tenant, sow, Role.PROCUREMENT)
        v2 = change_request.proposed_version
        line = v2.service_lines.get()
        line.amount = Decimal("51000.00")
        line.save()
        services.submit_change_request(change_request=change_request, membership=tenant.members[Role.PROCUREMENT])
        services.approve_change_request(change_request=change_request, membership=tenant.members[Role.OWNER])
        services.approve_change_request(change_request=change_request, membership=tenant.members[Role.PROVIDER_MANAGER])

        january = selectors.fee_for_period(sow, date(2027, 1, 1), Usage())
        february = selectors.fee_for_period(sow, date(2027, 2, 1), Usage())

    assert [(f.name, f.amount) for f in january] == [("Learning operations retainer", Decimal("48250.00"))]
    assert [(f.name, f.amount) for f in february] == [("Learning operations retainer", Decimal("51000.00"))]
    assert v2.effective_from == date(2027, 2, 1)


def test_change_request_side_is_recorded(contract):
    tenant, sow, _v1 = contract
    with tenant.scope():
        by_client = propose(tenant, sow, Role.PROCUREMENT)
        by_provider = propose(tenant, sow)

    assert (by_client.proposed_by_side, by_client.receiving_side) == (Side.CLIENT, Side.PROVIDER)
    assert (by_provider.proposed_by_side, by_provider.number) == (Side.PROVIDER, 2)
    with tenant.scope():
        assert ScopeItem.objects.filter(version=by_provider.proposed_version).count() == 2


def test_update_engagement_refuses_provider_of_another_organization(contract, tenant_b):
    tenant, sow, _version = contract
    engagement = sow.engagement

    with tenant.scope(), pytest.raises(ValidationError) as error:
        services.update_engagement(engagement=engagement, actor=tenant.user(Role.OWNER), provider=tenant_b.provider)

    assert list(error.value.error_dict) == ["provider"]
    engagement.refresh_from_db()
    assert engagement.provider_id == tenant.provider.pk
