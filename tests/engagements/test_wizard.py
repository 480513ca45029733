"""The new-engagement wizard through the test client: each step validates its own input and keeps the earlier
steps' (signed), nothing is written before the last step, and then everything at once."""

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from engagements.models import Engagement, EngagementTemplate, GovernanceMeeting
from engagements.template_content import BUILT_IN_TEMPLATES
from mls.enums import Role
from mls.models import AuditEvent
from slas.models import SlaTarget
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.integration

BASICS = {"basics-template": "builtin:per-learner-delivery", "basics-start_date": "2027-01-01"}
MONEY = {"money-annual_value": "300000", "money-currency": "GBP", "money-forecast_learners": "500",
         "money-line0_bands": "200: 28.00\n500: 24.00\n*: 21.50"}  # fmt: skip


def url(tenant):
    return reverse("engagements:create", kwargs={"organization_slug": tenant.organization.slug})


def post(client, tenant, step, state, data, go="next"):
    return client.post(url(tenant), {"step": str(step), "state": state, "go": go, **data})


def state_of(response) -> str:
    return re.search(r'name="state" value="([^"]+)"', response.content.decode())[1]


def targets_data(response) -> dict[str, str]:
    """Step 3's fields as the page pre-fills them (every target kept)."""
    form = response.context["form"]
    data = {form.add_prefix(name): form[name].value() for name in form.fields}
    return {key: ("on" if value is True else str(value)) for key, value in data.items() if value not in (False, None)}


def walk_to_review(client, tenant, basics=BASICS):
    one = post(client, tenant, 1, "", {**basics, "basics-provider": tenant.provider.pk})
    two = post(client, tenant, 2, state_of(one), MONEY)
    return post(client, tenant, 3, state_of(two), targets_data(two))


@time_machine.travel("2026-12-01 09:00Z", tick=False)
def test_the_wizard_creates_the_engagement_sow_sla_and_meetings_from_a_template(client, tenant_a):
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    review = walk_to_review(client, tenant_a)
    created = post(client, tenant_a, 4, state_of(review), {}, go="create")

    with tenant_a.scope():
        engagement = Engagement.objects.get()
        version = engagement.sows.get().versions.get()
        targets = SlaTarget.objects.filter(schedule__engagement=engagement).order_by("metric")
        meetings = GovernanceMeeting.objects.filter(engagement=engagement).order_by("scheduled_for", "kind")
        assert created["Location"] == engagement.get_absolute_url()
        assert (engagement.name, engagement.end_date, engagement.annual_value) == (
            f"Training delivery – {tenant_a.provider.name}",  # blank name: the template's SoW title and provider
            date(2029, 12, 31),  # 36 months from 1 Jan 2027
            Decimal("300000.00"),
        )
        assert (version.status, version.pricing_model, version.forecast_learners, version.scope_items.count()) == (
            "draft",
            "per_learner",
            500,
            9,
        )
        assert [(b.up_to, b.rate) for b in version.service_lines.get().bands.all()] == [
            (200, Decimal("28.00")),
            (500, Decimal("24.00")),
            (None, Decimal("21.50")),
        ]
        assert [(t.metric, t.target, t.threshold, t.allocation_percent) for t in targets] == [
            ("completion_reporting_timeliness", Decimal("95.00"), 5, Decimal("10.00")),
            ("enrollment_processing", Decimal("95.00"), 2, Decimal("15.00")),
            ("instructor_rating", Decimal("4.20"), None, Decimal("15.00")),
            ("learner_satisfaction", Decimal("4.20"), None, Decimal("15.00")),
            ("session_delivery_rate", Decimal("98.00"), None, Decimal("25.00")),
            ("support_first_response", Decimal("90.00"), 8, Decimal("20.00")),
        ]
        # Monthly reviews on the 15th of Feb–Jul 2027, QBRs on the 20th after each of the first two quarters.
        assert [(m.kind, m.scheduled_for.date()) for m in meetings] == [
            ("monthly_operational_review", date(2027, 2, 15)),
            ("monthly_operational_review", date(2027, 3, 15)),
            ("monthly_operational_review", date(2027, 4, 15)),
            ("quarterly_business_review", date(2027, 4, 20)),
            ("monthly_operational_review", date(2027, 5, 15)),
            ("monthly_operational_review", date(2027, 6, 15)),
            ("monthly_operational_review", date(2027, 7, 15)),
            ("quarterly_business_review", date(2027, 7, 20)),
        ]
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"engagement.created", "sow.created", "sla_schedule.created", "meeting.scheduled"} <= actions


