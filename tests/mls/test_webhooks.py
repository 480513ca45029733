"""Outbound webhooks: signing, target checks, backoff, fan-out from domain events, and delivery to a real receiver."""

import socket
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from mls import webhooks
from mls.enums import Role, WebhookDeliveryStatus
from mls.events import domain_event
from mls.models import AuditEvent, WebhookAttempt, WebhookDelivery
from mls.tasks import deliver_webhook_task
from scheduling.models import Course, Session
from scheduling.services import cancel_session
from slas.services import finalize_due_periods
from tests.conftest import in_process_worker
from tests.factories import WebhookDeliveryFactory, WebhookEndpointFactory
from tests.factories.engagements import signed_contract_with_proposal
from tests.factories.slas import sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.unit

SECRET = "0123456789abcdef" * 4
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
MARCH = date(2026, 3, 1)
SUPPORT_ONLY = {"support_first_response": {"target": Decimal("95"), "allocation_percent": Decimal("40")}}
MARCH_FINALIZED = datetime(2026, 4, 7, tzinfo=UTC)  # past March's grace days


# --- Signing ---------------------------------------------------------------------------------------------------


def test_signature_header_is_hmac_sha256_of_timestamp_dot_body():
    header = webhooks.signature_header(SECRET, 1795426200, b"{}")

    # hmac.new(SECRET.encode(), b"1795426200.{}", hashlib.sha256).hexdigest(), computed once by hand
    assert header == "t=1795426200,v1=dec0db64de6cd314de23e61e1224747c6325afbfa7060d68e5643e18b76b86fd"


@pytest.mark.parametrize(
    ("secret", "body", "age", "valid"),
    [
        (SECRET, b'{"a":1}', timedelta(0), True),
        (SECRET, b'{"a":1}', timedelta(minutes=5), True),
        (SECRET, b'{"a":1}', timedelta(minutes=5, seconds=1), False),  # replayed later
        (SECRET, b'{"a":2}', timedelta(0), False),  # body changed on the way
        ("f" * 64, b'{"a":1}', timedelta(0), False),  # signed with another secret
    ],
)
def test_verify_signature_checks_body_secret_and_freshness(secret, body, age, valid):
    header = webhooks.signature_header(secret, int(NOW.timestamp()), b'{"a":1}')

    assert webhooks.verify_signature(SECRET, header, body, NOW + age) is valid


@pytest.mark.parametrize("header", ["", "v1=abc", "t=soon,v1=abc", "t=1,t=2,v1=abc"])
def test_verify_signature_refuses_malformed_headers(header):
    assert webhooks.verify_signature(SECRET, header, b"{}", NOW) is False


