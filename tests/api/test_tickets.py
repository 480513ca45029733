"""Ticket conversations over the API: replies through the same service as the page (the first provider reply is
the first response), status and assignee actions, 400 with field errors, and history upserts the reply wins over."""

from datetime import UTC, datetime

import pytest

from mls.enums import Role
from scheduling import services
from scheduling.enums import TicketStatus
from scheduling.models import SupportTicket, TicketReply
from tests.factories import api_token
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.integration

OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def post(client, url, body, raw):
    return client.post(url, body, content_type="application/json", **auth(raw))


@pytest.fixture
def ticket(tenant_a):
    with tenant_a.scope():
        engagement = EngagementFactory(
            organization=tenant_a.organization, provider=tenant_a.provider, external_id="MLS-2026"
        )
        ticket = services.log_ticket(
            engagement=engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            category="technical",
            subject="Cannot join",
            opened_at=OPENED,
        )
        SupportTicket.objects.filter(pk=ticket.pk).update(external_id="T-1")
        ticket.refresh_from_db()
        return ticket


@pytest.fixture
def provider_token(tenant_a):
    return api_token(tenant_a, provider=tenant_a.provider)


def test_providers_reply_is_the_first_response_and_the_ticket_says_so(
    client, tenant_a, ticket, provider_token, time_machine
):
    time_machine.move_to(NOW, tick=False)

    created = post(client, "/api/v1/ticket-replies/", {"ticket": ticket.pk, "body": "Try this link."}, provider_token)
    read = client.get(f"/api/v1/tickets/{ticket.pk}/", **auth(provider_token))

    assert created.status_code == 201
    body = created.json()
    assert (body["ticket"], body["side"], body["body"], body["created_at"]) == (
        ticket.pk,
        "provider",
        "Try this link.",
        "2026-03-02T11:30:00Z",
    )
    assert (read.json()["first_response_at"], read.json()["status"], read.json()["assignee"]) == (
        "2026-03-02T11:30:00Z",
        TicketStatus.WAITING_ON_CLIENT,
        None,
    )


def test_reply_bad_input_is_400_with_field_errors_and_writes_nothing(
    client, tenant_a, tenant_b, ticket, provider_token
):
    with tenant_b.scope():
        foreign = SupportTicket.objects.create(
            organization=tenant_b.organization,
            engagement=EngagementFactory(organization=tenant_b.organization, provider=tenant_b.provider),
            category="other",
            subject="Theirs",
            opened_at=OPENED,
        )

    blank = post(client, "/api/v1/ticket-replies/", {"ticket": ticket.pk, "body": ""}, provider_token)
    other_tenant = post(client, "/api/v1/ticket-replies/", {"ticket": foreign.pk, "body": "Hi"}, provider_token)

    assert (blank.status_code, list(blank.json())) == (400, ["body"])
    assert (other_tenant.status_code, list(other_tenant.json())) == (400, ["ticket"])
    with tenant_a.scope():
        assert TicketReply.objects.count() == 0
    with tenant_b.scope():
        assert TicketReply.objects.count() == 0


def test_read_token_may_not_reply(client, tenant_a, ticket):
    response = post(
        client, "/api/v1/ticket-replies/", {"ticket": ticket.pk, "body": "Hi"}, api_token(tenant_a, scope="read")
    )

    assert response.status_code == 403
    with tenant_a.scope():
        assert TicketReply.objects.count() == 0


def test_status_action_resolves_only_an_answered_ticket(client, tenant_a, ticket, provider_token, time_machine):
    time_machine.move_to(NOW, tick=False)
    url = f"/api/v1/tickets/{ticket.pk}/status/"

    unanswered = post(client, url, {"status": "resolved"}, provider_token)
    unknown = post(client, url, {"status": "waiting_on_client"}, provider_token)
    post(client, "/api/v1/ticket-replies/", {"ticket": ticket.pk, "body": "Done."}, provider_token)
    resolved = post(client, url, {"status": "resolved"}, provider_token)

    assert (unanswered.status_code, unanswered.json()) == (
        400,
        {"status": ["Reply to the ticket before resolving it: it has no first response."]},
    )
    assert (unknown.status_code, list(unknown.json())) == (400, ["status"])
    assert (resolved.status_code, resolved.json()["status"], resolved.json()["resolved_at"]) == (
        200,
        TicketStatus.RESOLVED,
        "2026-03-02T11:30:00Z",
    )


