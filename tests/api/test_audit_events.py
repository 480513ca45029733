"""The credential on every audit event: a write made with an API token names the token (a provider-restricted one
with its provider), whichever path writes the event (one INSERT with its rows, a batch in a transaction, a service,
xAPI); a member's write names the member only. The `audit-events` resource reads the log, filtered by credential."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from mls.audit import audit_event, writing_with_token
from mls.enums import Role
from mls.models import ApiToken, AuditEvent
from mls.services import api_token_hash
from scheduling.imports import SHEETS
from scheduling.models import Learner
from tests.factories import AuditEventFactory, api_token
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, LearnerFactory
from tests.factories.slas import enrollment, session

pytestmark = pytest.mark.integration

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
URL = "/api/v1/audit-events/"


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def example(kind: str, **changes: str) -> dict[str, str]:
    return {**dict(zip(SHEETS[kind].all_columns, SHEETS[kind].example, strict=True)), **changes}


def token_named(tenant, raw: str) -> ApiToken:
    with tenant.scope():
        return ApiToken.objects.select_related("provider").get(secret_hash=api_token_hash(raw))


@pytest.fixture
def delivery(tenant_a):
    engagement = EngagementFactory(
        organization=tenant_a.organization, provider=tenant_a.provider, name="Managed learning 2026"
    )
    CourseFactory(organization=tenant_a.organization, code="C001")
    LearnerFactory(organization=tenant_a.organization, external_id="L-1001")
    return engagement


def events_since(tenant, last_id: int) -> list[AuditEvent]:
    with tenant.scope():
        return list(AuditEvent.objects.filter(pk__gt=last_id).select_related("token").order_by("id"))


def last_event_id(tenant) -> int:
    with tenant.scope():
        return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_every_audit_event_of_a_provider_tokens_writes_names_the_token_and_its_provider(client, tenant_a, delivery):
    raw = api_token(tenant_a, provider=tenant_a.provider)
    token = token_named(tenant_a, raw)
    with tenant_a.scope():
        learner = Learner.objects.get()
        seated = enrollment(session(delivery, starts_at=MARCH), MARCH, learner_=learner)
    since = last_event_id(tenant_a)

    statuses = [
        # New rows with their event in one INSERT.
        client.post("/api/v1/sessions/", example("sessions"), content_type="application/json", **auth(raw)),
        client.post("/api/v1/tickets/", example("tickets"), content_type="application/json", **auth(raw)),
        # An update, written in a transaction with its event.
        client.post(
            "/api/v1/tickets/bulk/",
            [example("tickets", first_response_at="2026-03-02T10:00:00+00:00")],
            content_type="application/json",
            **auth(raw),
        ),
        # Through the register's service.
        client.post(
            "/api/v1/attendance/",
            {"enrollment": seated.pk, "present": True},
            content_type="application/json",
            **auth(raw),
        ),
    ]

    assert [response.status_code for response in statuses] == [201, 201, 200, 201]
    events = events_since(tenant_a, since)
    assert [event.action for event in events] == [
        "import.sessions",
        "import.tickets",
        "import.tickets",
        "attendance.recorded",
    ]
    assert {(event.token_id, event.token.provider_id) for event in events} == {(token.pk, tenant_a.provider.pk)}
    # The token acts as a provider manager; the events also keep the owner who answers for it.
    assert {event.actor_id for event in events} == {tenant_a.user(Role.OWNER).pk}


def test_a_members_write_through_the_api_names_the_member_and_no_token(client, tenant_a, delivery):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    since = last_event_id(tenant_a)

    response = client.post(
        "/api/v1/tickets/", example("tickets"), content_type="application/json",
        HTTP_X_MLS_ORGANIZATION=tenant_a.organization.slug,
    )  # fmt: skip

    assert response.status_code == 201, response.content
    assert [(e.action, e.actor_id, e.token_id) for e in events_since(tenant_a, since)] == [
        ("import.tickets", tenant_a.user(Role.PROVIDER_MANAGER).pk, None)
    ]


def test_a_token_is_never_put_on_another_organizations_event(tenant_a, tenant_b):
    token = token_named(tenant_a, api_token(tenant_a))

    with tenant_b.scope(), writing_with_token(token):
        foreign = audit_event(organization=tenant_b.organization, actor=None, action="x.y", obj=tenant_b.organization)
    with tenant_a.scope(), writing_with_token(token):
        own = audit_event(organization=tenant_a.organization, actor=None, action="x.y", obj=tenant_a.organization)

    assert (foreign.token_id, own.token_id) == (None, token.pk)


# --- The audit log page ---------------------------------------------------------------------------------------


def audit_url(tenant) -> str:
    return reverse("org:audit_log", kwargs={"organization_slug": tenant.organization.slug})


@pytest.fixture
def both_credentials(tenant_a):
    """One event by a member, two made with a provider's token."""
    token = token_named(tenant_a, api_token(tenant_a, provider=tenant_a.provider))
    with tenant_a.scope():
        before = last_event_id(tenant_a)
        member = AuditEventFactory(organization=tenant_a.organization, action="ticket.logged")
        by_token = AuditEventFactory.create_batch(2, organization=tenant_a.organization, token=token)
    assert before  # the token's creation is audited too (by its owner, in the web app)
    return token, member, by_token


