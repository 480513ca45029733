"""The last resources of DESIGN.md §4: QBR revisions (with the PDF), monthly fee statements, webhook endpoints and
their delivery log. Commercial records stay client-side: a provider's token sees none. Endpoints are an owner's,
checked on save."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mls.enums import Role, WebhookDeliveryStatus
from mls.models import AuditEvent, WebhookEndpoint
from tests.factories import WebhookDeliveryFactory, WebhookEndpointFactory, api_token
from tests.factories.reporting import stored_qbr
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


@pytest.fixture
def engagement(tenant_a):
    engagement, _ = sla_engagement(tenant_a, monthly_fee="48250.00")
    return engagement


def test_qbrs_list_and_download_with_the_checksum(client, tenant_a, engagement):
    with tenant_a.scope():
        review = stored_qbr(engagement)
    token = api_token(tenant_a)

    listed = client.get("/api/v1/qbrs/", **auth(token)).json()["results"]
    pdf = client.get(f"/api/v1/qbrs/{review.pk}/pdf/", **auth(token))

    assert [(row["id"], row["sha256"]) for row in listed] == [(review.pk, review.sha256)]
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Content-SHA256"] == review.sha256
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_a_providers_token_sees_no_commercial_records(client, tenant_a, engagement):
    with tenant_a.scope():
        review = stored_qbr(engagement)
        sow = engagement.sows.get()
    token = api_token(tenant_a, provider=tenant_a.provider)

    assert client.get("/api/v1/qbrs/", **auth(token)).json()["results"] == []
    assert client.get(f"/api/v1/qbrs/{review.pk}/", **auth(token)).status_code == 404
    assert client.get(f"/api/v1/statements/?sow={sow.pk}&month=2026-03", **auth(token)).status_code == 404


def test_a_statement_itemizes_the_sows_lines_for_the_month(client, tenant_a, engagement):
    with tenant_a.scope():
        sow = engagement.sows.get()

    response = client.get(f"/api/v1/statements/?sow={sow.pk}&month=2026-03", **auth(api_token(tenant_a)))

    assert response.status_code == 200
    statement = response.json()
    assert (statement["sow"], statement["month"], statement["currency"]) == (sow.pk, "2026-03-01", "GBP")
    assert [(line["basis"], Decimal(line["amount"])) for line in statement["lines"]] == [("fixed", Decimal("48250.00"))]
    assert Decimal(statement["total"]) == Decimal("48250.00")
    assert statement["credits"] == []


@pytest.mark.parametrize("query", ["", "?sow=1", "?sow=x&month=2026-03", "?sow=1&month=March"])
def test_a_statement_needs_a_sow_and_a_month(client, tenant_a, query):
    response = client.get(f"/api/v1/statements/{query}", **auth(api_token(tenant_a)))

    assert response.status_code == 400
    assert set(response.json()) <= {"sow", "month"}


def test_an_owners_token_manages_webhook_endpoints_through_the_services(client, tenant_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    token = api_token(tenant_a)
    body = {"url": "https://93.184.215.14/mls", "events": ["breach.created"]}

    created = client.post("/api/v1/webhooks/", body, content_type="application/json", **auth(token))
    endpoint_id = created.json()["id"]
    paused = client.patch(
        f"/api/v1/webhooks/{endpoint_id}/", {"is_active": False}, content_type="application/json", **auth(token)
    )
    refused = client.post(
        "/api/v1/webhooks/", {"url": "https://127.0.0.1/x"}, content_type="application/json", **auth(token)
    )
    unknown_event = client.post(
        "/api/v1/webhooks/", {**body, "events": ["everything"]}, content_type="application/json", **auth(token)
    )
    bad_item = client.post(
        "/api/v1/webhooks/", {**body, "events": ["qbr.ready", "\x00"]}, content_type="application/json", **auth(token)
    )
    deleted = client.delete(f"/api/v1/webhooks/{endpoint_id}/", **auth(token))

    assert created.status_code == 201, created.json()
    assert created.json()["events"] == ["breach.created"]
    assert len(created.json()["secret"]) == 64
    assert (paused.status_code, paused.json()["is_active"], paused.json()["url"]) == (200, False, body["url"])
    assert refused.status_code == 400
    assert list(refused.json()) == ["url"]
    assert unknown_event.status_code == 400
    # An item's error is a message of the field, as the schema documents every error (schemathesis found DRF's
    # {"events": {"1": [...]}}).
    assert (bad_item.status_code, bad_item.json()) == (400, {"events": ["Item 1: Null characters are not allowed."]})
    assert deleted.status_code == 204
    with tenant_a.scope():
        assert not WebhookEndpoint.objects.exists()
        actions = list(AuditEvent.objects.filter(action__startswith="webhook.").values_list("action", flat=True))
    assert sorted(actions) == ["webhook.created", "webhook.deleted", "webhook.updated"]


@pytest.mark.parametrize(
    ("credential", "sees_secret"), [("read", False), ("read_write", True), ("owner session", True)]
)
def test_a_webhooks_signing_secret_is_shown_only_to_a_caller_that_may_write(client, tenant_a, credential, sees_secret):
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization)
    if credential == "owner session":
        client.force_login(tenant_a.user(Role.OWNER))
        headers = {"HTTP_X_MLS_ORGANIZATION": tenant_a.organization.slug}
    else:
        headers = auth(api_token(tenant_a, scope=credential))

    listed = client.get("/api/v1/webhooks/", **headers).json()["results"]
    detail = client.get(f"/api/v1/webhooks/{endpoint.pk}/", **headers).json()

    secret = endpoint.secret if sees_secret else None
    assert [(row["id"], row["url"], row["secret"]) for row in listed] == [(endpoint.pk, endpoint.url, secret)]
    assert (detail["url"], detail["secret"]) == (endpoint.url, secret)


def test_only_an_owners_token_sees_or_adds_endpoints(client, tenant_a):
    token = api_token(tenant_a, provider=tenant_a.provider)

    listed = client.get("/api/v1/webhooks/", **auth(token))
    added = client.post(
        "/api/v1/webhooks/", {"url": "https://93.184.215.14/mls"}, content_type="application/json", **auth(token)
    )

    assert listed.json()["results"] == []
    assert added.status_code == 403


NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_the_delivery_log_says_when_each_delivery_is_next_attempted(client, tenant_a, tenant_b, time_machine):
    time_machine.move_to(NOW, tick=False)
    retry_at = NOW + timedelta(minutes=5)
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization)
        waiting, due, delivered = (
            WebhookDeliveryFactory(organization=tenant_a.organization, endpoint=endpoint, **fields)
            for fields in (
                {"status": WebhookDeliveryStatus.RETRYING, "attempts": 2, "next_attempt_at": retry_at},
                {"locked_until": NOW + timedelta(minutes=2)},  # due now; its first message holds it
                {"status": WebhookDeliveryStatus.SUCCEEDED, "attempts": 1, "last_response_code": 200},
            )
        )
        WebhookDeliveryFactory(organization=tenant_a.organization)  # another endpoint's
    WebhookDeliveryFactory(organization=tenant_b.organization)  # another tenant's, whatever its id
    token = api_token(tenant_a)

    listed = client.get("/api/v1/webhook-deliveries/", {"endpoint": endpoint.pk}, **auth(token))
    retrying = client.get("/api/v1/webhook-deliveries/", {"status": "retrying"}, **auth(token))
    one = client.get(f"/api/v1/webhook-deliveries/{waiting.pk}/", **auth(token))

    assert [
        (row["id"], row["status"], row["attempts"], row["next_attempt_at"]) for row in listed.json()["results"]
    ] == [
        (waiting.pk, "retrying", 2, "2026-11-23T09:35:00Z"),
        (due.pk, "pending", 0, "2026-11-23T09:30:00Z"),
        (delivered.pk, "succeeded", 1, None),
    ]
    assert [row["id"] for row in retrying.json()["results"]] == [waiting.pk]
    assert "locked_until" not in one.json()
    assert (one.json()["endpoint"], one.json()["payload"]) == (endpoint.pk, waiting.payload)


def test_only_an_owners_token_reads_the_delivery_log(client, tenant_a):
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization)
    token = api_token(tenant_a, provider=tenant_a.provider)

    listed = client.get("/api/v1/webhook-deliveries/", **auth(token))
    one = client.get(f"/api/v1/webhook-deliveries/{delivery.pk}/", **auth(token))

    assert (listed.json()["results"], one.status_code) == ([], 404)


@pytest.mark.parametrize("count", [1, 3])
def test_delivery_log_queries_do_not_grow_with_rows(client, tenant_a, count, django_assert_num_queries):
    raw = api_token(tenant_a)
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization)
    WebhookDeliveryFactory.create_batch(count, organization=tenant_a.organization, endpoint=endpoint)

    # The caller (token, organization and owner in one), the token's first "last used", the page.
    with django_assert_num_queries(3):
        response = client.get("/api/v1/webhook-deliveries/", **auth(raw))

    assert len(response.json()["results"]) == count
