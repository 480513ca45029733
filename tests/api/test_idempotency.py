"""`Idempotency-Key` on API writes (DESIGN.md §4): replay, 422 on another body, 409 while in flight, per
organization and credential, 24 hours, and one write however many times or however concurrently it is sent."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client

from mls import tasks
from mls.models import AuditEvent, IdempotencyKey
from scheduling.models import Learner
from tests.factories import api_token

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

URL = "/api/v1/learners/"
ADA = {"external_id": "HR-1", "name": "Ada Lovelace", "email": "ada@acme.example"}


def post(client: Client, token: str, body: dict, key: str | None = "key-1"):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, body, content_type="application/json", **headers)


def writes(tenant: object) -> int:
    """Every learner upsert is audited: the count of audit events is the count of writes that ran."""
    with tenant.scope():
        return AuditEvent.objects.filter(action="import.learners").count()


def test_a_retry_with_the_same_key_and_body_replays_the_stored_answer(client, tenant_a):
    token = api_token(tenant_a)

    first = post(client, token, ADA)
    retry = post(client, token, ADA)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert writes(tenant_a) == 1


def test_the_same_key_with_another_body_is_422_and_writes_nothing(client, tenant_a):
    token = api_token(tenant_a)
    post(client, token, ADA)

    response = post(client, token, {**ADA, "name": "Augusta Ada King"})

    assert response.status_code == 422
    assert "different request" in response.json()["detail"]
    with tenant_a.scope():
        assert Learner.objects.get().name == "Ada Lovelace"
    assert writes(tenant_a) == 1


def test_fifty_serial_requests_with_one_key_write_once(client, tenant_a):
    token = api_token(tenant_a)

    statuses = {post(client, token, ADA).status_code for _ in range(50)}

    assert statuses == {201}
    assert writes(tenant_a) == 1
    with tenant_a.scope():
        assert Learner.objects.count() == 1
        assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_with_one_key_write_once(tenant_a):
    """On PostgreSQL: the key's unique constraint lets one request run; the others wait for it (409) or replay."""
    token = api_token(tenant_a)
    start, statuses = threading.Barrier(20), []

    def send() -> None:
        try:
            start.wait()
            response = post(Client(), token, ADA)
            statuses.append((response.status_code, response.get("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == 20
    assert statuses.count((201, None)) == 1, statuses  # exactly one request ran the write
    assert all(
        status == 409 or replayed == "true" for status, replayed in statuses if (status, replayed) != (201, None)
    )
    assert writes(tenant_a) == 1
    with tenant_a.scope():
        assert Learner.objects.count() == 1


def test_a_request_with_a_key_in_flight_gets_409_with_retry_after(client, tenant_a):
    token = api_token(tenant_a)
    post(client, token, ADA, key="in-flight")
    with tenant_a.scope():  # as if the first request were still running: no answer stored yet
        IdempotencyKey.objects.filter(key="in-flight").update(response_status=None)

    response = post(client, token, ADA, key="in-flight")

    assert response.status_code == 409
    assert response["Retry-After"] == "1"


def test_keys_belong_to_one_credential_and_one_organization(client, tenant_a, tenant_b):
    first, second = api_token(tenant_a), api_token(tenant_a)
    post(client, first, ADA)

    other_token = post(client, second, {**ADA, "name": "Ada King"})  # same key, other token: its own write
    other_tenant = post(client, api_token(tenant_b), ADA)

    assert other_token.status_code == 200
    assert "Idempotent-Replayed" not in other_token
    assert other_tenant.status_code == 201
    assert "Idempotent-Replayed" not in other_tenant
    assert writes(tenant_a) == 2
    assert writes(tenant_b) == 1


def test_refused_writes_are_replayed_too_but_a_key_is_kept_only_24_hours(client, tenant_a, time_machine):
    time_machine.move_to(NOW, tick=False)
    token = api_token(tenant_a)
    bad = {**ADA, "email": "not-an-email"}
    assert post(client, token, bad, key="k").status_code == 400
    assert post(client, token, bad, key="k")["Idempotent-Replayed"] == "true"

    with tenant_a.scope():
        IdempotencyKey.objects.update(created_at=NOW - timedelta(hours=24, seconds=1))
    assert post(client, token, ADA, key="k").status_code == 201  # an expired key is a new key


def test_the_daily_purge_forgets_expired_keys_only(client, tenant_a, time_machine):
    time_machine.move_to(NOW, tick=False)
    token = api_token(tenant_a)
    post(client, token, ADA, key="old")
    post(client, token, ADA, key="new")
    with tenant_a.scope():
        IdempotencyKey.objects.filter(key="old").update(created_at=NOW - timedelta(hours=25))

    assert tasks.dispatch_idempotency_purge() == 1  # one organization

    with tenant_a.scope():
        assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize("key", ["", "x" * 256, "with space"])
def test_a_malformed_key_is_400_and_writes_nothing(client, tenant_a, key):
    response = post(client, api_token(tenant_a), ADA, key=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert writes(tenant_a) == 0


def test_requests_without_a_key_or_reads_are_untouched(client, tenant_a):
    token = api_token(tenant_a)
    assert post(client, token, ADA, key=None).status_code == 201
    assert post(client, token, ADA, key=None).status_code == 200  # an upsert, run again
    response = client.get(URL, HTTP_AUTHORIZATION=f"Token {token}", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 200
    with tenant_a.scope():
        assert not IdempotencyKey.objects.exists()
