"""Contract pages through the test client: validation, visibility per role, signing and change requests."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from engagements import services
from engagements.enums import ChangeRequestStatus
from engagements.models import ChangeRequest, ServiceLine
from mls.enums import Role
from mls.models import AuditEvent
from tests.factories.engagements import EngagementFactory, signed_contract_with_proposal

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


VALID_ENGAGEMENT = {
    "name": "Acme learning operations",
    "engagement_model": "managed_services",
    "vendor_model": "master_service_provider",
    "status": "active",
    "start_date": "2026-01-01",
    "end_date": "2028-12-31",
    "currency": "GBP",
    "timezone": "Europe/London",
    "holiday_country": "GB",
    "holiday_subdivision": "ENG",
    "annual_value": "579000.00",
    "liability_cap_multiple": "1.50",
    "termination_notice_days": "90",
    "auto_renewal": "on",
    "renewal_notice_days": "60",
    "transition_period_days": "90",
    "cr_response_business_days": "10",
    "dispute_escalation_days": "30",
    "ip_terms": "bespoke_client_owned",
    "data_export_format": "csv_json",
    "data_export_days": "30",
}


def test_editing_msa_terms_audits_the_old_and_the_new_values(client, tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    client.post(
        org_url(tenant_a, "engagements:edit", pk=engagement.pk),
        {**VALID_ENGAGEMENT, "provider": tenant_a.provider.pk, "termination_notice_days": "60"},
    )

    with tenant_a.scope():
        event = AuditEvent.objects.get(action="engagement.updated")
    assert (event.before["termination_notice_days"], event.after["termination_notice_days"]) == (90, 60)


def test_editing_an_engagements_external_id_keeps_it_unique_in_the_organization(client, tenant_a, tenant_b):
    EngagementFactory(organization=tenant_b.organization, provider=tenant_b.provider, external_id="ERP-7")
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Ops", external_id="ERP-8")
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    url = org_url(tenant_a, "engagements:edit", pk=engagement.pk)
    body = {**VALID_ENGAGEMENT, "provider": tenant_a.provider.pk, "name": engagement.name}

    taken = client.post(url, {**body, "external_id": "ERP-8"})
    saved = client.post(url, {**body, "external_id": "ERP-7"})

    assert taken.status_code == 400
    assert taken.context["form"].errors == {"external_id": ["Engagement Ops already has external_id ERP-8."]}
    assert saved.status_code == 302
    engagement.refresh_from_db()
    assert engagement.external_id == "ERP-7"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2025-12-31"}, "end_date"),
        ({"termination_notice_days": "30"}, "termination_notice_days"),
        ({"renewal_notice_days": "120"}, "renewal_notice_days"),
        ({"transition_period_days": "200"}, "transition_period_days"),
        ({"annual_value": "-1"}, "annual_value"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
    ],
)
def test_editing_msa_terms_with_bad_input_shows_field_error_and_changes_nothing(client, tenant_a, change, field):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    body = {**VALID_ENGAGEMENT, "name": engagement.name, "provider": tenant_a.provider.pk, **change}

    response = client.post(org_url(tenant_a, "engagements:edit", pk=engagement.pk), body)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    with tenant_a.scope():
        assert AuditEvent.objects.filter(action="engagement.updated").count() == 0


def test_editing_msa_terms_refuses_provider_of_another_tenant(client, tenant_a, tenant_b):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.OWNER))
    body = {**VALID_ENGAGEMENT, "name": engagement.name, "provider": tenant_b.provider.pk}

    response = client.post(org_url(tenant_a, "engagements:edit", pk=engagement.pk), body)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["provider"]


def test_provider_manager_sees_only_their_providers_engagements(client, tenant_a):
    own = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Ours")
    other_provider = type(tenant_a.provider).objects.create(organization=tenant_a.organization, name="Contoso")
    theirs = EngagementFactory(organization=tenant_a.organization, provider=other_provider, name="Theirs")
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    listed = client.get(org_url(tenant_a, "engagements:list"))
    hidden = client.get(org_url(tenant_a, "engagements:detail", pk=theirs.pk))

    assert [e.pk for e in listed.context["page"].object_list] == [own.pk]
    assert hidden.status_code == 404


def test_engagement_list_searches_sorts_and_paginates(client, tenant_a):
    for n in range(30):
        EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name=f"Programme {n:02}")
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Leadership academy")
    client.force_login(tenant_a.user(Role.VIEWER))

    found = client.get(org_url(tenant_a, "engagements:list"), {"q": "academy"})
    second_page = client.get(org_url(tenant_a, "engagements:list"), {"page": 2, "sort": "name"})

    assert [e.name for e in found.context["page"].object_list] == ["Leadership academy"]
    assert [e.name for e in second_page.context["page"].object_list] == [
        "Programme 24",
        "Programme 25",
        "Programme 26",
        "Programme 27",
        "Programme 28",
        "Programme 29",
    ]


@pytest.mark.parametrize("count", [1, 3])
def test_engagement_list_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    for _ in range(count):
        EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread count, count, page (with provider).
    with django_assert_num_queries(8):
        response = client.get(org_url(tenant_a, "engagements:list"))

    assert len(response.context["page"].object_list) == count


def test_signed_version_page_says_why_it_cannot_be_edited_and_offers_no_form(client, tenant_a):
    contract = signed_contract_with_proposal(tenant_a)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(org_url(tenant_a, "engagements:version", pk=contract.signed_version.pk))

    assert b"Signed versions never change: to amend it," in response.content
    assert response.context["editable"] is False
    assert response.context["line_form"] is None


def test_posting_to_a_signed_version_is_forbidden_and_changes_nothing(client, tenant_a):
    contract = signed_contract_with_proposal(tenant_a)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "engagements:service_line_add", pk=contract.signed_version.pk),
        {"name": "Sneaky", "basis": "fixed", "amount": "1.00"},
    )

    assert response.status_code == 403
    with tenant_a.scope():
        assert list(ServiceLine.objects.filter(version=contract.signed_version).values_list("name", flat=True)) == [
            "Learning operations retainer"
        ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Delivery", "basis": "per_learner", "bands": "100: 12\n50: 10\n*: 9"}, "bands", "increasing"),
        ({"name": "Delivery", "basis": "per_learner", "bands": "100 12"}, "bands", "Line 1"),
        ({"name": "Delivery", "basis": "fixed", "amount": "-10"}, "amount", "greater than or equal to 0"),
    ],
)
def test_service_line_bad_input_rerenders_version_with_error(client, tenant_a, data, field, message):
    contract = signed_contract_with_proposal(tenant_a)
    proposal = contract.change_request.proposed_version
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "engagements:service_line_add", pk=proposal.pk), data)

    assert response.status_code == 400
    assert message in " ".join(response.context["line_form"].errors[field])
    with tenant_a.scope():
        assert ServiceLine.objects.filter(version=proposal).count() == 1


def test_change_request_flow_through_the_pages(client, tenant_a):
    contract = signed_contract_with_proposal(tenant_a)
    cr = contract.change_request
    proposal_url = org_url(tenant_a, "engagements:version", pk=cr.proposed_version_id)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    client.post(
        org_url(tenant_a, "engagements:scope_item_save", pk=cr.proposed_version_id),
        {"service": "learner_support", "responsibility": "included", "notes": "08:00–18:00"},
    )
    client.post(org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action="submit"))

    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    page = client.get(proposal_url)
    client.post(org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action="approve"))
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    response = client.post(org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action="approve"))

    assert [(row.key, row.kind) for row in page.context["diff"].scope] == [("Learner support", "added")]
    assert response["Location"] == proposal_url
    with tenant_a.scope():
        cr = ChangeRequest.objects.select_related("proposed_version").get(pk=cr.pk)
        assert (cr.status, cr.proposed_version.status) == (ChangeRequestStatus.APPROVED, "signed")


def test_reject_without_reason_shows_error_and_keeps_request_open(client, tenant_a):
    contract = signed_contract_with_proposal(tenant_a)
    cr = contract.change_request
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    client.post(org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action="submit"))
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    response = client.post(
        org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action="reject"), {"reason": ""}, follow=True
    )

    assert [str(m) for m in response.context["messages"]][-1] == "Say why the change request is rejected."
    cr.refresh_from_db()
    assert cr.status == ChangeRequestStatus.SUBMITTED


def test_unknown_change_request_action_is_404(client, tenant_a):
    contract = signed_contract_with_proposal(tenant_a)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "engagements:change_request_action", pk=contract.change_request.pk, action="explode")
    )

    assert response.status_code == 404


def submitted_and_approved_by_provider(tenant):
    """The factory contract's draft change request, submitted and approved by its provider: it awaits the client."""
    contract = signed_contract_with_proposal(tenant)
    provider = tenant.members[Role.PROVIDER_MANAGER]
    with tenant.scope():
        services.submit_change_request(change_request=contract.change_request, membership=provider)
        return contract, services.approve_change_request(change_request=contract.change_request, membership=provider)