# --- Target URLs -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata service
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the metadata service
        "https://[64:ff9b:1::a00:1]/hook",  # a local NAT64 prefix, whatever it embeds
        "https://[::127.0.0.1]/hook",  # IPv4-compatible
        "https://[::10.1.2.3]/hook",
        "https://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo, client 127.0.0.1
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://localhost:8443/hook",  # a name resolving to loopback
        "http://93.184.216.34/hook",  # public, but not https
        "ftp://93.184.216.34/hook",
    ],
)
def test_private_loopback_and_plain_http_targets_are_refused_in_production(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(ValidationError) as refusal:
        webhooks.resolve_target(url)

    assert list(refusal.value.message_dict) == ["url"]


def test_public_https_target_is_accepted_and_resolved(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    assert webhooks.resolve_target("https://93.184.216.34:8443/hook") == ["93.184.216.34"]


def test_nat64_of_a_public_address_is_accepted(settings):
    """NAT64 is how an IPv6-only network reaches IPv4: judged by the address it embeds (93.184.216.34)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    assert webhooks.resolve_target("https://[64:ff9b::5db8:d822]/hook") == ["64:ff9b::5db8:d822"]


def test_development_allowance_accepts_a_local_http_receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True

    assert set(webhooks.resolve_target("http://localhost:9000/hook")) <= {"127.0.0.1", "::1"}


# --- Backoff ---------------------------------------------------------------------------------------------------


def test_retry_delay_grows_fivefold_from_one_minute_then_gives_up():
    without_jitter = [webhooks.retry_delay(n, jitter=lambda: 0.0) for n in range(1, 7)]
    most_jitter = [webhooks.retry_delay(n, jitter=lambda: 1.0) for n in range(1, 6)]

    minutes = [timedelta(minutes=m) for m in (1, 5, 25, 125, 625)]
    assert without_jitter == [*minutes, None]  # the 6th failed attempt is the last
    assert most_jitter == [m * 1.1 for m in minutes]  # jitter adds at most 10 %


# --- Endpoints -------------------------------------------------------------------------------------------------


def test_create_endpoint_generates_a_secret_and_audits_without_it(tenant_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    owner = tenant_a.user(Role.OWNER)

    with tenant_a.scope():
        endpoint = webhooks.create_endpoint(
            organization=tenant_a.organization,
            actor=owner,
            url="https://93.184.216.34/hook",
            events=["credit.issued", "breach.created", "credit.issued"],
        )
        audit = AuditEvent.objects.get(action="webhook.created")

    assert endpoint.events == ["breach.created", "credit.issued"]
    assert len(bytes.fromhex(endpoint.secret)) == 32
    assert audit.after == {
        "url": "https://93.184.216.34/hook",
        "description": "",
        "events": ["breach.created", "credit.issued"],
        "is_active": True,
    }


def test_endpoint_with_unknown_event_is_refused_and_nothing_saved(tenant_a):
    with tenant_a.scope(), pytest.raises(ValidationError) as refusal:
        webhooks.create_endpoint(
            organization=tenant_a.organization, actor=None, url="https://93.184.216.34/", events=["breach.eaten"]
        )

    assert refusal.value.message_dict == {"events": ["Unknown events: breach.eaten."]}
    with tenant_a.scope():
        assert AuditEvent.objects.filter(action="webhook.created").count() == 0


def test_roll_secret_replaces_it_and_audits(tenant_a):
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization)
        old = endpoint.secret

        webhooks.roll_secret(endpoint=endpoint, actor=tenant_a.user(Role.OWNER))

        endpoint.refresh_from_db()
        assert endpoint.secret != old
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["webhook.secret_rolled"]


# --- Fan-out from domain events --------------------------------------------------------------------------------


def test_domain_event_creates_a_delivery_per_subscribed_active_endpoint(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    with tenant_a.scope():
        everything = WebhookEndpointFactory(organization=tenant_a.organization)
        breaches = WebhookEndpointFactory(organization=tenant_a.organization, events=["breach.created"])
        WebhookEndpointFactory(organization=tenant_a.organization, events=["session.cancelled"])
        WebhookEndpointFactory(organization=tenant_a.organization, is_active=False)
    with tenant_b.scope():
        WebhookEndpointFactory(organization=tenant_b.organization)  # another tenant's: must get nothing
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY)

    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        with django_capture_on_commit_callbacks() as callbacks:  # deliveries are created; none is sent yet
            finalize_due_periods(engagement=engagement, now=MARCH_FINALIZED)
        for callback in callbacks:
            callback()
        breach = AuditEvent.objects.get(action="breach.created")
        deliveries = {(d.endpoint_id, d.event) for d in WebhookDelivery.objects.all()}
        payload = WebhookDelivery.objects.get(endpoint=breaches).payload
    with tenant_b.scope():
        assert WebhookDelivery.objects.count() == 0

    assert {(endpoint, event) for endpoint, event in deliveries if endpoint == breaches.pk} == {
        (breaches.pk, "breach.created")
    }
    assert {event for endpoint, event in deliveries if endpoint == everything.pk} >= {
        "breach.created",
        "credit.issued",
    }
    assert {endpoint for endpoint, _ in deliveries} == {everything.pk, breaches.pk}
    assert payload == {
        "id": breach.pk,
        "event": "breach.created",
        "created_at": breach.at.isoformat(),
        "organization": "acme",
        "data": {
            "object_type": "slas.breach",
            "object_id": breach.object_id,
            "engagement": engagement.pk,
            "period": "2026-03",
            "metric": "support_first_response",
            **{key: breach.after[key] for key in ("value", "target")},
        },
    }


def test_a_failing_subscriber_does_not_keep_the_transactions_other_events_from_their_webhooks(
    tenant_a, django_capture_on_commit_callbacks, caplog
):
    """Finalizing March announces a breach, its credit and an escalation after one commit. An in-process
    subscriber (another integration) that raises is logged; the next event's hook still runs (each is robust)."""

    def broken_subscriber(sender: object, **kwargs: object) -> None:
        raise RuntimeError("subscriber is down")

    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization)
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY)
    domain_event.connect(broken_subscriber, dispatch_uid="test.broken")
    try:
        with tenant_a.scope():
            deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
            with django_capture_on_commit_callbacks(execute=True):
                finalize_due_periods(engagement=engagement, now=MARCH_FINALIZED)
            delivered = sorted(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event", flat=True))
    finally:
        domain_event.disconnect(dispatch_uid="test.broken")

    assert delivered == ["breach.created", "credit.issued", "escalation.created"]
    assert [r.exc_info[1].args for r in caplog.records if r.exc_info] == [("subscriber is down",)] * 3


def _cancel_through_the_page(client, tenant, receiver, course_title: str, time_machine):
    """A session with an enrolled learner and a subscribed endpoint, cancelled on its page by the provider the day
    before it (a session that has ended is not news to its learners)."""
    contract = signed_contract_with_proposal(tenant)
    with tenant.scope():
        endpoint = WebhookEndpointFactory(
            organization=tenant.organization, url=receiver.url, events=["session.cancelled"]
        )
        Course.objects.filter(pk=contract.session.course_id).update(title=course_title)
    receiver.secret = endpoint.secret
    time_machine.move_to(contract.session.starts_at - timedelta(days=1), tick=False)
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    url = reverse(
        "scheduling:session_cancel", kwargs={"organization_slug": tenant.organization.slug, "pk": contract.session.pk}
    )
    return client.post(url, {"cancelled_by": "client", "reason": "Trainer ill"})


@pytest.mark.django_db(transaction=True)  # commits for real, so the hooks run inside the request
def test_a_line_break_in_a_course_title_leaves_one_subject_line_and_the_webhook_is_delivered(
    client, tenant_a, receiver, time_machine
):
    response = _cancel_through_the_page(client, tenant_a, receiver, "Leading teams\r\nBcc: spy@evil.test", time_machine)

    assert response.status_code == 302
    assert [(m.subject, m.to, m.message()["Bcc"]) for m in mail.outbox] == [
        ("Cancelled: Leading teams Bcc: spy@evil.test on 02 Mar 2026", ["ada@acme.example"], None)
    ]
    assert [(r.payload["event"], r.signature_valid) for r in receiver.requests] == [("session.cancelled", True)]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_mail_server_does_not_fail_the_cancellation_or_its_webhook(
    client, tenant_a, receiver, settings, time_machine
):
    with socket.socket() as probe:  # a port nothing listens on: the SMTP connection is refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2

    response = _cancel_through_the_page(client, tenant_a, receiver, "Leading teams", time_machine)

    assert response.status_code == 302
    with tenant_a.scope():
        assert Session.objects.get(status="cancelled").cancellation_reason == "Trainer ill"
    assert [(r.payload["event"], r.signature_valid) for r in receiver.requests] == [("session.cancelled", True)]


def test_cancelled_session_is_announced_to_webhooks(tenant_a, django_capture_on_commit_callbacks):
    contract = signed_contract_with_proposal(tenant_a)
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization, events=["session.cancelled"])
        with django_capture_on_commit_callbacks() as callbacks:
            cancel_session(
                session=contract.session,
                membership=tenant_a.members[Role.OWNER],
                cancelled_by="client",
                reason="Trainer ill",
            )
        for callback in callbacks:
            callback()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    assert delivery.event == "session.cancelled"
    assert delivery.payload["data"]["object_id"] == str(contract.session.pk)
    assert (delivery.payload["data"]["status"], delivery.payload["data"]["cancellation_reason"]) == (
        "cancelled",
        "Trainer ill",
    )


