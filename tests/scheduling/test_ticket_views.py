"""The ticket pages: the conversation of both sides, status and assignee controls by role, the list's status,
assignee and last activity, and a refused post that shows the stored ticket with the errors."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from mls.enums import Role
from scheduling import services
from scheduling.enums import TicketStatus
from scheduling.models import SupportTicket, TicketReply
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.integration

OPENED = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 09:00 in London (BST)


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


@pytest.fixture
def ticket(tenant_a):
    with tenant_a.scope():
        engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
        return services.log_ticket(
            engagement=engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            category="technical",
            subject="Cannot join the virtual classroom",
            opened_at=OPENED,
        )


def test_both_sides_reply_and_the_page_shows_the_thread_oldest_first_in_the_organizations_time(
    client, tenant_a, ticket, time_machine
):
    url = org_url(tenant_a, "scheduling:ticket_reply", pk=ticket.pk)
    time_machine.move_to(datetime(2026, 7, 1, 9, 15, tzinfo=UTC), tick=False)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    client.post(url, {"body": "The learner's session starts at noon."})
    time_machine.move_to(datetime(2026, 7, 1, 10, 30, tzinfo=UTC), tick=False)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    answered = client.post(url, {"body": "A new joining link is on its way."}, follow=True)

    page = answered.content.decode()
    with tenant_a.scope():
        ticket.refresh_from_db()
    assert "Reply posted." in page
    assert [(r.side, r.body) for r in answered.context["replies"]] == [
        ("client", "The learner's session starts at noon."),
        ("provider", "A new joining link is on its way."),
    ]
    assert page.index("starts at noon") < page.index("joining link")
    # 09:15Z and 10:30Z in London
    assert ("1 Jul 2026 10:15 BST" in page, "1 Jul 2026 11:30 BST" in page) == (True, True)
    assert (ticket.first_response_at, ticket.status) == (
        datetime(2026, 7, 1, 10, 30, tzinfo=UTC),
        TicketStatus.WAITING_ON_CLIENT,
    )


def test_a_blank_reply_is_a_field_error_and_writes_nothing(client, tenant_a, ticket):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "scheduling:ticket_reply", pk=ticket.pk), {"body": ""})

    assert response.status_code == 400
    assert list(response.context["reply_form"].errors) == ["body"]
    with tenant_a.scope():
        assert TicketReply.objects.count() == 0


def test_refused_response_times_show_the_stored_values_beside_the_errors(client, tenant_a, ticket):
    """The bug this fixes: the card showed the refused first response as if it had been saved."""
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant_a, "scheduling:ticket", pk=ticket.pk),
        {"first_response_at": "2026-07-01T07:59", "resolved_at": "2026-07-02T09:00"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "first_response_at": ["The first response cannot precede the ticket's opening."]
    }
    assert response.context["ticket"].first_response_at is None
    assert "<dt>First response</dt><dd>—</dd>" in page
    assert "<dt>Resolved</dt><dd>—</dd>" in page
    assert 'value="2026-07-01T07:59"' in page  # the user's input is kept in the form


def test_provider_resolves_and_the_client_closes_through_the_status_control(client, tenant_a, ticket, time_machine):
    time_machine.move_to(datetime(2026, 7, 1, 9, 0, tzinfo=UTC), tick=False)
    with tenant_a.scope():
        services.post_reply(ticket=ticket, membership=tenant_a.members[Role.PROVIDER_MANAGER], body="Fixed.")
    status_url = org_url(tenant_a, "scheduling:ticket_status", pk=ticket.pk)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))
    too_early = client.post(status_url, {"status": "closed"})
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    resolved = client.post(status_url, {"status": "resolved"}, follow=True)
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))

    closed = client.post(status_url, {"status": "closed"}, follow=True)

    with tenant_a.scope():
        ticket.refresh_from_db()
    assert too_early.status_code == 400
    assert too_early.context["status_form"].errors == {
        "status": ["A ticket that is waiting on client cannot be set to that status."]
    }
    assert "Ticket resolved." in resolved.content.decode()
    assert "Ticket closed." in closed.content.decode()
    assert (ticket.status, ticket.resolved_at) == (TicketStatus.CLOSED, datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    assert closed.context["status_form"] is None  # nothing follows closed
    assert "Post reply" not in closed.content.decode()


def test_assigning_names_the_member_on_the_page(client, tenant_a, ticket):
    director = tenant_a.members[Role.LD_DIRECTOR]
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant_a, "scheduling:ticket_assign", pk=ticket.pk), {"assignee": director.pk}, follow=True
    )

    with tenant_a.scope():
        ticket.refresh_from_db()
    assert ticket.assignee == director
    assert f"Assigned to {director.user}." in response.content.decode()


def test_viewer_reads_the_conversation_and_is_offered_no_control(client, tenant_a, ticket):
    with tenant_a.scope():
        services.post_reply(
            ticket=ticket, membership=tenant_a.members[Role.PROVIDER_MANAGER], body="On it.", now=OPENED
        )
    client.force_login(tenant_a.user(Role.VIEWER))

    page = client.get(org_url(tenant_a, "scheduling:ticket", pk=ticket.pk))
    refused = client.post(org_url(tenant_a, "scheduling:ticket_reply", pk=ticket.pk), {"body": "Me too"})

    html = page.content.decode()
    assert "On it." in html
    controls = [
        org_url(tenant_a, name, pk=ticket.pk)
        for name in ("scheduling:ticket_reply", "scheduling:ticket_status", "scheduling:ticket_assign")
    ]
    assert [control in html for control in controls] == [False, False, False]
    assert (page.context["status_form"], page.context["form"]) == (None, None)
    assert refused.status_code == 403
    with tenant_a.scope():
        assert TicketReply.objects.count() == 1


def test_another_providers_manager_and_another_tenant_get_404(client, tenant_a, tenant_b, ticket):
    tenant_a.with_second_provider()
    client.force_login(tenant_a.other.manager.user)
    other_provider = client.post(org_url(tenant_a, "scheduling:ticket_reply", pk=ticket.pk), {"body": "Hi"})
    client.force_login(tenant_b.user(Role.OWNER))

    foreign = client.post(org_url(tenant_b, "scheduling:ticket_reply", pk=ticket.pk), {"body": "Hi"})

    assert (other_provider.status_code, foreign.status_code) == (404, 404)
    with tenant_a.scope():
        assert TicketReply.objects.count() == 0


def test_list_shows_status_assignee_and_last_activity_and_filters_by_status(client, tenant_a, ticket):
    with tenant_a.scope():
        quiet = SupportTicket.objects.create(
            organization=tenant_a.organization,
            engagement=ticket.engagement,
            category="other",
            subject="Certificate name",
            opened_at=datetime(2026, 7, 2, 8, 0, tzinfo=UTC),
        )
        services.post_reply(
            ticket=ticket,
            membership=tenant_a.members[Role.LD_DIRECTOR],
            body="Any news?",
            now=datetime(2026, 7, 3, 8, 0, tzinfo=UTC),
        )
        services.assign_ticket(
            ticket=ticket, membership=tenant_a.members[Role.LD_DIRECTOR], assignee=tenant_a.members[Role.OWNER]
        )
    client.force_login(tenant_a.user(Role.VIEWER))

    everything = client.get(org_url(tenant_a, "scheduling:tickets"))
    waiting = client.get(org_url(tenant_a, "scheduling:tickets"), {"status": "waiting_on_provider"})
    unresolved = client.get(org_url(tenant_a, "scheduling:tickets"), {"status": "unresolved"})

    rows = [(t.subject, t.status, t.last_activity_at) for t in everything.context["page"].object_list]
    # The reply on 3 July is the latest activity; the quiet ticket's is its opening on 2 July.
    assert rows == [
        ("Cannot join the virtual classroom", TicketStatus.WAITING_ON_PROVIDER, datetime(2026, 7, 3, 8, 0, tzinfo=UTC)),
        ("Certificate name", TicketStatus.OPEN, quiet.opened_at),
    ]
    assert [t.pk for t in waiting.context["page"].object_list] == [ticket.pk]
    assert [t.pk for t in unresolved.context["page"].object_list] == [ticket.pk, quiet.pk]
    html = everything.content.decode()
    assert ("Waiting on provider" in html, tenant_a.user(Role.OWNER).email in html) == (True, True)


@pytest.mark.parametrize("count", [1, 3])
def test_ticket_page_query_count_does_not_grow_with_replies(client, tenant_a, ticket, django_assert_num_queries, count):
    with tenant_a.scope():
        for n in range(count):
            services.post_reply(
                ticket=ticket,
                membership=tenant_a.members[Role.PROVIDER_MANAGER if n % 2 else Role.LD_DIRECTOR],
                body=f"Message {n}",
                now=OPENED,
            )
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread, ticket, thread (a viewer may neither
    # record times nor answer, which costs no query).
    with django_assert_num_queries(8):
        response = client.get(org_url(tenant_a, "scheduling:ticket", pk=ticket.pk))

    assert len(response.context["replies"]) == count
