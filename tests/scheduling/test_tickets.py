"""Support tickets as conversations: the first provider reply is the first response, whose turn it is, who may
write, and history loaded with recorded times (SPEC-SLA §3, support_first_response)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from engagements.enums import Side
from mls.enums import Role
from mls.models import AuditEvent, Notification
from scheduling import services
from scheduling.enums import TicketStatus
from scheduling.models import SupportTicket, TicketReply
from tests.factories import MembershipFactory
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.unit

OPENED = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return OPENED + timedelta(hours=n)


@pytest.fixture
def desk(tenant_a):
    """Tenant A's engagement with one ticket logged by its provider's manager at OPENED."""
    with tenant_a.scope():
        engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
        ticket = services.log_ticket(
            engagement=engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            category="technical",
            subject="Cannot join the virtual classroom",
            opened_at=OPENED,
        )
        yield tenant_a, ticket


def reply(tenant, ticket, role, at, body="Noted."):
    return services.post_reply(ticket=ticket, membership=tenant.members[role], body=body, now=at)


def stored(ticket):
    return SupportTicket.objects.get(pk=ticket.pk)


def test_first_provider_reply_sets_first_response_and_a_later_one_does_not_move_it(desk):
    tenant, ticket = desk

    first = reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(2))
    reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(5))

    ticket = stored(ticket)
    assert (first.side, first.created_at) == (Side.PROVIDER, hours(2))
    assert (ticket.first_response_at, ticket.status) == (hours(2), TicketStatus.WAITING_ON_CLIENT)


@pytest.mark.parametrize("role", [Role.OWNER, Role.LD_DIRECTOR, Role.PROCUREMENT])
def test_client_reply_is_not_a_first_response_and_hands_the_turn_to_the_provider(desk, role):
    tenant, ticket = desk

    written = reply(tenant, ticket, role, hours(1))

    ticket = stored(ticket)
    assert written.side == Side.CLIENT
    assert (ticket.first_response_at, ticket.status) == (None, TicketStatus.WAITING_ON_PROVIDER)


def test_a_client_reply_before_the_provider_answers_leaves_the_first_response_to_the_provider(desk):
    tenant, ticket = desk

    reply(tenant, ticket, Role.LD_DIRECTOR, hours(1))
    reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(3))

    assert stored(ticket).first_response_at == hours(3)
    assert list(TicketReply.objects.filter(ticket=ticket).values_list("side", "created_at")) == [
        (Side.CLIENT, hours(1)),
        (Side.PROVIDER, hours(3)),
    ]


def test_resolving_records_resolved_at_and_closing_ends_the_conversation(desk):
    tenant, ticket = desk
    provider, director = tenant.members[Role.PROVIDER_MANAGER], tenant.members[Role.LD_DIRECTOR]
    reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(1))

    resolved = services.set_ticket_status(ticket=ticket, membership=provider, status="resolved", now=hours(4))
    closed = services.set_ticket_status(ticket=resolved, membership=director, status="closed", now=hours(6))
    with pytest.raises(ValidationError) as refused:
        reply(tenant, closed, Role.LD_DIRECTOR, hours(7))

    assert (resolved.status, resolved.resolved_at) == (TicketStatus.RESOLVED, hours(4))
    assert (stored(ticket).status, stored(ticket).resolved_at) == (TicketStatus.CLOSED, hours(4))
    assert refused.value.message_dict == {"body": ["The ticket is closed: log a new ticket for a new question."]}


def test_a_client_reply_reopens_a_resolved_ticket_and_clears_its_resolution(desk):
    tenant, ticket = desk
    reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(1))
    services.set_ticket_status(
        ticket=ticket, membership=tenant.members[Role.PROVIDER_MANAGER], status="resolved", now=hours(2)
    )

    reply(tenant, ticket, Role.LD_DIRECTOR, hours(3), body="Still cannot join.")

    ticket = stored(ticket)
    assert (ticket.status, ticket.resolved_at, ticket.first_response_at) == (
        TicketStatus.WAITING_ON_PROVIDER,
        None,
        hours(1),
    )


@pytest.mark.parametrize(
    ("role", "status", "message"),
    [
        (Role.PROVIDER_MANAGER, "resolved", "Reply to the ticket before resolving it: it has no first response."),
        (Role.LD_DIRECTOR, "closed", "A ticket that is open cannot be set to that status."),
    ],
)
def test_status_changes_the_state_does_not_allow_are_refused(desk, role, status, message):
    tenant, ticket = desk

    with pytest.raises(ValidationError) as refused:
        services.set_ticket_status(ticket=ticket, membership=tenant.members[role], status=status, now=hours(1))

    assert refused.value.message_dict == {"status": [message]}
    assert stored(ticket).status == TicketStatus.OPEN


def test_only_the_provider_resolves_and_the_client_sees_no_resolve_choice(desk):
    tenant, ticket = desk
    reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(1))
    ticket = stored(ticket)

    with pytest.raises(ValidationError):
        services.set_ticket_status(
            ticket=ticket, membership=tenant.members[Role.LD_DIRECTOR], status="resolved", now=hours(2)
        )

    assert services.allowed_statuses(tenant.members[Role.LD_DIRECTOR], ticket) == []
    assert services.allowed_statuses(tenant.members[Role.PROVIDER_MANAGER], ticket) == [TicketStatus.RESOLVED]
    assert stored(ticket).resolved_at is None


def test_a_viewer_and_another_providers_manager_may_not_take_part(desk):
    tenant, ticket = desk
    viewer = tenant.members[Role.VIEWER]
    other_provider = MembershipFactory(organization=tenant.organization, role=Role.PROVIDER_MANAGER)

    for member in (viewer, other_provider):
        with pytest.raises(ValidationError):
            services.post_reply(ticket=ticket, membership=member, body="Hello", now=hours(1))
        with pytest.raises(ValidationError):
            services.assign_ticket(ticket=ticket, membership=member, assignee=None)

    assert TicketReply.objects.count() == 0
    assert services.allowed_statuses(viewer, ticket) == []


def test_assignee_is_a_member_who_may_answer_the_ticket(desk):
    tenant, ticket = desk
    provider = tenant.members[Role.PROVIDER_MANAGER]
    other_provider = MembershipFactory(organization=tenant.organization, role=Role.PROVIDER_MANAGER)

    assigned = services.assign_ticket(ticket=ticket, membership=provider, assignee=tenant.members[Role.LD_DIRECTOR])
    refused = []
    for member in (tenant.members[Role.VIEWER], other_provider):
        with pytest.raises(ValidationError) as error:
            services.assign_ticket(ticket=ticket, membership=provider, assignee=member)
        refused.append(list(error.value.message_dict))

    assert stored(ticket).assignee == assigned.assignee == tenant.members[Role.LD_DIRECTOR]
    assert refused == [["assignee"], ["assignee"]]
    event = AuditEvent.objects.filter(action="ticket.assigned").get()
    assert (event.before["assignee"], event.after["assignee"]) == (None, tenant.members[Role.LD_DIRECTOR].pk)


def test_a_reply_cannot_precede_the_tickets_opening_or_be_blank(desk):
    tenant, ticket = desk

    errors = []
    for at, body in ((hours(-1), "Early"), (hours(1), "   ")):
        with pytest.raises(ValidationError) as error:
            reply(tenant, ticket, Role.PROVIDER_MANAGER, at, body=body)
        errors.append(error.value.message_dict)

    assert errors == [
        {"body": ["The ticket opens later than now: a reply cannot precede it."]},
        {"body": ["Write a reply."]},
    ]
    assert stored(ticket).first_response_at is None


def test_reply_is_audited_with_its_author_and_side(desk):
    tenant, ticket = desk

    written = reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(2), body="Try the new link.")

    event = AuditEvent.objects.filter(action="ticket.replied").get()
    assert (event.object_id, event.actor, event.after["side"], event.after["body"]) == (
        str(written.pk),
        tenant.user(Role.PROVIDER_MANAGER),
        Side.PROVIDER,
        "Try the new link.",
    )
    update = AuditEvent.objects.filter(action="ticket.updated").get()
    assert (update.before["first_response_at"], update.after["status"]) == (None, TicketStatus.WAITING_ON_CLIENT)


def test_other_side_is_notified_the_providers_managers_when_nobody_there_has_the_ticket_yet(desk):
    tenant, ticket = desk
    other_provider = MembershipFactory(organization=tenant.organization, role=Role.PROVIDER_MANAGER)

    reply(tenant, ticket, Role.LD_DIRECTOR, hours(1), body="The learner is still waiting.")
    to_provider = list(Notification.objects.values_list("user", flat=True))
    reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(2))
    to_client = list(Notification.objects.exclude(user__in=to_provider).values_list("user", "title"))

    assert to_provider == [tenant.user(Role.PROVIDER_MANAGER).pk]  # not the other provider's manager
    assert other_provider.user_id not in to_provider
    assert to_client == [(tenant.user(Role.LD_DIRECTOR).pk, "Cannot join the virtual classroom: provider replied")]


# --- History: recorded times, and the reply that wins over them ---------------------------------------------


def test_recorded_first_response_counts_while_the_ticket_has_no_provider_reply(desk):
    tenant, ticket = desk
    provider = tenant.members[Role.PROVIDER_MANAGER]

    services.update_ticket_times(ticket=ticket, membership=provider, first_response_at=hours(3), resolved_at=None)

    ticket = stored(ticket)
    assert (ticket.first_response_at, ticket.status) == (hours(3), TicketStatus.WAITING_ON_CLIENT)


def test_the_first_provider_reply_wins_over_a_recorded_first_response(desk):
    tenant, ticket = desk
    provider = tenant.members[Role.PROVIDER_MANAGER]
    reply(tenant, ticket, Role.PROVIDER_MANAGER, hours(9))

    services.update_ticket_times(ticket=ticket, membership=provider, first_response_at=hours(1), resolved_at=hours(10))

    ticket = stored(ticket)
    assert (ticket.first_response_at, ticket.resolved_at, ticket.status) == (
        hours(9),
        hours(10),
        TicketStatus.RESOLVED,
    )


def test_refused_times_leave_the_callers_ticket_as_stored(desk):
    """The ticket page re-renders with the instance it passed: a refused value must not appear on it as saved."""
    tenant, ticket = desk

    with pytest.raises(ValidationError):
        services.update_ticket_times(
            ticket=ticket,
            membership=tenant.members[Role.PROVIDER_MANAGER],
            first_response_at=hours(-2),
            resolved_at=hours(4),
        )

    assert (ticket.first_response_at, ticket.resolved_at) == (None, None)
    assert (stored(ticket).first_response_at, stored(ticket).resolved_at) == (None, None)
