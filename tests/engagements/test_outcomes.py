"""Outcome measures of gain-share lines (SPEC-SLA §6 outcome_based): one side submits a month's value with its
evidence, the other side verifies or rejects it, and the fee prices the gain share from the verified value only.

The contract of every test here: base fee 10,000.00, gain share 15 % of the base when the outcome reaches the
baseline 70 + the required uplift 5 = 75, so an earned gain share is 15 % × 10,000.00 = 1,500.00."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from engagements import selectors, services
from engagements.enums import LineBasis, OutcomeStatus
from engagements.models import OutcomeMeasurement
from engagements.pricing import Usage
from mls.enums import Role
from mls.models import AuditEvent
from reporting.statements import fee_statement
from slas.periods import Period
from slas.selectors import monthly_fee
from tests.factories import MembershipFactory, ProviderFactory
from tests.factories.engagements import (
    EngagementFactory,
    SowFactory,
    draft_retainer_version,
    outcome_based_version,
)

pytestmark = pytest.mark.integration

MARCH = date(2026, 3, 1)
NOW = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
EVIDENCE = "Service desk report, March 2026: first-time fix 80 %"


@pytest.fixture
def contract(tenant_a):
    """An outcome-based SoW signed from 2026-01, of tenant A's provider: (sow, its gain-share line)."""
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    sow = SowFactory(engagement=engagement)
    with tenant_a.scope():
        version = services.sign_version(version=outcome_based_version(sow), actor=tenant_a.user(Role.PROCUREMENT))
        return sow, version.service_lines.get(basis=LineBasis.GAIN_SHARE)


def submit(tenant, line, role=Role.PROVIDER_MANAGER, *, value="80", month=MARCH, evidence=EVIDENCE):
    with tenant.scope():
        return services.submit_outcome_measurement(
            service_line=line,
            membership=tenant.members[role],
            month=month,
            value=Decimal(value),
            evidence=evidence,
            now=NOW,
        )


def gain_share_line(sow, month=MARCH):
    _, gain = fee_statement(sow, month).lines
    return gain


# --- Submitting ---------------------------------------------------------------------------------------------


def test_provider_submits_a_value_that_awaits_the_client_and_is_audited(tenant_a, contract):
    sow, line = contract

    measurement = submit(tenant_a, line, value="80.5", month=date(2026, 3, 17))

    with tenant_a.scope():
        event = AuditEvent.objects.get(action="outcome_measurement.submitted")
    assert (measurement.month, measurement.value, measurement.engagement_id) == (
        MARCH,
        Decimal("80.5"),
        sow.engagement_id,
    )
    assert (measurement.status, measurement.submitted_side, measurement.submitted_at) == ("submitted", "provider", NOW)
    assert (event.actor, event.object_id, event.before) == (
        tenant_a.user(Role.PROVIDER_MANAGER),
        str(measurement.pk),
        None,
    )
    assert event.after == {
        "service_line": line.pk,
        "month": "2026-03-01",
        "value": "80.5",
        "evidence": EVIDENCE,
        "submitted_side": "provider",
        "status": "submitted",
        "rejection_reason": "",
    }


@pytest.mark.parametrize("role", [Role.OWNER, Role.LD_DIRECTOR, Role.PROCUREMENT])
def test_client_sla_managers_submit_for_the_client_side(tenant_a, contract, role):
    _, line = contract

    measurement = submit(tenant_a, line, role)

    assert measurement.submitted_side == "client"


@pytest.mark.parametrize(
    ("month", "field", "message"),
    [
        (date(2026, 6, 1), "month", "2026-06 has not begun: record its outcome once it is measured."),
        (date(2025, 12, 1), "month", "In 2025-12 SOW-"),  # before the signed version is in force
    ],
)
def test_submitting_for_a_month_without_this_line_in_force_is_refused(tenant_a, contract, month, field, message):
    _, line = contract

    with pytest.raises(ValidationError) as refused:
        submit(tenant_a, line, month=month)

    assert list(refused.value.message_dict) == [field]
    assert refused.value.message_dict[field][0].startswith(message)
    with tenant_a.scope():
        assert (
            OutcomeMeasurement.objects.count(),
            AuditEvent.objects.filter(action__startswith="outcome").count(),
        ) == (
            0,
            0,
        )


def test_a_line_that_is_not_a_gain_share_takes_no_outcome(tenant_a, contract):
    sow, _ = contract
    with tenant_a.scope():
        base_fee = sow.versions.get().service_lines.get(basis=LineBasis.FIXED)

    with pytest.raises(ValidationError) as refused:
        submit(tenant_a, base_fee)

    assert refused.value.message_dict == {
        "service_line": ["Only a gain-share line of an outcome-based SoW takes outcome values."]
    }


def test_a_gain_share_line_of_a_draft_takes_no_outcome(tenant_a):
    sow = SowFactory(engagement=EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider))
    with tenant_a.scope():
        line = outcome_based_version(sow).service_lines.get(basis=LineBasis.GAIN_SHARE)

    with pytest.raises(ValidationError) as refused:
        submit(tenant_a, line)

    assert refused.value.message_dict == {
        "service_line": ["This line is in a draft version: record outcomes once it is signed."]
    }