@pytest.mark.parametrize(
    ("credential", "expected"),
    [("token", "by_token"), ("member", "members"), ("", "all"), ("nonsense", "all")],
)
def test_audit_log_page_filters_by_credential(client, tenant_a, both_credentials, credential, expected):
    _token, member, by_token = both_credentials
    with tenant_a.scope():
        members = list(AuditEvent.objects.filter(token__isnull=True).values_list("id", flat=True))
    wanted = {
        "by_token": [e.pk for e in reversed(by_token)],
        "members": members,
        "all": [e.pk for e in reversed(by_token)] + members,
    }[expected]
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(audit_url(tenant_a), {"credential": credential})

    assert [event.pk for event in response.context["page"].object_list] == wanted
    assert member.pk in members


def test_audit_log_page_names_the_token_and_its_provider(client, tenant_a, both_credentials):
    token, _member, _by_token = both_credentials
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(audit_url(tenant_a), {"credential": "token"})

    assert f"via API token Integration (<code>{token.prefix}…</code>), restricted to Northwind Learning" in (
        response.content.decode()
    )


@pytest.mark.parametrize("count", [1, 3])
def test_audit_log_page_with_token_events_keeps_its_query_count(client, tenant_a, count, django_assert_num_queries):
    token = token_named(tenant_a, api_token(tenant_a, provider=tenant_a.provider))
    AuditEventFactory.create_batch(count, organization=tenant_a.organization, token=token)
    client.force_login(tenant_a.user(Role.VIEWER))

    # Queries: session, user, organization, membership, switcher, unread count, count, page (with the tokens and
    # their providers), object types.
    with django_assert_num_queries(9):
        response = client.get(audit_url(tenant_a), {"credential": "token"})

    assert len(response.context["page"].object_list) == count


# --- The audit-events resource --------------------------------------------------------------------------------


def test_audit_events_resource_filters_by_credential_token_actor_action_and_object_type(
    client, tenant_a, tenant_b, both_credentials
):
    token, member, by_token = both_credentials
    AuditEventFactory(organization=tenant_b.organization, action="ticket.logged")  # another tenant's: never listed
    raw = api_token(tenant_a)

    def ids(**query: object) -> list[int]:
        response = client.get(URL, query, **auth(raw))
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    owner = tenant_a.user(Role.OWNER)
    with tenant_a.scope():
        token_creations = list(
            AuditEvent.objects.filter(action="api_token.created", actor=owner)
            .order_by("id")
            .values_list("id", flat=True)
        )
        by_members = list(AuditEvent.objects.filter(token=None).order_by("id").values_list("id", flat=True))

    assert ids(credential="token") == [e.pk for e in by_token]
    assert ids(token=token.pk) == [e.pk for e in by_token]
    assert ids(action="ticket.logged") == [member.pk]
    assert ids(object_type="mls.apitoken", actor=owner.pk) == token_creations
    assert len(token_creations) == 2  # the fixture's provider token and this test's owner token
    assert ids(credential="member") == by_members
    assert member.pk in by_members


def test_audit_event_reads_as_stored_with_its_token(client, tenant_a, both_credentials):
    token, _member, by_token = both_credentials

    response = client.get(f"{URL}{by_token[0].pk}/", **auth(api_token(tenant_a)))

    assert response.status_code == 200
    assert {key: response.json()[key] for key in ("id", "token", "action", "object_type")} == {
        "id": by_token[0].pk,
        "token": token.pk,
        "action": by_token[0].action,
        "object_type": by_token[0].object_type,
    }


@pytest.mark.parametrize(("role", "status"), [(Role.PROVIDER_MANAGER, 403), (Role.VIEWER, 200)])
def test_audit_events_are_read_by_the_roles_the_audit_log_page_allows(client, tenant_a, role, status):
    client.force_login(tenant_a.user(role))

    response = client.get(URL, HTTP_X_MLS_ORGANIZATION=tenant_a.organization.slug)

    assert response.status_code == status


def test_a_providers_token_cannot_read_the_audit_log(client, tenant_a):
    response = client.get(URL, **auth(api_token(tenant_a, provider=tenant_a.provider)))

    assert response.status_code == 403


@pytest.mark.parametrize("count", [1, 3])
def test_audit_events_list_queries_do_not_grow_with_rows(client, tenant_a, count, django_assert_num_queries):
    raw = api_token(tenant_a)
    AuditEventFactory.create_batch(count, organization=tenant_a.organization, action="ticket.logged")

    # The caller (token, organization and owner in one), the token's first "last used", the page.
    with django_assert_num_queries(3):
        response = client.get(URL, {"action": "ticket.logged"}, **auth(raw))

    assert len(response.json()["results"]) == count
