"""Outcome measure pages: the values per month, submitting one with evidence, and the other side's verification or
rejection; bad input stays on the form and writes nothing; the statement says why a gain share is not charged."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from engagements import services
from engagements.enums import LineBasis
from engagements.models import OutcomeMeasurement
from mls.enums import Role
from mls.models import AuditEvent
from tests.factories.engagements import EngagementFactory, SowFactory, outcome_based_version

pytestmark = pytest.mark.integration

EVIDENCE = "https://reports.example/ftf-2026-03"


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def signed_outcome_line(tenant):
    sow = SowFactory(engagement=EngagementFactory(organization=tenant.organization, provider=tenant.provider))
    with tenant.scope():
        version = services.sign_version(version=outcome_based_version(sow), actor=tenant.user(Role.PROCUREMENT))
        return version.service_lines.get(basis=LineBasis.GAIN_SHARE)


@pytest.fixture
def line(tenant_a):
    return signed_outcome_line(tenant_a)


def submitted(tenant, line, month=date(2026, 3, 1), value="80", role=Role.PROVIDER_MANAGER):
    with tenant.scope():
        return services.submit_outcome_measurement(
            service_line=line, membership=tenant.members[role], month=month, value=Decimal(value), evidence=EVIDENCE
        )


def counts(tenant):
    with tenant.scope():
        return OutcomeMeasurement.objects.count(), AuditEvent.objects.count()


def test_provider_submits_a_value_with_evidence_from_the_page(client, tenant_a, line):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    url = org_url(tenant_a, "engagements:outcome_create", pk=line.version.sow.engagement_id)

    form = client.get(url)
    response = client.post(
        url, {"service_line": line.pk, "month": "2026-03", "value": "80.00", "evidence": EVIDENCE}, follow=True
    )

    with tenant_a.scope():
        measurement = OutcomeMeasurement.objects.get()
    assert [label for _, label in form.context["form"].fields["service_line"].choices][1:] == [
        f"{line.version.sow.reference} v1: First-time-fix gain share (target 70.00 + 5.00)"
    ]
    assert response.redirect_chain[-1][0] == org_url(tenant_a, "engagements:outcomes", pk=measurement.engagement_id)
    assert (measurement.month, measurement.value, measurement.submitted_side) == (
        date(2026, 3, 1),
        Decimal("80.00"),
        "provider",
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Outcome value submitted; the gain share counts it once the other side verifies it."
    ]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"month": "2026-13"}, {"month": ["Enter a valid date."]}),
        ({"value": "lots"}, {"value": ["Enter a number."]}),
        ({"evidence": ""}, {"evidence": ["This field is required."]}),
        ({"month": "2999-01"}, {"month": ["2999-01 has not begun: record its outcome once it is measured."]}),
    ],
)
def test_bad_input_stays_on_the_form_and_writes_nothing(client, tenant_a, line, data, errors):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    before = counts(tenant_a)
    valid = {"service_line": line.pk, "month": "2026-03", "value": "80", "evidence": EVIDENCE}

    response = client.post(
        org_url(tenant_a, "engagements:outcome_create", pk=line.version.sow.engagement_id), valid | data
    )

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert response.context["form"].data["evidence"] == (valid | data)["evidence"]  # the user's input is kept
    assert counts(tenant_a) == before


def test_another_organizations_line_is_not_a_choice(client, tenant_a, tenant_b, line):
    foreign = signed_outcome_line(tenant_b)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    before = counts(tenant_a), counts(tenant_b)

    response = client.post(
        org_url(tenant_a, "engagements:outcome_create", pk=line.version.sow.engagement_id),
        {"service_line": foreign.pk, "month": "2026-03", "value": "80", "evidence": EVIDENCE},
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "service_line": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert (counts(tenant_a), counts(tenant_b)) == before


def test_a_viewer_gets_no_form_and_no_buttons(client, tenant_a, line):
    submitted(tenant_a, line)
    client.force_login(tenant_a.user(Role.VIEWER))
    engagement_id = line.version.sow.engagement_id

    page = client.get(org_url(tenant_a, "engagements:outcomes", pk=engagement_id))
    form = client.get(org_url(tenant_a, "engagements:outcome_create", pk=engagement_id))

    assert (page.context["review_side"], form.status_code) == (None, 403)
    assert "Submit a value" not in page.content.decode()
    assert "Verify" not in page.content.decode()


def test_the_client_verifies_from_the_list(client, tenant_a, line):
    measurement = submitted(tenant_a, line)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    verify_url = org_url(tenant_a, "engagements:outcome_verify", pk=measurement.pk)

    page = client.get(org_url(tenant_a, "engagements:outcomes", pk=measurement.engagement_id)).content.decode()
    confirm = client.get(verify_url)
    client.post(verify_url)

    measurement.refresh_from_db()
    assert f'href="{verify_url}"' in page
    assert confirm.context["body"].startswith("80.00, submitted by the provider with this evidence")
    assert (measurement.status, measurement.reviewed_by) == ("verified", tenant_a.user(Role.LD_DIRECTOR))


def test_the_provider_cannot_verify_its_own_value(client, tenant_a, line):
    measurement = submitted(tenant_a, line)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "engagements:outcome_verify", pk=measurement.pk))

    measurement.refresh_from_db()
    assert (response.status_code, measurement.status) == (403, "submitted")


def test_the_provider_rejects_the_clients_value_with_a_reason(client, tenant_a, line):
    measurement = submitted(tenant_a, line, role=Role.PROCUREMENT)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    url = org_url(tenant_a, "engagements:outcome_reject", pk=measurement.pk)

    empty = client.post(url, {"reason": ""})
    client.post(url, {"reason": "March includes the outage week, excluded by the SoW"})

    measurement.refresh_from_db()
    assert (empty.status_code, empty.context["form"].errors) == (400, {"reason": ["This field is required."]})
    assert (measurement.status, measurement.rejection_reason) == (
        "rejected",
        "March includes the outage week, excluded by the SoW",
    )


def test_list_filters_by_month_and_explains_a_bad_month(client, tenant_a, line):
    march = submitted(tenant_a, line, date(2026, 3, 1))
    submitted(tenant_a, line, date(2026, 2, 1))
    client.force_login(tenant_a.user(Role.VIEWER))
    url = org_url(tenant_a, "engagements:outcomes", pk=march.engagement_id)

    filtered = client.get(url, {"month": "2026-03"})
    bad = client.get(url, {"month": "March"})

    assert list(filtered.context["page"].object_list) == [march]
    assert bad.context["month_error"] == "'March' is not a month; use YYYY-MM, e.g. 2026-09."
    assert len(bad.context["page"].object_list) == 2


def test_an_engagement_without_a_gain_share_line_offers_no_submit_button(client, tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    page = client.get(org_url(tenant_a, "engagements:outcomes", pk=engagement.pk))

    assert page.context["review_side"] == "provider"
    assert org_url(tenant_a, "engagements:outcome_create", pk=engagement.pk) not in page.content.decode()
    assert "This engagement has no signed gain-share line to record a value for." in page.content.decode()


def test_list_shows_only_the_engagements_own_values(client, tenant_a, line):
    other_line = signed_outcome_line(tenant_a)
    own = submitted(tenant_a, line)
    submitted(tenant_a, other_line)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(org_url(tenant_a, "engagements:outcomes", pk=own.engagement_id))

    assert list(response.context["page"].object_list) == [own]


@pytest.mark.parametrize("months", [1, 3])
def test_list_query_count_is_constant(client, tenant_a, line, months, django_assert_num_queries):
    for month in range(1, months + 1):
        submitted(tenant_a, line, date(2026, month, 1))
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    url = org_url(tenant_a, "engagements:outcomes", pk=line.version.sow.engagement_id)

    # session, user, organization, membership, switcher, unread notifications, engagement, whether it has a
    # gain-share line (the submit button), count, the page's rows
    with django_assert_num_queries(10):
        response = client.get(url)

    assert len(response.context["page"].object_list) == months


def test_statement_page_shows_why_the_gain_share_is_not_charged(client, tenant_a, line):
    submitted(tenant_a, line)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    page = client.get(org_url(tenant_a, "reporting:statement", pk=line.version.sow_id, month="2026-03"))

    assert "not charged: outcome 80 awaiting verification by the client (15 % of £10,000.00)" in page.content.decode()


@pytest.mark.parametrize(
    ("role", "offered"),
    [(Role.PROVIDER_MANAGER, True), (Role.LD_DIRECTOR, True), (Role.PROCUREMENT, True), (Role.VIEWER, False)],
)
def test_the_submit_button_is_offered_to_the_sides_that_report_outcomes(client, tenant_a, line, role, offered):
    """The page asks the service's check: a reporting side of an engagement with a gain-share line."""
    engagement_id = line.version.sow.engagement_id
    client.force_login(tenant_a.user(role))

    page = client.get(org_url(tenant_a, "engagements:outcomes", pk=engagement_id))

    submit_url = org_url(tenant_a, "engagements:outcome_create", pk=engagement_id)
    assert (f'href="{submit_url}"' in page.content.decode()) is offered
