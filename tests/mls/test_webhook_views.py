"""Settings → Webhooks through the test client: endpoints, secret, ping, delivery log, redelivery."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from mls.enums import Role, WebhookDeliveryStatus
from mls.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


@pytest.fixture
def owner_client(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    return client


def test_create_endpoint_shows_its_page_with_the_secret(owner_client, tenant_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    response = owner_client.post(
        org_url(tenant_a, "org:webhook_create"),
        {"url": "https://93.184.216.34/mls", "description": "ERP", "events": ["credit.issued"], "is_active": "on"},
        follow=True,
    )

    with tenant_a.scope():
        endpoint = WebhookEndpoint.objects.get()
        actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert response.redirect_chain == [(org_url(tenant_a, "org:webhook", pk=endpoint.pk), 302)]
    assert (endpoint.url, endpoint.description, endpoint.events, endpoint.is_active) == (
        "https://93.184.216.34/mls",
        "ERP",
        ["credit.issued"],
        True,
    )
    assert f'<code id="webhook-secret">{endpoint.secret}</code>' in response.content.decode()
    assert actions == ["webhook.created"]


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("https://127.0.0.1/mls", "127.0.0.1 is a loopback, private or reserved address."),
        ("https://169.254.169.254/latest/", "169.254.169.254 is a loopback, private or reserved address."),
        ("http://93.184.216.34/mls", "Use an https:// URL."),
        ("not a url", "Enter a valid URL."),
    ],
)
def test_create_endpoint_with_refused_url_shows_the_error_and_saves_nothing(
    owner_client, tenant_a, settings, url, error
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    response = owner_client.post(org_url(tenant_a, "org:webhook_create"), {"url": url, "events": ["breach.created"]})

    assert response.status_code == 400
    assert response.context["form"].errors == {"url": [error]}
    assert 'value="breach.created" id="id_events_0" checked' in response.content.decode()  # input kept
    with tenant_a.scope():
        assert (WebhookEndpoint.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_edit_endpoint_changes_events_and_pauses_it(owner_client, tenant_a, receiver):
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization, url=receiver.url)

    response = owner_client.post(
        org_url(tenant_a, "org:webhook_edit", pk=endpoint.pk),
        {"url": receiver.url, "description": "", "events": ["session.cancelled", "qbr.ready"]},
    )

    endpoint.refresh_from_db()
    assert response["Location"] == org_url(tenant_a, "org:webhook", pk=endpoint.pk)
    assert (endpoint.events, endpoint.is_active) == (["qbr.ready", "session.cancelled"], False)
    with tenant_a.scope():
        audit = AuditEvent.objects.get()
    assert (audit.action, audit.before["events"], audit.after["is_active"]) == ("webhook.updated", [], False)


def test_send_ping_reaches_the_receiver_signed_and_is_logged(
    owner_client, tenant_a, receiver, django_capture_on_commit_callbacks
):
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization, url=receiver.url)
    receiver.secret = endpoint.secret

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(org_url(tenant_a, "org:webhook_ping", pk=endpoint.pk))
    response = owner_client.get(org_url(tenant_a, "org:webhook", pk=endpoint.pk))

    [received] = receiver.requests
    assert (received.headers["MLS-Event"], received.signature_valid) == ("ping", True)
    assert received.payload["data"]["object_id"] == str(endpoint.pk)
    [delivery] = response.context["page"].object_list
    assert (delivery.event, delivery.status, [a.response_code for a in delivery.attempt_log.all()]) == (
        "ping",
        WebhookDeliveryStatus.SUCCEEDED,
        [200],
    )
    assert "HTTP 200" in response.content.decode()


def test_redeliver_button_sends_a_fresh_delivery(owner_client, tenant_a, receiver, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        failed = WebhookDeliveryFactory(
            organization=tenant_a.organization, endpoint__url=receiver.url, status=WebhookDeliveryStatus.FAILED
        )

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(org_url(tenant_a, "org:webhook_redeliver", pk=failed.pk))
    response = owner_client.get(org_url(tenant_a, "org:webhook", pk=failed.endpoint_id))

    assert [d.status for d in response.context["page"].object_list] == [
        WebhookDeliveryStatus.SUCCEEDED,
        WebhookDeliveryStatus.FAILED,
    ]
    assert [r.payload for r in receiver.requests] == [failed.payload]


def test_ping_to_a_paused_endpoint_says_why_and_sends_nothing(owner_client, tenant_a, receiver):
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization, url=receiver.url, is_active=False)

    response = owner_client.post(org_url(tenant_a, "org:webhook_ping", pk=endpoint.pk), follow=True)

    assert [str(m) for m in response.context["messages"]] == ["This endpoint is paused: activate it first."]
    assert receiver.requests == []
    with tenant_a.scope():
        assert WebhookDelivery.objects.count() == 0


def test_roll_secret_asks_first_then_replaces_it(owner_client, tenant_a):
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization)
    old = endpoint.secret
    url = org_url(tenant_a, "org:webhook_roll_secret", pk=endpoint.pk)

    asked = owner_client.get(url)
    endpoint.refresh_from_db()
    assert (asked.context["action"], endpoint.secret) == ("Roll secret", old)

    owner_client.post(url)

    endpoint.refresh_from_db()
    assert endpoint.secret != old
    with tenant_a.scope():
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["webhook.secret_rolled"]


def test_delete_endpoint_after_confirmation_removes_it_and_its_log(owner_client, tenant_a):
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization)
    url = org_url(tenant_a, "org:webhook_delete", pk=delivery.endpoint_id)

    assert owner_client.get(url).context["action"] == "Delete endpoint"
    response = owner_client.post(url)

    assert response["Location"] == org_url(tenant_a, "org:webhooks")
    with tenant_a.scope():
        assert (WebhookEndpoint.objects.count(), WebhookDelivery.objects.count()) == (0, 0)
        assert AuditEvent.objects.get(action="webhook.deleted").object_id == str(delivery.endpoint_id)


@pytest.mark.parametrize("count", [1, 3])
def test_webhook_list_query_count_is_constant(owner_client, tenant_a, django_assert_num_queries, count):
    with tenant_a.scope():
        for _ in range(count):
            WebhookDeliveryFactory(organization=tenant_a.organization, status=WebhookDeliveryStatus.FAILED)

    # session, user, organization, membership, switcher, unread notifications, endpoints with failure counts
    with django_assert_num_queries(7):
        response = owner_client.get(org_url(tenant_a, "org:webhooks"))

    assert [e.failed_deliveries for e in response.context["endpoints"]] == [1] * count


@pytest.mark.parametrize("count", [1, 3])
def test_delivery_log_query_count_is_constant(owner_client, tenant_a, django_assert_num_queries, count):
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization)
        for _ in range(count):
            delivery = WebhookDeliveryFactory(organization=tenant_a.organization, endpoint=endpoint)
            for number, code in ((1, 500), (2, 200)):
                WebhookAttempt.objects.create(
                    organization=tenant_a.organization, delivery=delivery, number=number, response_code=code
                )

    # session, user, organization, membership, switcher, unread notifications, endpoint, delivery count, the
    # page of deliveries, their attempts
    with django_assert_num_queries(10):
        response = owner_client.get(org_url(tenant_a, "org:webhook", pk=endpoint.pk))

    assert response.content.decode().count("HTTP 500") == count


def test_the_delivery_log_says_when_the_next_attempt_is_due(owner_client, tenant_a, time_machine):
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization)
        for fields in (
            {"status": WebhookDeliveryStatus.RETRYING, "attempts": 1, "next_attempt_at": now + timedelta(minutes=25)},
            {"next_attempt_at": now - timedelta(minutes=3)},  # its message was lost: the sweep sends it
            {"status": WebhookDeliveryStatus.FAILED, "attempts": 6},
        ):
            WebhookDeliveryFactory(organization=tenant_a.organization, endpoint=endpoint, **fields)

    response = owner_client.get(org_url(tenant_a, "org:webhook", pk=endpoint.pk))

    notes = re.findall(r"<small>(next attempt|being sent, due since) <time[^>]*>([^<]*)</time></small>", response.text)
    assert sorted(notes) == [("being sent, due since", "23 Nov 09:27"), ("next attempt", "23 Nov 09:55")]