def test_assign_action_takes_a_member_who_answers_tickets(client, tenant_a, tenant_b, ticket, provider_token):
    url = f"/api/v1/tickets/{ticket.pk}/assign/"
    director = tenant_a.members[Role.LD_DIRECTOR]

    viewer = post(client, url, {"assignee": tenant_a.members[Role.VIEWER].pk}, provider_token)
    foreign = post(client, url, {"assignee": tenant_b.members[Role.LD_DIRECTOR].pk}, provider_token)
    assigned = post(client, url, {"assignee": director.pk}, provider_token)

    assert (viewer.status_code, list(viewer.json())) == (400, ["assignee"])
    assert (foreign.status_code, list(foreign.json())) == (400, ["assignee"])
    assert (assigned.status_code, assigned.json()["assignee"]) == (200, director.pk)


def test_a_history_upsert_keeps_the_first_provider_reply_as_the_first_response(
    client, tenant_a, ticket, provider_token, time_machine
):
    time_machine.move_to(NOW, tick=False)
    post(client, "/api/v1/ticket-replies/", {"ticket": ticket.pk, "body": "On it."}, provider_token)
    item = {
        "external_id": "T-1",
        "engagement_external_id": "MLS-2026",
        "category": "technical",
        "subject": "Cannot join",
        "opened_at": "2026-03-02T09:00:00+00:00",
        "first_response_at": "2026-03-02T09:05:00+00:00",
        "resolved_at": "2026-03-02T14:00:00+00:00",
    }

    response = post(client, "/api/v1/tickets/", item, provider_token)

    assert response.status_code == 200
    assert (response.json()["first_response_at"], response.json()["resolved_at"], response.json()["status"]) == (
        "2026-03-02T11:30:00Z",  # the reply's time, not the 09:05 the upsert recorded
        "2026-03-02T14:00:00Z",
        TicketStatus.RESOLVED,
    )


def test_a_history_upsert_without_replies_records_its_first_response(client, tenant_a, provider_token):
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, external_id="MLS-2026")
    item = {
        "external_id": "T-9",
        "engagement_external_id": "MLS-2026",
        "category": "technical",
        "subject": "Old ticket",
        "opened_at": "2026-03-02T09:00:00+00:00",
        "first_response_at": "2026-03-02T09:05:00+00:00",
    }

    response = post(client, "/api/v1/tickets/", item, provider_token)

    assert (response.status_code, response.json()["first_response_at"], response.json()["status"]) == (
        201,
        "2026-03-02T09:05:00Z",
        TicketStatus.WAITING_ON_CLIENT,
    )


@pytest.mark.parametrize("count", [1, 3])
def test_reply_list_query_count_is_constant(client, tenant_a, ticket, django_assert_num_queries, count):
    with tenant_a.scope():
        for n in range(count):
            services.post_reply(
                ticket=ticket, membership=tenant_a.members[Role.LD_DIRECTOR], body=f"Message {n}", now=NOW
            )
    raw = api_token(tenant_a)

    # Queries: token lookup, last-used update, page of replies (tickets and authors joined).
    with django_assert_num_queries(3):
        response = client.get("/api/v1/ticket-replies/", **auth(raw))

    assert [r["body"] for r in response.json()["results"]] == [f"Message {n}" for n in range(count)]


def test_reply_list_filters_by_ticket_and_updated_since(client, tenant_a, ticket, time_machine):
    with tenant_a.scope():
        other = services.log_ticket(
            engagement=ticket.engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            category="other",
            subject="Second",
            opened_at=OPENED,
        )
        time_machine.move_to(NOW, tick=False)
        services.post_reply(ticket=ticket, membership=tenant_a.members[Role.LD_DIRECTOR], body="First")
        time_machine.move_to(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False)
        services.post_reply(ticket=other, membership=tenant_a.members[Role.LD_DIRECTOR], body="Second")
    raw = api_token(tenant_a)

    since = client.get("/api/v1/ticket-replies/", {"updated_since": "2026-03-03T00:00:00Z"}, **auth(raw))
    of_ticket = client.get("/api/v1/ticket-replies/", {"ticket": ticket.pk}, **auth(raw))

    assert [r["body"] for r in since.json()["results"]] == ["Second"]
    assert [r["body"] for r in of_ticket.json()["results"]] == ["First"]
