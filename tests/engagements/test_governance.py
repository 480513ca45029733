"""Governance meetings, tiered disputes, the red-flag review page and index series through services and pages."""

import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from weasyprint import HTML

from engagements import services
from engagements.enums import DisputeTier
from engagements.models import Dispute, IndexValue, MeetingAction
from mls.enums import Role
from tests.factories.engagements import signed_contract_with_proposal

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


@pytest.fixture
def contract(tenant_a):
    return signed_contract_with_proposal(tenant_a)


def test_dispute_climbs_the_ladder_with_dated_steps_and_closes(tenant_a, contract):
    director, provider = tenant_a.members[Role.LD_DIRECTOR], tenant_a.members[Role.PROVIDER_MANAGER]
    with tenant_a.scope():
        dispute = services.escalate_dispute(dispute=contract.dispute, membership=provider, note="No answer")
        dispute = services.escalate_dispute(dispute=dispute, membership=director, note="Sponsors deadlocked")
        with pytest.raises(ValidationError, match="cannot be escalated further"):
            services.escalate_dispute(dispute=dispute, membership=director, note="Again")
        dispute = services.close_dispute(dispute=dispute, membership=director, resolution="Mediator: credit 2,000")
        steps = list(dispute.steps.values_list("tier", "note"))

    assert (dispute.tier, dispute.resolution) == (DisputeTier.CLOSED, "Mediator: credit 2,000")
    assert steps == [
        ("account_management", "Credits missing."),
        ("executive_sponsor", "No answer"),
        ("mediation", "Sponsors deadlocked"),
        ("closed", "Mediator: credit 2,000"),
    ]


def test_dispute_executive_deadline_is_thirty_days_after_opening_in_local_time(tenant_a, contract):
    # 31 Mar 2026 23:30 UTC is already 1 April in London (BST): +30 days → 1 May 2026.
    with tenant_a.scope(), time_machine.travel(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), tick=False):
        dispute = services.open_dispute(
            engagement=contract.engagement,
            membership=tenant_a.members[Role.OWNER],
            title="Late reports",
            description="Q1 reports late.",
        )

    assert dispute.executive_due_on == date(2026, 5, 1)
    assert dispute.is_overdue_for_executives(date(2026, 5, 2)) is True
    assert dispute.is_overdue_for_executives(date(2026, 5, 1)) is False


def test_viewer_cannot_raise_a_dispute(client, tenant_a, contract):
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.post(
        org_url(tenant_a, "engagements:dispute_create", pk=contract.engagement.pk), {"title": "x", "description": "y"}
    )

    assert response.status_code == 403
    with tenant_a.scope():
        assert Dispute.objects.count() == 1


def test_escalating_without_a_note_shows_the_error(client, tenant_a, contract):
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    response = client.post(org_url(tenant_a, "engagements:dispute_escalate", pk=contract.dispute.pk), {"note": ""})

    assert response.status_code == 400
    assert list(response.context["escalate_form"].errors) == ["note"]
    contract.dispute.refresh_from_db()
    assert contract.dispute.tier == DisputeTier.ACCOUNT_MANAGEMENT


def test_meeting_minutes_and_actions_through_the_page(client, tenant_a, contract):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    meeting = contract.meeting

    client.post(org_url(tenant_a, "engagements:meeting_minutes", pk=meeting.pk), {"minutes": "Delivery rate 97 %."})
    bad = client.post(
        org_url(tenant_a, "engagements:meeting_action_add", pk=meeting.pk),
        {"description": "Fix", "owner_side": "provider", "owner_name": "Noah", "due_on": "not-a-date"},
    )
    client.post(org_url(tenant_a, "engagements:meeting_action_done", pk=contract.action.pk))

    meeting.refresh_from_db()
    assert meeting.minutes == "Delivery rate 97 %."
    assert meeting.held_at is not None
    assert bad.status_code == 400
    assert list(bad.context["action_form"].errors) == ["due_on"]
    with tenant_a.scope():
        action = MeetingAction.objects.get()
    assert action.description == "Send the February ticket log"
    assert action.done_at is not None


BAD_CLAUSE = "The Provider shall use best efforts to confirm sessions. Fees are a single monthly fee."


def test_contract_review_page_lists_flags_with_the_matching_text(client, tenant_a):
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    response = client.post(org_url(tenant_a, "engagements:contract_review"), {"text": BAD_CLAUSE})

    assert response.status_code == 200
    assert [finding.rule.key for finding in response.context["findings"]] == [
        "best_efforts",
        "no_data_export",
        "bundled_pricing",
        "sla_metric_count",
    ]
    assert b"<p>The Provider shall use best efforts to confirm sessions." in response.content


def test_contract_review_reads_an_uploaded_pdf(client, tenant_a):
    pdf = HTML(string=f"<p>{BAD_CLAUSE}</p>").write_pdf()  # a real PDF, read back by pdftotext
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "engagements:contract_review"),
        {"text": "", "document": SimpleUploadedFile("sow.pdf", pdf, content_type="application/pdf")},
    )

    assert response.status_code == 200
    assert [f.rule.key for f in response.context["findings"]][:1] == ["best_efforts"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "  "}, "Paste the contract text or upload a file."),
        ({"document": SimpleUploadedFile("sow.docx", b"x")}, "Upload a .txt or .pdf file."),
        ({"document": SimpleUploadedFile("sow.pdf", b"not a pdf")}, "The file is not a readable PDF"),
    ],
)
def test_contract_review_bad_input_explains_itself(client, tenant_a, data, message):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(org_url(tenant_a, "engagements:contract_review"), data)

    assert response.status_code == 400
    assert message in " ".join(str(e) for errors in response.context["form"].errors.values() for e in errors)


def test_index_value_is_entered_by_procurement_and_refused_to_viewers(client, tenant_a, contract):
    url = org_url(tenant_a, "engagements:index_series_detail", pk=contract.index_series.pk)
    client.force_login(tenant_a.user(Role.VIEWER))
    refused = client.post(url, {"month": "2026-02", "value": "139.2"})
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    saved = client.post(url, {"month": "2026-02", "value": "139.2"})
    corrected = client.post(url, {"month": "2026-02", "value": "139.3"})
    invalid = client.post(url, {"month": "2026-02", "value": "0"})

    assert (refused.status_code, saved.status_code, corrected.status_code, invalid.status_code) == (403, 302, 302, 400)
    with tenant_a.scope():
        assert list(IndexValue.objects.values_list("month", "value")) == [(date(2026, 2, 1), Decimal("139.3000"))]


def test_pdftotext_is_installed_for_the_review_tool():
    assert subprocess.run(["pdftotext", "-v"], capture_output=True, check=False).returncode == 0  # noqa: S607


def test_meeting_and_dispute_writes_say_on_the_next_page_what_was_saved(client, tenant_a, contract):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    meeting, dispute = contract.meeting, contract.dispute

    minutes = client.post(
        org_url(tenant_a, "engagements:meeting_minutes", pk=meeting.pk), {"minutes": "Delivery rate 97 %."}, follow=True
    )
    escalated = client.post(
        org_url(tenant_a, "engagements:dispute_escalate", pk=dispute.pk), {"note": "No answer in 10 days."}, follow=True
    )

    assert [str(message) for message in minutes.context["messages"]] == ["Minutes saved."]
    assert minutes.redirect_chain == [(org_url(tenant_a, "engagements:meeting", pk=meeting.pk), 302)]
    assert [str(message) for message in escalated.context["messages"]] == ["Dispute escalated to the next tier."]
