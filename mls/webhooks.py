"""Outbound webhooks (DESIGN.md §4): the audit log's domain events, signed and POSTed to integrators' endpoints.

`mls.events.domain_event` (sent after the causing transaction commits) creates one delivery per subscribed
endpoint. The delivery row is the source of truth, not the broker (as pretix keeps `WebHookCallRetry` rows): it
says when the next attempt is due (`next_attempt_at`) and who is making it (the lease `locked_until`). The first
attempt is enqueued after commit; a failed attempt only moves `next_attempt_at` by the backoff, and the beat job
`sweep_due_deliveries` hands due rows to workers every minute, so a message lost with the broker, a worker that
died mid-attempt and a retry hours away all end up attempted once, from the row. Each request carries

    MLS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>

so a receiver can check it came from MLS and is fresh (`verify_signature` is the reference implementation).
Target URLs are checked when saved and again, after resolving the host, before every attempt: the connection
goes to the addresses that were checked, so a DNS answer that changes in between (rebinding) cannot redirect it.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import save_audited
from .celery import enqueue, enqueue_after_commit
from .enums import WebhookDeliveryStatus
from .models import (
    OPEN_DELIVERY_STATUSES,
    AuditEvent,
    Organization,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    new_webhook_secret,
)
from .tasks import deliver_webhook_task
from .tenancy import organization_scope

PING = "ping"  # sent by "Send test ping" to one endpoint; not a domain event, so nobody subscribes to it
TIMEOUT_SECONDS = 5
EXCERPT_CHARS = 1000
SIGNATURE_TOLERANCE = timedelta(minutes=5)

# Attempt n that fails is retried after FIRST_RETRY × 5^(n-1) (1, 5, 25, 125, 625 minutes) plus up to 10 % jitter,
# so many endpoints failing together do not come back in lockstep; after MAX_ATTEMPTS the delivery has failed.
FIRST_RETRY = timedelta(minutes=1)
BACKOFF_FACTOR = 5
MAX_ATTEMPTS = 6
JITTER = 0.1

# The message enqueued after commit holds a new delivery's first attempt this long; if it has not been made by
# then (the broker was down, the message was lost), the sweeper makes it.
FIRST_ATTEMPT_GRACE = timedelta(minutes=2)
# Whoever takes an attempt (a worker, or the sweeper for the message it enqueues) holds the delivery this long: far
# more than a queue wait plus one POST (5-second timeouts), so an expired lease means the attempt was lost.
LEASE = timedelta(minutes=10)
# Deliveries one organization's sweep hands out per minute; the rest wait for the next sweep.
SWEEP_BATCH = 200

logger = logging.getLogger(__name__)


# --- Signing ---------------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: datetime, tolerance: timedelta = SIGNATURE_TOLERANCE
) -> bool:
    """What a receiver does with `MLS-Signature`: the HMAC of the raw body matches and the timestamp is within
    `tolerance` of `now` (an old captured request replayed later fails)."""
    parts = [part.partition("=") for part in header.split(",")]
    timestamps = [value for key, _, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, _, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


# --- Target URLs -----------------------------------------------------------------------------------------------


# IPv6 ranges that carry an IPv4 address in their last 32 bits, which is where a connection ends up: NAT64's
# well-known prefix (RFC 6052) and the deprecated IPv4-compatible addresses (RFC 4291). Python counts both global.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# NAT64 prefixes of a local network (RFC 8215): whatever they translate to is inside it.
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches (mapped, NAT64, IPv4-compatible, 6to4 or a Teredo client)."""
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip in NAT64 or ip in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.teredo[1] if ip.teredo else None


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 link-local address may carry a %zone
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not _is_public(str(embedded)):
            return False
    # is_global is False for loopback, private, link-local, reserved, unspecified and shared (CGNAT) ranges.
    return ip.is_global and not ip.is_multicast


def resolve_target(url: str) -> list[str]:
    """The IP addresses to connect to for `url`, or a ValidationError saying why MLS will not send there."""
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not allow_private):
        raise ValidationError({"url": _("Use an https:// URL.")})
    if not parts.hostname:
        raise ValidationError({"url": _("The URL needs a host name.")})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        raise ValidationError(
            {"url": _("%(host)s cannot be resolved (%(error)s).") % {"host": parts.hostname, "error": error}}
        ) from error
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not allow_private and not all(_is_public(address) for address in addresses):
        raise ValidationError(
            {"url": _("%(host)s is a loopback, private or reserved address.") % {"host": parts.hostname}}
        )
    return addresses


