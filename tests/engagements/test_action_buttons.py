"""The pages of a change request, a dispute and a meeting offer exactly the writes the service would accept from
this member now."""

import pytest
from django.urls import reverse

from engagements import services
from mls.enums import Role
from tests.factories.engagements import signed_contract_with_proposal

pytestmark = pytest.mark.integration

CR_ACTIONS = ("submit", "approve", "reject", "withdraw")


def shown_actions(client, tenant, cr) -> set[str]:
    """The change-request actions the CR's page links or posts to."""
    page = client.get(
        reverse(
            "engagements:version", kwargs={"organization_slug": tenant.organization.slug, "pk": cr.proposed_version_id}
        )
    )
    assert page.status_code == 200
    html = page.content.decode()
    return {
        action
        for action in CR_ACTIONS
        if reverse(
            "engagements:change_request_action",
            kwargs={"organization_slug": tenant.organization.slug, "pk": cr.pk, "action": action},
        )
        in html
    }


def provider_proposal(tenant, *, steps: tuple[tuple[str, str], ...]):
    """The factory contract's change request (proposed by the provider) after `steps` of (action, role)."""
    contract = signed_contract_with_proposal(tenant)
    cr = contract.change_request
    with tenant.scope():
        for action, role in steps:
            getattr(services, f"{action}_change_request")(change_request=cr, membership=tenant.members[role])
            cr.refresh_from_db()
    return cr


SUBMITTED = (("submit", Role.PROVIDER_MANAGER),)
PROVIDER_APPROVED = (*SUBMITTED, ("approve", Role.PROVIDER_MANAGER))
APPROVED = (*PROVIDER_APPROVED, ("approve", Role.LD_DIRECTOR))
WITHDRAWN = (*SUBMITTED, ("withdraw", Role.PROVIDER_MANAGER))


@pytest.mark.parametrize(
    ("steps", "role", "expected"),
    [
        ((), Role.PROVIDER_MANAGER, {"submit", "withdraw"}),  # the proposer's draft
        ((), Role.LD_DIRECTOR, set()),  # not yet submitted to the client
        (SUBMITTED, Role.PROVIDER_MANAGER, {"approve", "reject", "withdraw"}),
        (SUBMITTED, Role.LD_DIRECTOR, {"approve", "reject"}),  # the client never withdraws the provider's CR
        (PROVIDER_APPROVED, Role.PROVIDER_MANAGER, {"reject", "withdraw"}),  # it approved already
        (PROVIDER_APPROVED, Role.OWNER, {"approve", "reject"}),
        (PROVIDER_APPROVED, Role.PROCUREMENT, set()),  # proposes, never approves; not the proposing side
        (PROVIDER_APPROVED, Role.VIEWER, set()),
        (APPROVED, Role.PROVIDER_MANAGER, set()),
        (APPROVED, Role.LD_DIRECTOR, set()),
        (APPROVED, Role.OWNER, set()),
        (WITHDRAWN, Role.PROVIDER_MANAGER, set()),
        (WITHDRAWN, Role.LD_DIRECTOR, set()),
    ],
)
def test_change_request_page_offers_only_the_actions_the_service_accepts(client, tenant_a, steps, role, expected):
    cr = provider_proposal(tenant_a, steps=steps)
    client.force_login(tenant_a.user(role))

    shown = shown_actions(client, tenant_a, cr)

    assert shown == expected


@pytest.mark.parametrize(
    ("action", "button"), [("approve", 'class="button"'), ("withdraw", 'class="button button--danger"')]
)
def test_confirm_page_styles_the_button_by_its_consequence(client, tenant_a, action, button):
    cr = provider_proposal(tenant_a, steps=SUBMITTED)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    page = client.get(
        reverse(
            "engagements:change_request_action",
            kwargs={"organization_slug": tenant_a.organization.slug, "pk": cr.pk, "action": action},
        )
    )

    assert f'<button type="submit" {button}>{action.capitalize()}</button>' in page.content.decode()


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def dispute_after(tenant, escalations: int, *, closed: bool = False):
    """The factory contract's dispute (open at account management), escalated and perhaps closed by the director."""
    contract = signed_contract_with_proposal(tenant)
    director = tenant.members[Role.LD_DIRECTOR]
    dispute = contract.dispute
    with tenant.scope():
        for _ in range(escalations):
            dispute = services.escalate_dispute(dispute=dispute, membership=director, note="No answer")
        if closed:
            dispute = services.close_dispute(dispute=dispute, membership=director, resolution="Credited")
    return dispute


@pytest.mark.parametrize(
    ("escalations", "closed", "role", "expected"),
    [
        (0, False, Role.LD_DIRECTOR, {"escalate", "close"}),
        (0, False, Role.PROVIDER_MANAGER, {"escalate", "close"}),  # either side climbs the ladder
        (0, False, Role.VIEWER, set()),
        (2, False, Role.LD_DIRECTOR, {"close"}),  # at mediation: the top of the ladder
        (2, True, Role.LD_DIRECTOR, set()),
    ],
)
def test_dispute_page_offers_only_the_writes_the_service_accepts(client, tenant_a, escalations, closed, role, expected):
    dispute = dispute_after(tenant_a, escalations, closed=closed)
    client.force_login(tenant_a.user(role))

    html = client.get(org_url(tenant_a, "engagements:dispute", pk=dispute.pk)).content.decode()

    offered = {
        write
        for write in ("escalate", "close")
        if org_url(tenant_a, f"engagements:dispute_{write}", pk=dispute.pk) in html
    }
    assert offered == expected


@pytest.mark.parametrize(
    ("role", "done", "expected"),
    [
        (Role.LD_DIRECTOR, False, {"minutes", "action_add", "action_done"}),
        (Role.LD_DIRECTOR, True, {"minutes", "action_add"}),  # a done action is not marked done again
        (Role.PROVIDER_MANAGER, False, {"minutes", "action_add", "action_done"}),
        (Role.VIEWER, False, set()),
    ],
)
def test_meeting_page_offers_only_the_writes_the_service_accepts(client, tenant_a, role, done, expected):
    contract = signed_contract_with_proposal(tenant_a)
    if done:
        with tenant_a.scope():
            services.complete_meeting_action(action=contract.action, membership=tenant_a.members[Role.LD_DIRECTOR])
    client.force_login(tenant_a.user(role))

    html = client.get(org_url(tenant_a, "engagements:meeting", pk=contract.meeting.pk)).content.decode()

    writes = {
        "minutes": org_url(tenant_a, "engagements:meeting_minutes", pk=contract.meeting.pk),
        "action_add": org_url(tenant_a, "engagements:meeting_action_add", pk=contract.meeting.pk),
        "action_done": org_url(tenant_a, "engagements:meeting_action_done", pk=contract.action.pk),
    }
    assert {write for write, url in writes.items() if url in html} == expected