def test_approving_a_change_request_asks_first_and_says_it_signs_the_proposal(client, tenant_a):
    contract, cr = submitted_and_approved_by_provider(tenant_a)
    approve_url = org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action="approve")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    with tenant_a.scope():
        audited = AuditEvent.objects.count()

    question = client.get(approve_url)

    cr.refresh_from_db()
    assert question.status_code == 200
    assert question.context["title"] == "Approve CR-1 More support?"
    effective = cr.proposed_version.effective_from  # the first of next month, as the proposal copied it
    assert question.context["body"] == (
        f"The provider has approved already: with your approval {contract.sow.reference} v2 is signed and replaces "
        f"{contract.sow.reference} v1 from {effective.day} {effective:%b %Y}."
    )
    assert (question.context["error"], cr.status) == ("", ChangeRequestStatus.APPROVED_BY_PROVIDER)
    with tenant_a.scope():
        assert AuditEvent.objects.count() == audited  # asking wrote nothing

    answer = client.post(approve_url)

    cr.refresh_from_db()
    assert answer["Location"] == org_url(tenant_a, "engagements:version", pk=cr.proposed_version_id)
    assert (cr.status, cr.client_approved_by) == (ChangeRequestStatus.APPROVED, tenant_a.user(Role.LD_DIRECTOR))