# --- Delivery to a real receiver (the acceptance test of issue 8) ----------------------------------------------


def test_receiver_verifies_the_signature_and_gets_the_retry_after_a_500(
    tenant_a, receiver, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(NOW, tick=False)
    receiver.statuses = [500, 200]
    with tenant_a.scope():
        endpoint = webhooks.create_endpoint(
            organization=tenant_a.organization, actor=None, url=receiver.url, events=["breach.created"]
        )
    receiver.secret = endpoint.secret
    engagement, _ = sla_engagement(tenant_a, targets=SUPPORT_ONLY)

    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=frozenset({"support_first_response"}))
        # Commit → domain event → delivery → its first attempt (eager Celery runs it at once): the receiver says 500.
        with django_capture_on_commit_callbacks(execute=True):
            finalize_due_periods(engagement=engagement, now=MARCH_FINALIZED)
        first = WebhookAttempt.objects.get()
        # No countdown: the row waits until its retry is due, and the minute's sweep hands it to a worker.
        time_machine.move_to(first.next_attempt_at, tick=False)
        webhooks.sweep_due_deliveries()
        delivery = WebhookDelivery.objects.get()
        attempts = list(WebhookAttempt.objects.filter(delivery=delivery))
        breach = AuditEvent.objects.get(action="breach.created")

    assert [r.signature_valid for r in receiver.requests] == [True, True]
    assert [r.headers["MLS-Delivery"] for r in receiver.requests] == [str(delivery.pk)] * 2
    assert [r.headers["MLS-Event"] for r in receiver.requests] == ["breach.created"] * 2
    assert [r.payload["id"] for r in receiver.requests] == [breach.pk] * 2
    assert [(a.number, a.response_code) for a in attempts] == [(1, 500), (2, 200)]
    assert attempts[0].response_excerpt == "receiver says no"
    # The first failure scheduled the retry 1 minute (+ up to 10 % jitter) later; the success scheduled nothing.
    assert (attempts[0].at, attempts[1].at) == (NOW, attempts[0].next_attempt_at)
    assert timedelta(minutes=1) <= attempts[0].next_attempt_at - attempts[0].at <= timedelta(minutes=1.1)
    assert attempts[1].next_attempt_at is None
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        WebhookDeliveryStatus.SUCCEEDED,
        2,
        200,
    )
    assert (delivery.delivered_at, delivery.next_attempt_at, delivery.locked_until) == (attempts[1].at, None, None)