@pytest.mark.parametrize(
    ("step", "data", "field"),
    [
        (1, {"basics-template": "builtin:nope", "basics-start_date": "2027-01-01"}, "template"),
        (1, {**BASICS, "basics-end_date": "2026-12-31"}, "end_date"),
        (1, {"basics-template": "builtin:per-learner-delivery"}, "start_date"),
        (2, {**MONEY, "money-annual_value": "-5"}, "annual_value"),
        (2, {**MONEY, "money-line0_bands": "200: 28.00\n100: 30.00"}, "line0_bands"),
        (2, {**MONEY, "money-line0_bands": "two hundred"}, "line0_bands"),
        (3, {"slas-at_risk_percent": "150"}, "at_risk_percent"),
    ],
)
def test_a_step_with_bad_input_shows_its_errors_keeps_the_input_and_writes_nothing(client, tenant_a, step, data, field):
    client.force_login(tenant_a.user(Role.OWNER))
    state, prefilled = "", {"basics-provider": tenant_a.provider.pk}
    if step > 1:
        state, prefilled = state_of(post(client, tenant_a, 1, "", {**BASICS, **prefilled})), {}
    if step > 2:
        two = post(client, tenant_a, 2, state, MONEY)
        state, prefilled = state_of(two), targets_data(two)

    response = post(client, tenant_a, step, state, {**prefilled, **data})

    assert response.status_code == 400
    assert response.context["step"] == step
    assert list(response.context["form"].errors) == [field]
    with tenant_a.scope():
        assert (Engagement.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_a_target_outside_its_scale_is_an_error_on_its_row(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    one = post(client, tenant_a, 1, "", {**BASICS, "basics-provider": tenant_a.provider.pk})
    two = post(client, tenant_a, 2, state_of(one), MONEY)
    data = targets_data(two)
    rating = next(key for key, value in data.items() if key.endswith("_target") and value == "4.2")

    response = post(client, tenant_a, 3, state_of(two), {**data, rating: "7"})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        rating.removeprefix("slas-"): ["Between 1 and 5 for learner satisfaction."]
    }


def test_back_keeps_what_was_typed_and_the_allocation_total_follows_the_kept_targets(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    one = post(client, tenant_a, 1, "", {**BASICS, "basics-provider": tenant_a.provider.pk})
    two = post(client, tenant_a, 2, state_of(one), MONEY)
    data = targets_data(two)
    del data["slas-t0_include"]  # drop session delivery rate (25 %)

    back = post(client, tenant_a, 3, state_of(two), data, go="back")
    again = post(client, tenant_a, 2, state_of(back), MONEY)

    assert back.context["form"]["annual_value"].value() == "300000"
    assert again.context["form"].allocation_total() == Decimal("75")  # 20 + 15 + 10 + 15 + 15 (the 25 dropped)
    assert '<span id="allocation-total-value">75 %</span>' in again.content.decode()


def test_a_tampered_state_starts_the_wizard_again(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))

    response = post(client, tenant_a, 4, "forged", {}, go="create")

    assert response.context["step"] == 1
    with tenant_a.scope():
        assert Engagement.objects.count() == 0


def test_a_name_taken_at_the_last_step_sends_the_user_to_step_one_with_the_error(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    review = walk_to_review(client, tenant_a, {**BASICS, "basics-name": "Academy"})
    post(client, tenant_a, 4, state_of(review), {}, go="create")

    second = walk_to_review(client, tenant_a, {**BASICS, "basics-name": "Academy"})
    response = post(client, tenant_a, 4, state_of(second), {}, go="create")

    assert response.status_code == 400
    assert response.context["step"] == 1
    assert response.context["form"].errors == {
        "__all__": ["Engagement with this Organization and Name already exists."]
    }
    with tenant_a.scope():
        assert Engagement.objects.count() == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROVIDER_MANAGER])