def test_a_second_live_value_for_the_month_is_refused_until_the_first_is_rejected(tenant_a, contract):
    _, line = contract
    first = submit(tenant_a, line)

    with pytest.raises(ValidationError) as refused:
        submit(tenant_a, line, Role.LD_DIRECTOR, value="90")
    with tenant_a.scope():
        services.reject_outcome_measurement(
            measurement=first, membership=tenant_a.members[Role.LD_DIRECTOR], reason="Counts reopened tickets", now=NOW
        )
    second = submit(tenant_a, line, value="78")

    assert refused.value.message_dict == {
        "month": ["First-time-fix gain share already has a value for 2026-03 (Awaiting verification)."]
    }
    assert (second.status, second.value) == ("submitted", Decimal("78"))


@pytest.mark.parametrize(
    ("value", "evidence", "field"), [("1" * 11 + ".00", EVIDENCE, "value"), ("80", "   ", "evidence")]
)
def test_a_value_out_of_range_or_without_evidence_is_refused(tenant_a, contract, value, evidence, field):
    _, line = contract

    with pytest.raises(ValidationError) as refused:
        submit(tenant_a, line, value=value, evidence=evidence)

    assert list(refused.value.message_dict) == [field]
    with tenant_a.scope():
        assert OutcomeMeasurement.objects.count() == 0


def test_a_viewer_and_another_providers_manager_cannot_submit(tenant_a, contract):
    _, line = contract
    other_provider = ProviderFactory(organization=tenant_a.organization, name="Contoso Training")
    tenant_a.members["other"] = MembershipFactory(
        organization=tenant_a.organization, role=Role.PROVIDER_MANAGER, provider=other_provider
    )

    refusals = []
    for role in (Role.VIEWER, "other"):
        with pytest.raises(ValidationError) as refused:
            submit(tenant_a, line, role)
        refusals.append(refused.value.messages)

    assert refusals == [["Your role cannot record or verify outcome values of this engagement."]] * 2


# --- Verifying and rejecting --------------------------------------------------------------------------------


def test_the_client_verifies_the_providers_value_and_the_change_is_audited(tenant_a, contract):
    _, line = contract
    submitted = submit(tenant_a, line)
    director = tenant_a.members[Role.LD_DIRECTOR]

    with tenant_a.scope():
        verified = services.verify_outcome_measurement(measurement=submitted, membership=director, now=NOW)
        event = AuditEvent.objects.get(action="outcome_measurement.verified")

    assert (verified.status, verified.reviewed_by, verified.reviewed_at) == ("verified", director.user, NOW)
    assert (event.before["status"], event.after["status"]) == ("submitted", "verified")


def test_the_provider_verifies_the_clients_value(tenant_a, contract):
    _, line = contract
    submitted = submit(tenant_a, line, Role.PROCUREMENT)

    with tenant_a.scope():
        verified = services.verify_outcome_measurement(
            measurement=submitted, membership=tenant_a.members[Role.PROVIDER_MANAGER], now=NOW
        )

    assert verified.status == "verified"


@pytest.mark.parametrize(
    ("role", "message"),
    [
        (Role.PROVIDER_MANAGER, "The other side verifies a submitted value, not the side that submitted it."),
        (Role.VIEWER, "Your role cannot record or verify outcome values of this engagement."),
    ],
)
def test_the_submitting_side_or_a_viewer_cannot_verify(tenant_a, contract, role, message):
    _, line = contract
    submitted = submit(tenant_a, line)

    with tenant_a.scope(), pytest.raises(ValidationError) as refused:
        services.verify_outcome_measurement(measurement=submitted, membership=tenant_a.members[role], now=NOW)

    assert refused.value.messages == [message]
    with tenant_a.scope():
        assert OutcomeMeasurement.objects.get().status == OutcomeStatus.SUBMITTED


def test_a_reviewed_value_is_not_reviewed_again(tenant_a, contract):
    _, line = contract
    director = tenant_a.members[Role.LD_DIRECTOR]
    with tenant_a.scope():
        verified = services.verify_outcome_measurement(measurement=submit(tenant_a, line), membership=director)

        with pytest.raises(ValidationError) as refused:
            services.reject_outcome_measurement(measurement=verified, membership=director, reason="Changed my mind")

    assert refused.value.messages == ["This value is already verified."]


def test_a_rejection_needs_a_reason_and_keeps_it(tenant_a, contract):
    _, line = contract
    submitted = submit(tenant_a, line)
    director = tenant_a.members[Role.LD_DIRECTOR]

    with tenant_a.scope():
        with pytest.raises(ValidationError) as refused:
            services.reject_outcome_measurement(measurement=submitted, membership=director, reason="  ")
        rejected = services.reject_outcome_measurement(
            measurement=submitted, membership=director, reason=" Counts reopened tickets ", now=NOW
        )
        event = AuditEvent.objects.get(action="outcome_measurement.rejected")

    assert refused.value.message_dict == {"reason": ["Say why the value is rejected."]}
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Counts reopened tickets")
    assert (event.before["status"], event.after["status"], event.after["rejection_reason"]) == (
        "submitted",
        "rejected",
        "Counts reopened tickets",
    )