def test_delivery_gives_up_after_the_last_attempt(tenant_a, receiver, time_machine):
    time_machine.move_to(NOW, tick=False)
    receiver.statuses = [503]
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization, endpoint__url=receiver.url)

    deliver_webhook_task.delay(organization_id=tenant_a.organization.pk, delivery_id=delivery.pk, attempt=1)
    with tenant_a.scope():
        for _ in range(webhooks.MAX_ATTEMPTS - 1):  # each retry is made by the sweep once it is due
            delivery.refresh_from_db()
            time_machine.move_to(delivery.next_attempt_at, tick=False)
            webhooks.sweep_due_deliveries()
        time_machine.move_to(NOW + timedelta(days=30), tick=False)
        swept_later = webhooks.sweep_due_deliveries()
        delivery.refresh_from_db()
        attempts = list(WebhookAttempt.objects.values_list("number", "response_code"))

    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    assert attempts == [(n, 503) for n in range(1, webhooks.MAX_ATTEMPTS + 1)]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        WebhookDeliveryStatus.FAILED,
        webhooks.MAX_ATTEMPTS,
        None,
    )
    assert swept_later == []  # a failed delivery is never due again


def test_duplicate_task_for_the_same_attempt_sends_nothing(tenant_a, receiver):
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization, endpoint__url=receiver.url)
    task = {"organization_id": tenant_a.organization.pk, "delivery_id": delivery.pk, "attempt": 1}

    deliver_webhook_task.delay(**task)
    deliver_webhook_task.delay(**task)  # e.g. the broker redelivered the message

    with tenant_a.scope():
        delivery.refresh_from_db()
        assert WebhookAttempt.objects.count() == 1
    assert len(receiver.requests) == 1
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED


def test_target_is_checked_again_at_delivery_time(tenant_a, receiver, settings):
    """A URL accepted earlier (or a name that now resolves to loopback) is not contacted in production."""
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization, endpoint__url=receiver.url)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    with tenant_a.scope():
        attempt = webhooks.attempt_delivery(delivery_id=delivery.pk, attempt=1)
        delivery.refresh_from_db()

    assert receiver.requests == []
    assert (attempt.response_code, attempt.error) == (None, "Use an https:// URL.")
    assert delivery.status == WebhookDeliveryStatus.RETRYING
    assert delivery.next_attempt_at == attempt.next_attempt_at > attempt.at


def test_unreachable_receiver_is_logged_as_an_error_and_retried(tenant_a, receiver):
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization, endpoint__url="http://127.0.0.1:9/")

        webhooks.attempt_delivery(delivery_id=delivery.pk, attempt=1)

        attempt = WebhookAttempt.objects.get()
        delivery.refresh_from_db()
    assert attempt.response_code is None
    assert attempt.error.startswith("ConnectionRefusedError")
    assert delivery.status == WebhookDeliveryStatus.RETRYING


def test_https_delivery_checks_the_certificate_against_the_host_name(
    tenant_a, https_receiver, localhost_certificate, monkeypatch
):
    """The connection goes to the checked address, yet TLS still verifies the certificate for the URL's host."""
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization, endpoint__url=https_receiver.url)

        # The self-signed certificate is not trusted, then it is.
        first = webhooks.attempt_delivery(delivery_id=delivery.pk, attempt=1)
        monkeypatch.setenv("SSL_CERT_FILE", str(localhost_certificate))
        webhooks.attempt_delivery(delivery_id=delivery.pk, attempt=2, now=first.next_attempt_at)

        attempts = list(WebhookAttempt.objects.values_list("response_code", "error"))
    assert attempts[0][0] is None
    assert attempts[0][1].startswith("SSLCertVerificationError")
    assert attempts[1] == (200, "")
    assert len(https_receiver.requests) == 1


def test_redeliver_sends_the_same_payload_as_a_new_delivery(tenant_a, receiver, django_capture_on_commit_callbacks):
    with tenant_a.scope():
        first = WebhookDeliveryFactory(
            organization=tenant_a.organization, endpoint__url=receiver.url, status=WebhookDeliveryStatus.FAILED
        )
    receiver.secret = first.endpoint.secret

    with tenant_a.scope(), django_capture_on_commit_callbacks(execute=True):
        again = webhooks.redeliver(delivery=first, actor=tenant_a.user(Role.OWNER))

    with tenant_a.scope():
        again.refresh_from_db()
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["webhook.redelivered", "breach.created"]
    assert again.pk != first.pk
    assert (again.status, again.audit_event_id) == (WebhookDeliveryStatus.SUCCEEDED, first.audit_event_id)
    assert [(r.headers["MLS-Delivery"], r.payload, r.signature_valid) for r in receiver.requests] == [
        (str(again.pk), first.payload, True)
    ]


def test_paused_endpoint_refuses_ping_and_redelivery(tenant_a):
    with tenant_a.scope():
        delivery = WebhookDeliveryFactory(organization=tenant_a.organization, endpoint__is_active=False)

        with pytest.raises(ValidationError, match="paused"):
            webhooks.send_ping(endpoint=delivery.endpoint, actor=None)
        with pytest.raises(ValidationError, match="paused"):
            webhooks.redeliver(delivery=delivery, actor=None)

        assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_ping_is_delivered_by_a_real_worker_over_redis(tenant_a, receiver, worker_queue):
    with tenant_a.scope():
        endpoint = WebhookEndpointFactory(organization=tenant_a.organization, url=receiver.url)
    receiver.secret = endpoint.secret

    with in_process_worker(worker_queue):
        with tenant_a.scope():
            delivery = webhooks.send_ping(endpoint=endpoint, actor=tenant_a.user(Role.OWNER))
        deadline = time.monotonic() + 20
        while delivery.status != WebhookDeliveryStatus.SUCCEEDED and time.monotonic() < deadline:
            time.sleep(0.1)
            with tenant_a.scope():
                delivery.refresh_from_db()

    assert [(r.headers["MLS-Event"], r.signature_valid) for r in receiver.requests] == [("ping", True)]
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("succeeded", 1, 200)