# --- Endpoints (also the API's `webhooks` resource) ------------------------------------------------------------


def _save_endpoint(
    endpoint: WebhookEndpoint,
    *,
    actor: User | None,
    action: str,
    url: str,
    description: str,
    events: Iterable[str],
    is_active: bool,
) -> WebhookEndpoint:
    resolve_target(url)
    changes = {"url": url, "description": description, "events": sorted(set(events)), "is_active": is_active}
    return save_audited(endpoint, actor=actor, action=action, changes=changes)


@transaction.atomic
def create_endpoint(
    *,
    organization: Organization,
    actor: User | None,
    url: str,
    description: str = "",
    events: Iterable[str] = (),
    is_active: bool = True,
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret; `events` empty subscribes it to every event."""
    endpoint = WebhookEndpoint(organization=organization, created_by=actor)
    return _save_endpoint(
        endpoint,
        actor=actor,
        action="webhook.created",
        url=url,
        description=description,
        events=events,
        is_active=is_active,
    )


@transaction.atomic
def update_endpoint(
    *, endpoint: WebhookEndpoint, actor: User | None, url: str, description: str, events: Iterable[str], is_active: bool
) -> WebhookEndpoint:
    return _save_endpoint(
        endpoint,
        actor=actor,
        action="webhook.updated",
        url=url,
        description=description,
        events=events,
        is_active=is_active,
    )


@transaction.atomic
def delete_endpoint(*, endpoint: WebhookEndpoint, actor: User | None) -> None:
    """Removes the endpoint and its delivery log; the audit log keeps what it was."""
    endpoint.log_action("webhook.deleted", actor=actor, deleted=True)
    endpoint.delete()


@transaction.atomic
def roll_secret(*, endpoint: WebhookEndpoint, actor: User | None) -> WebhookEndpoint:
    """A new secret at once: the receiver must switch to it, since deliveries from now on are signed with it."""
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret"])
    endpoint.log_action("webhook.secret_rolled", actor=actor)
    return endpoint


# --- Deliveries ------------------------------------------------------------------------------------------------


def _payload(event: AuditEvent, name: str) -> dict[str, Any]:
    data = {"object_type": event.object_type, "object_id": event.object_id, **(event.after or event.before or {})}
    return {
        "id": event.pk,  # the same for a redelivery: receivers de-duplicate on it
        "event": name,
        "created_at": event.at.isoformat(),
        "organization": event.organization.slug,
        "data": data,
    }


def _enqueue_first_attempt(delivery: WebhookDelivery) -> None:
    """After commit, a message that may make attempt 1 while it holds the delivery's first lease. If the broker is
    down, nothing is raised (the event's write has committed): the sweeper sends the delivery after the grace."""
    enqueue_after_commit(
        deliver_webhook_task,
        organization_id=delivery.organization_id,
        delivery_id=delivery.pk,
        attempt=1,
        lease=delivery.locked_until.isoformat(),
    )


def _new_delivery(
    endpoint: WebhookEndpoint, event: AuditEvent, name: str, payload: dict[str, Any], now: datetime
) -> WebhookDelivery:
    return WebhookDelivery(
        organization=event.organization,
        endpoint=endpoint,
        event=name,
        audit_event=event,
        payload=payload,
        created_at=now,
        next_attempt_at=now,
        locked_until=now + FIRST_ATTEMPT_GRACE,
    )


def _create_deliveries(
    endpoints: list[WebhookEndpoint], event: AuditEvent, name: str, now: datetime
) -> list[WebhookDelivery]:
    payload = _payload(event, name)
    deliveries = WebhookDelivery.objects.bulk_create(_new_delivery(e, event, name, payload, now) for e in endpoints)
    for delivery in deliveries:
        _enqueue_first_attempt(delivery)
    return deliveries


@transaction.atomic
def dispatch_event(*, name: str, audit_event: AuditEvent, now: datetime | None = None) -> list[WebhookDelivery]:
    """One delivery per active endpoint subscribed to `name` (an organization has a handful of endpoints, so the
    subscription filter runs in Python; JSON containment is not portable to SQLite)."""
    now = now or timezone.now()
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.subscribes_to(name)]
    return _create_deliveries(endpoints, audit_event, name, now)


def on_domain_event(sender: object, *, organization_id: int, name: str, audit_event_id: int, **kwargs: object) -> None:
    """`domain_event` receiver (connected in MlsConfig.ready): runs after commit, maybe outside any scope."""
    with organization_scope(organization_id):
        dispatch_event(name=name, audit_event=AuditEvent.objects.select_related("organization").get(pk=audit_event_id))


def _require_active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.is_active:
        raise ValidationError(_("This endpoint is paused: activate it first."))


@transaction.atomic
def send_ping(*, endpoint: WebhookEndpoint, actor: User | None, now: datetime | None = None) -> WebhookDelivery:
    """A `ping` to this endpoint only, so an integrator can check their receiver and its signature check."""
    now = now or timezone.now()
    _require_active(endpoint)
    event = endpoint.log_action("webhook.pinged", actor=actor)
    [delivery] = _create_deliveries([endpoint], event, PING, now)
    return delivery


@transaction.atomic
def redeliver(*, delivery: WebhookDelivery, actor: User | None, now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery's payload again as a fresh delivery (its own attempts), e.g. after fixing the receiver."""
    now = now or timezone.now()
    _require_active(delivery.endpoint)
    again = _new_delivery(delivery.endpoint, delivery.audit_event, delivery.event, delivery.payload, now)
    again.save()
    again.log_action("webhook.redelivered", actor=actor)
    _enqueue_first_attempt(again)
    return again


def retry_delay(attempt: int, jitter: Callable[[], float] = random.random) -> timedelta | None:
    """How long after failed attempt number `attempt` the next one is due; None once attempts are used up."""
    if attempt >= MAX_ATTEMPTS:
        return None
    return FIRST_RETRY * BACKOFF_FACTOR ** (attempt - 1) * (1 + JITTER * jitter())


@dataclass(frozen=True)
class Response:
    code: int | None
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first of the checked `addresses` that answers (a host may have IPv6 and IPv4 ones)."""
    for address in addresses[:-1]:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError:
            continue
    return socket.create_connection((addresses[-1], port), timeout)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the addresses that passed the target check instead of resolving the host again."""

    def __init__(self, host: str, port: int | None, addresses: list[str]) -> None:
        super().__init__(host, port, timeout=TIMEOUT_SECONDS)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above; the certificate is still checked against the host name (SNI and hostname verification)."""

    def __init__(self, host: str, port: int | None, addresses: list[str]) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=TIMEOUT_SECONDS, context=self.tls)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = self.tls.wrap_socket(_connect(self.addresses, self.port, self.timeout), server_hostname=self.host)


def _post(delivery: WebhookDelivery) -> Response:
    """One POST, no redirects followed (http.client never follows them; a 3xx is a failed attempt)."""
    endpoint = delivery.endpoint
    try:
        addresses = resolve_target(endpoint.url)
    except ValidationError as refusal:
        return Response(None, error=refusal.messages[0])
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(timezone.now().timestamp())
    parts = urlsplit(endpoint.url)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, parts.port, addresses)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "MLS-Webhooks/1",
        "MLS-Event": delivery.event,
        "MLS-Delivery": str(delivery.pk),
        "MLS-Signature": signature_header(endpoint.secret, timestamp, body),
    }
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_CHARS).decode("utf-8", errors="replace")
        return Response(response.status, excerpt=excerpt)
    except (OSError, ValueError, http.client.HTTPException) as error:  # refused, timed out, TLS, malformed
        return Response(None, error=f"{type(error).__name__}: {error}"[:EXCERPT_CHARS])
    finally:
        connection.close()


# --- Attempts and the sweeper -----------------------------------------------------------------------------------


def _lease_is_free(now: datetime) -> Q:
    return Q(locked_until__isnull=True) | Q(locked_until__lte=now)


def _claim(*, delivery_id: int, attempt: int, lease: datetime | None, now: datetime) -> datetime | None:
    """Take attempt number `attempt` of an open delivery: as the holder of `lease` (the message enqueued with it),
    or, when nobody holds the delivery, if the attempt is due. One UPDATE, so of two claimers (two messages, a
    message and the sweeper) PostgreSQL lets one through and the other finds the row taken. Returns the new lease,
    the claimer's proof when it records the attempt."""
    claimable = _lease_is_free(now) & Q(next_attempt_at__lte=now)
    if lease is not None:
        claimable |= Q(locked_until=lease)
    held = now + LEASE
    claimed = WebhookDelivery.objects.filter(
        claimable, pk=delivery_id, attempts=attempt - 1, status__in=OPEN_DELIVERY_STATUSES
    ).update(locked_until=held)
    return held if claimed else None


def attempt_delivery(
    *, delivery_id: int, attempt: int, lease: datetime | None = None, now: datetime | None = None
) -> WebhookAttempt | None:
    """Make attempt number `attempt` of a delivery and log it, if it is still the caller's to make (see `_claim`);
    None when it is not (already made, held by someone else, not due yet, delivered or failed). A failed attempt
    sets when the next one is due; the sweeper hands it out then."""
    now = now or timezone.now()
    held = _claim(delivery_id=delivery_id, attempt=attempt, lease=lease, now=now)
    if held is None:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    response = (
        _post(delivery)
        if delivery.endpoint.is_active
        else Response(None, error="The endpoint was paused; nothing was sent.")
    )
    delay = None if response.ok or not delivery.endpoint.is_active else retry_delay(attempt)
    return _record(delivery, attempt=attempt, held=held, at=now, response=response, delay=delay)


@transaction.atomic
def _record(
    delivery: WebhookDelivery,
    *,
    attempt: int,
    held: datetime,
    at: datetime,
    response: Response,
    delay: timedelta | None,
) -> WebhookAttempt | None:
    """Log the attempt and release the lease, only while the lease is still `held` by this attempt: if it expired
    and someone else took the delivery over, theirs is attempt number `attempt` and this one is not logged."""
    next_attempt_at = at + delay if delay else None
    if response.ok:
        status = WebhookDeliveryStatus.SUCCEEDED
    else:
        status = WebhookDeliveryStatus.RETRYING if delay else WebhookDeliveryStatus.FAILED
    recorded = WebhookDelivery.objects.filter(pk=delivery.pk, attempts=attempt - 1, locked_until=held).update(
        status=status,
        attempts=attempt,
        last_response_code=response.code,
        next_attempt_at=next_attempt_at,
        locked_until=None,
        delivered_at=at if response.ok else None,
    )
    if not recorded:
        logger.warning(
            "Webhook delivery %s: the lease of attempt %s expired before it was logged", delivery.pk, attempt
        )
        return None
    return WebhookAttempt.objects.create(
        organization=delivery.organization,
        delivery=delivery,
        number=attempt,
        at=at,
        response_code=response.code,
        response_excerpt=response.excerpt,
        error=response.error,
        next_attempt_at=next_attempt_at,
    )


def sweep_due_deliveries(*, now: datetime | None = None) -> list[int]:
    """The beat job, per organization (in its scope): hand every due delivery that nobody holds to a worker — a
    retry whose time has come, a new delivery whose first message did not arrive within the grace (the broker was
    down), one whose worker died mid-attempt. The rows are claimed under `skip_locked` and leased before their
    messages go out, so two sweepers split them and a message that turns up late finds its delivery taken.
    Returns the ids handed out."""
    now = now or timezone.now()
    lease = now + LEASE
    with transaction.atomic(durable=True):  # the leases commit before any message can reach a worker
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(_lease_is_free(now), status__in=OPEN_DELIVERY_STATUSES, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "organization_id", "attempts")[:SWEEP_BATCH]
        )
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _, _ in due]).update(locked_until=lease)
    for index, (pk, organization_id, attempts) in enumerate(due):
        sent = enqueue(
            deliver_webhook_task,
            organization_id=organization_id,
            delivery_id=pk,
            attempt=attempts + 1,
            lease=lease.isoformat(),
        )
        if not sent:  # the broker is down: free the rest for the next sweep instead of holding them for LEASE
            unsent = [pk for pk, _, _ in due[index:]]
            WebhookDelivery.objects.filter(pk__in=unsent, locked_until=lease).update(locked_until=None)
            return [pk for pk, _, _ in due[:index]]
    return [pk for pk, _, _ in due]