def test_roles_without_contract_rights_cannot_open_the_wizard(client, tenant_a, role):
    client.force_login(tenant_a.user(role))

    response = client.get(url(tenant_a))

    assert response.status_code == 403


def test_the_wizard_offers_only_this_organizations_own_templates(client, tenant_a, tenant_b):
    content = next(iter(BUILT_IN_TEMPLATES.values())).content.to_json()
    with tenant_b.scope():
        foreign = EngagementTemplate.objects.create(organization=tenant_b.organization, name="Theirs", content=content)
    with tenant_a.scope():
        own = EngagementTemplate.objects.create(organization=tenant_a.organization, name="Ours", content=content)
    client.force_login(tenant_a.user(Role.OWNER))

    page = client.get(url(tenant_a))
    chosen_foreign = post(
        client, tenant_a, 1, "", {**BASICS, "basics-template": str(foreign.pk), "basics-provider": tenant_a.provider.pk}
    )

    assert [name for _, name in page.context["form"].fields["template"].choices] == [
        "Managed training delivery (per learner)",
        "Fixed-fee managed learning service",
        "Ours",
    ]
    assert str(own.pk) in dict(page.context["form"].fields["template"].choices)
    assert chosen_foreign.status_code == 400
    assert list(chosen_foreign.context["form"].errors) == ["template"]


def test_an_engagement_saved_as_a_template_from_its_page_is_offered_by_the_wizard(client, tenant_a):
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    post(client, tenant_a, 4, state_of(walk_to_review(client, tenant_a)), {}, go="create")
    with tenant_a.scope():
        engagement = Engagement.objects.get()
    save_url = reverse(
        "engagements:save_as_template", kwargs={"organization_slug": tenant_a.organization.slug, "pk": engagement.pk}
    )

    page = client.get(engagement.get_absolute_url()).content.decode()
    saved = client.post(save_url, {"name": "Our delivery contract"})
    offered = client.get(url(tenant_a)).context["form"].fields["template"].choices

    assert f'href="{save_url}"' in page
    assert saved["Location"] == engagement.get_absolute_url()
    assert [name for _, name in offered][-1] == "Our delivery contract"


def test_an_engagement_without_a_sow_offers_no_save_as_template(client, tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.OWNER))
    save_url = reverse(
        "engagements:save_as_template", kwargs={"organization_slug": tenant_a.organization.slug, "pk": engagement.pk}
    )

    page = client.get(engagement.get_absolute_url()).content.decode()
    refused = client.get(save_url, follow=True)

    assert save_url not in page
    assert [str(m) for m in refused.context["messages"]] == [
        "This engagement has no SoW yet: there is no scope or pricing to reuse."
    ]


def test_choosing_another_template_after_going_back_starts_its_steps_from_its_own_defaults(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    one = post(client, tenant_a, 1, "", {**BASICS, "basics-provider": tenant_a.provider.pk})
    back = post(client, tenant_a, 2, state_of(one), MONEY, go="back")
    fixed_fee = {**BASICS, "basics-template": "builtin:fixed-fee-managed-learning"}

    two = post(client, tenant_a, 1, state_of(back), {**fixed_fee, "basics-provider": tenant_a.provider.pk})

    assert list(two.context["form"].fields) == [
        "annual_value",
        "annual_budget",
        "currency",
        "forecast_learners",
        "line0_amount",  # the retainer's monthly fee, not the per-learner bands typed before
    ]
    assert two.context["form"]["annual_value"].value() is None
