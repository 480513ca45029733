"""Engagement templates in the domain layer: creating everything from one in one transaction, saving an engagement
as a template (who may, what it keeps), and templates staying inside their organization."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from engagements.models import Engagement, EngagementTemplate, GovernanceMeeting, ScopeItem, Sow
from engagements.services.templates import (
    EngagementPlan,
    add_months,
    chosen_template,
    create_engagement_from_template,
    save_engagement_as_template,
)
from engagements.template_content import BUILT_IN_TEMPLATES, TargetSpec, TemplateContent
from mls.enums import Role
from mls.models import AuditEvent
from slas.models import SlaSchedule, SlaTarget
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def plan(tenant, key="fixed-fee-managed-learning", **changes) -> EngagementPlan:
    with tenant.scope():
        template = chosen_template(f"builtin:{key}")
    content = template.content
    fields = {
        "template": template,
        "provider": tenant.provider,
        "name": "Learning operations 2027",
        "start_date": date(2027, 1, 1),
        "end_date": date(2029, 12, 31),
        "currency": "GBP",
        "annual_value": Decimal("432000"),
        "annual_budget": None,
        "forecast_learners": content.forecast_learners,
        "lines": content.lines,
        "at_risk_percent": content.at_risk_percent,
        "targets": content.targets,
    }
    return EngagementPlan(**{**fields, **changes})


def create(tenant, role=Role.OWNER, **changes) -> Engagement:
    with tenant.scope():
        return create_engagement_from_template(
            organization=tenant.organization,
            membership=tenant.members[role],
            plan=plan(tenant, **changes),
            now=NOW,
        )


@pytest.fixture
def tenant(tenant_a):
    return tenant_a


def test_built_in_templates_hold_five_to_eight_catalog_targets_and_round_trip_as_json():
    for template in BUILT_IN_TEMPLATES.values():
        content = template.content

        assert 5 <= len(content.targets) <= 8
        assert TemplateContent.from_json(content.to_json()) == content


def test_a_template_creates_engagement_sow_scope_lines_schedule_targets_and_meetings(tenant):
    engagement = create(tenant)

    with tenant.scope():
        version = engagement.sows.get().versions.get()
        schedule = SlaSchedule.objects.get(engagement=engagement)
        assert (engagement.engagement_model, engagement.termination_notice_days) == ("managed_services", 90)
        assert list(version.service_lines.values_list("name", "basis", "amount")) == [
            ("Managed learning service fee", "fixed", Decimal("36000.00"))
        ]
        assert ScopeItem.objects.filter(version=version).count() == 9
        assert (schedule.at_risk_percent, schedule.formal_review_after, schedule.exit_right_after) == (
            Decimal("10.00"),
            2,
            3,
        )
        # change_request_response takes N from the MSA (10 business days) as on the SLA page.
        assert dict(SlaTarget.objects.filter(schedule=schedule).values_list("metric", "threshold")) == {
            "session_delivery_rate": None,
            "support_first_response": 8,
            "mandatory_training_on_time": None,
            "platform_uptime": None,
            "learner_satisfaction": None,
            "change_request_response": 10,
        }
        assert GovernanceMeeting.objects.filter(engagement=engagement).count() == 8  # 6 monthly + 2 QBRs


def test_a_refusal_late_in_the_creation_writes_nothing_at_all(tenant):
    bad_rating = TargetSpec("instructor_rating", Decimal("6"), Decimal("10"))  # a score is 1–5

    with pytest.raises(ValidationError, match="between 1 and 5"):
        create(tenant, targets=(*plan(tenant).targets, bad_rating))

    with tenant.scope():
        assert (Engagement.objects.count(), Sow.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROVIDER_MANAGER])
def test_roles_without_contract_and_sla_rights_cannot_create_from_a_template(tenant, role):
    with pytest.raises(PermissionDenied):
        create(tenant, role=role)


def test_meetings_already_past_are_not_scheduled(tenant):
    engagement = create(tenant, start_date=date(2026, 9, 1))  # NOW is 1 Dec 2026

    with tenant.scope():
        dates = sorted(m.scheduled_for.date() for m in GovernanceMeeting.objects.filter(engagement=engagement))
    # Monthly reviews from October (Oct and Nov are past), QBRs on 20 Dec and 20 Mar: 15 Dec–15 Mar and both QBRs.
    assert dates == [
        date(2026, 12, 15),
        date(2026, 12, 20),
        date(2027, 1, 15),
        date(2027, 2, 15),
        date(2027, 3, 15),
        date(2027, 3, 20),
    ]


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert [add_months(date(2027, 1, 31), n) for n in (1, 12, 36)] == [
        date(2027, 2, 28),
        date(2028, 1, 31),
        date(2030, 1, 31),
    ]


@pytest.mark.parametrize("role", [Role.OWNER, Role.LD_DIRECTOR, Role.PROCUREMENT])
def test_contract_managers_save_an_engagement_as_a_template_that_recreates_it(tenant, role):
    engagement = create(tenant, targets=plan(tenant).targets[:5])

    with tenant.scope():
        template = save_engagement_as_template(engagement=engagement, membership=tenant.members[role], name="Ours")
        content = chosen_template(str(template.pk)).content
        event = AuditEvent.objects.get(action="engagement_template.saved")
    assert (content.pricing_model, content.at_risk_percent, content.term_months) == ("retainer", Decimal("10.00"), 36)
    assert sorted(t.metric for t in content.targets) == sorted(t.metric for t in plan(tenant).targets[:5])
    assert [(m.kind, m.every_months) for m in content.meetings] == [
        ("monthly_operational_review", 1),
        ("quarterly_business_review", 3),
    ]
    assert (event.object_id, event.actor_id) == (str(template.pk), tenant.members[role].user_id)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROVIDER_MANAGER])
def test_viewers_and_provider_managers_cannot_save_templates(tenant, role):
    engagement = create(tenant)

    with tenant.scope(), pytest.raises(PermissionDenied):
        save_engagement_as_template(engagement=engagement, membership=tenant.members[role], name="Ours")


def test_an_engagement_without_a_sow_has_nothing_to_save(tenant):
    engagement = EngagementFactory(organization=tenant.organization, provider=tenant.provider, name="Bare")

    with tenant.scope(), pytest.raises(ValidationError, match="no SoW"):
        save_engagement_as_template(engagement=engagement, membership=tenant.members[Role.OWNER], name="Bare one")


def test_a_template_name_is_unique_including_the_built_in_names(tenant):
    engagement = create(tenant)
    owner = tenant.members[Role.OWNER]

    with tenant.scope():
        save_engagement_as_template(engagement=engagement, membership=owner, name="Ours")
        for name in ("Ours", "Fixed-fee managed learning service"):
            with pytest.raises(ValidationError, match="already a template"):
                save_engagement_as_template(engagement=engagement, membership=owner, name=name)
        assert EngagementTemplate.objects.count() == 1


def test_another_organizations_template_cannot_be_chosen(tenant, tenant_b):
    content = BUILT_IN_TEMPLATES["per-learner-delivery"].content.to_json()
    with tenant_b.scope():
        theirs = EngagementTemplate.objects.create(organization=tenant_b.organization, name="Theirs", content=content)

    with tenant.scope(), pytest.raises(ValidationError, match="Choose one of the templates"):
        chosen_template(str(theirs.pk))