def test_withdrawing_asks_first_and_tells_the_other_side_it_cannot(client, tenant_a):
    _contract, cr = submitted_and_approved_by_provider(tenant_a)
    withdraw_url = org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action="withdraw")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))  # the client: the provider proposed it

    question = client.get(withdraw_url)
    answer = client.post(withdraw_url)

    cr.refresh_from_db()
    assert question.context["error"] == "Only the proposing side can withdraw its change request."
    assert (answer.status_code, answer.context["error"]) == (400, question.context["error"])
    assert cr.status == ChangeRequestStatus.APPROVED_BY_PROVIDER


@pytest.mark.parametrize(
    ("role", "action", "withdrawn", "refusal"),
    [
        (Role.PROVIDER_MANAGER, "approve", False, "This change request is not awaiting the provider's approval."),
        (Role.LD_DIRECTOR, "approve", True, "This change request is already withdrawn."),
        (Role.PROVIDER_MANAGER, "withdraw", True, "This change request is already withdrawn."),
    ],
)
def test_the_question_says_beforehand_why_the_service_refuses(client, tenant_a, role, action, withdrawn, refusal):
    """The confirmation page asks the service's own check: what it says on GET is what the POST is refused with."""
    _contract, cr = submitted_and_approved_by_provider(tenant_a)
    if withdrawn:
        with tenant_a.scope():
            services.withdraw_change_request(change_request=cr, membership=tenant_a.members[Role.PROVIDER_MANAGER])
    url = org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action=action)
    client.force_login(tenant_a.user(role))
    with tenant_a.scope():
        audited = AuditEvent.objects.count()

    question = client.get(url)
    answer = client.post(url)

    assert (question.status_code, question.context["error"]) == (200, refusal)
    assert (answer.status_code, answer.context["error"]) == (400, refusal)
    assert f'<p class="form-error" role="alert">{escape(refusal)}</p>' in question.content.decode()
    with tenant_a.scope():
        assert AuditEvent.objects.count() == audited  # asking and the refused answer wrote nothing


@pytest.mark.parametrize(
    ("role", "action", "status"),
    [
        (Role.PROCUREMENT, "approve", 403),  # proposes, never approves
        (Role.VIEWER, "approve", 403),
        (Role.VIEWER, "withdraw", 403),
        (Role.LD_DIRECTOR, "submit", 405),  # submitting posts at once: no question to show
        (Role.LD_DIRECTOR, "reject", 405),  # rejecting posts its typed reason
    ],
)
def test_change_request_question_is_only_for_members_who_may_act(client, tenant_a, role, action, status):
    _contract, cr = submitted_and_approved_by_provider(tenant_a)
    client.force_login(tenant_a.user(role))

    response = client.get(org_url(tenant_a, "engagements:change_request_action", pk=cr.pk, action=action))

    assert response.status_code == status


def _text(html: str) -> str:
    """The page's words without tags, whitespace collapsed, to assert what a reader sees."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_change_request_diff_shows_the_fee_impact_per_month(client, tenant_a):
    contract = signed_contract_with_proposal(tenant_a)
    proposal = contract.change_request.proposed_version
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    client.post(
        org_url(tenant_a, "engagements:service_line_add", pk=proposal.pk),
        {"name": "Extended learner support", "basis": "fixed", "amount": "2160.00"},
    )

    page = _text(client.get(org_url(tenant_a, "engagements:version", pk=proposal.pk)).content.decode())

    assert "Service lines Added Extended learner support £2,160.00 a month Fee impact per month" in page
    # added line: nothing before, 2,160.00 a month after
    assert "Extended learner support Added — £2,160.00 +£2,160.00" in page
    # 48,250.00 + 2,160.00 = 50,410.00 a month
    assert "Monthly fee £48,250.00 £50,410.00 +£2,160.00" in page