# --- The fee: gain share from the verified value only -------------------------------------------------------


def verify(tenant, measurement):
    with tenant.scope():
        return services.verify_outcome_measurement(measurement=measurement, membership=tenant.members[Role.OWNER])


def reject(tenant, measurement, reason="The report covers Q2"):
    with tenant.scope():
        return services.reject_outcome_measurement(
            measurement=measurement, membership=tenant.members[Role.OWNER], reason=reason
        )


@pytest.mark.parametrize(
    ("value", "amount", "detail"),
    [
        # 80 >= 70 + 5: 15 % × 10000.00 = 1500.00
        ("80", Decimal("1500.00"), "15 % of £10,000.00; outcome 80 vs target 75 (baseline 70 + uplift 5) met"),
        # exactly on the target: met
        ("75", Decimal("1500.00"), "15 % of £10,000.00; outcome 75 vs target 75 (baseline 70 + uplift 5) met"),
        # 74.99 < 75: listed at 0.00 with the comparison
        (
            "74.99",
            Decimal("0.00"),
            "not charged: outcome 74.99 vs target 75 (baseline 70 + uplift 5) not met (15 % of £10,000.00)",
        ),
    ],
)
def test_statement_charges_the_gain_share_on_a_verified_value(tenant_a, contract, value, amount, detail):
    sow, line = contract
    verify(tenant_a, submit(tenant_a, line, value=value))

    with tenant_a.scope():
        statement = fee_statement(sow, MARCH)

    base, gain = statement.lines
    assert (base.amount, gain.amount, gain.detail) == (Decimal("10000.00"), amount, detail)
    assert statement.subtotal == Decimal("10000.00") + amount


@pytest.mark.parametrize(
    ("review", "detail"),
    [
        (None, "not charged: outcome 80 awaiting verification by the client (15 % of £10,000.00)"),
        (
            reject,
            "not charged: outcome 80 rejected by the client (The report covers Q2); no verified value for the period "
            "(15 % of £10,000.00)",
        ),
    ],
)
def test_statement_does_not_charge_on_an_unverified_value_and_says_why(tenant_a, contract, review, detail):
    sow, line = contract
    submitted = submit(tenant_a, line)  # 80 would reach 75
    if review:
        review(tenant_a, submitted)

    with tenant_a.scope():
        gain = gain_share_line(sow)

    assert (gain.amount, gain.detail) == (Decimal("0.00"), detail)


def test_statement_without_a_value_for_the_month_says_so(tenant_a, contract):
    sow, line = contract
    verify(tenant_a, submit(tenant_a, line, month=date(2026, 2, 1)))  # February's value says nothing of March

    with tenant_a.scope():
        gain = gain_share_line(sow)

    assert (gain.amount, gain.detail) == (
        Decimal("0.00"),
        "not charged: no outcome value for the period (15 % of £10,000.00)",
    )


def test_a_value_sent_again_after_a_rejection_is_the_one_priced(tenant_a, contract):
    sow, line = contract
    reject(tenant_a, submit(tenant_a, line, value="90"))
    verify(tenant_a, submit(tenant_a, line, value="76"))

    with tenant_a.scope():
        gain = gain_share_line(sow)

    # 76 >= 75: 15 % × 10000.00 = 1500.00
    assert (gain.amount, gain.detail) == (
        Decimal("1500.00"),
        "15 % of £10,000.00; outcome 76 vs target 75 (baseline 70 + uplift 5) met",
    )


def test_the_verified_gain_share_is_part_of_the_monthly_fee_that_sets_the_amount_at_risk(tenant_a, contract):
    sow, line = contract
    with tenant_a.scope():
        before, _ = monthly_fee(sow.engagement, Period(MARCH, "Europe/London"))
    verify(tenant_a, submit(tenant_a, line))

    with tenant_a.scope():
        after, _ = monthly_fee(sow.engagement, Period(MARCH, "Europe/London"))

    assert (before, after) == (Decimal("10000.00"), Decimal("11500.00"))  # + 15 % × 10000.00


def test_period_outcomes_read_no_rows_for_a_sow_without_a_gain_share(tenant_a, django_assert_num_queries):
    sow = SowFactory(engagement=EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider))
    with tenant_a.scope():
        services.sign_version(version=draft_retainer_version(sow), actor=tenant_a.user(Role.PROCUREMENT))

        # the version in force, its lines, their bands: no outcome query for a retainer
        with django_assert_num_queries(3):
            [line] = selectors.fee_for_period(sow, MARCH, usage=Usage())

    assert line.amount == Decimal("48250.00")
