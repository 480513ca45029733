"""Redis down (cache and broker at a closed port) is degraded service, not an outage: sign-in, pages and the API
answer, tenant pages say that background work is delayed. And the API throttle counts concurrent calls exactly, on
a real Redis."""

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mls.api_auth import CallerThrottle
from mls.celery import app as celery_app
from mls.enums import Role
from mls.models import ApiToken
from tests.factories import PASSWORD, api_token

pytestmark = pytest.mark.integration

BANNER = "Background work is delayed."


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def dashboard_url(tenant) -> str:
    return reverse("reporting:dashboard", kwargs={"organization_slug": tenant.organization.slug})


def test_sign_in_with_redis_down_signs_in_and_logs_the_fallback(client, tenant_a, redis_down, caplog):
    user = tenant_a.user(Role.LD_DIRECTOR)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert (response.status_code, response["Location"]) == (302, reverse("home"))
    assert client.session["_auth_user_id"] == str(user.pk)
    assert [r.levelno for r in caplog.records if r.name == "mls.cache"] == [logging.WARNING]


def test_sign_in_with_wrong_password_and_redis_down_is_a_form_error(client, tenant_a, redis_down):
    user = tenant_a.user(Role.LD_DIRECTOR)

    response = client.post(reverse("account_login"), {"login": user.email, "password": "not-the-password"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The email address and/or password you specified are not correct."
    ]
    assert "_auth_user_id" not in client.session


def test_totp_sign_in_with_redis_down_accepts_a_code_once(client, tenant_a, redis_down, time_machine):
    time_machine.move_to(datetime(2026, 12, 3, 9, 30, 10, tzinfo=UTC), tick=False)  # inside one 30 s TOTP period
    user = tenant_a.user(Role.LD_DIRECTOR)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    signed_in = client.post(reverse("mfa_authenticate"), {"code": code})
    replay = Client()
    replay.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    replayed = replay.post(reverse("mfa_authenticate"), {"code": code})

    assert signed_in["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)
    # The replay guard (a cache `add`) still holds in this process's memory.
    assert replayed.context["form"].errors == {"code": ["Incorrect code."]}
    assert Authenticator.objects.filter(user=user).count() == 1


def test_dashboard_with_broker_down_says_background_work_is_delayed_for_30_seconds(
    client, tenant_a, redis_down, time_machine, caplog
):
    moment = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # its own moment: the broker check is cached per process
    time_machine.move_to(moment, tick=False)
    client.force_login(tenant_a.user(Role.VIEWER))

    down = client.get(dashboard_url(tenant_a))
    celery_app.conf.broker_url = _real_broker()
    time_machine.move_to(moment + timedelta(seconds=29))
    still_cached = client.get(dashboard_url(tenant_a))
    time_machine.move_to(moment + timedelta(seconds=30))
    back = client.get(dashboard_url(tenant_a))

    assert (down.status_code, still_cached.status_code, back.status_code) == (200, 200, 200)
    assert (down.content.decode().count(BANNER), still_cached.content.decode().count(BANNER)) == (1, 1)
    assert BANNER not in back.content.decode()
    assert [r.msg for r in caplog.records if r.name == "mls.celery"] == [
        "Broker unreachable: background work is delayed (%s)",
        "Broker reachable again: delayed background work goes on",
    ]


def _real_broker() -> str:
    url = os.environ.get("REDIS_URL", "")
    assert url.startswith("redis://"), "this test needs REDIS_URL (a real broker)"
    return url


def test_banner_costs_the_dashboard_no_query(client, tenant_a, redis_down, time_machine):
    time_machine.move_to(datetime(2026, 12, 3, 9, 10, tzinfo=UTC), tick=False)
    client.force_login(tenant_a.user(Role.VIEWER))
    client.get(dashboard_url(tenant_a))  # sessions, caches and the broker check warmed alike

    with CaptureQueriesContext(connection) as delayed:
        with_banner = client.get(dashboard_url(tenant_a))
    celery_app.conf.task_always_eager = True  # no broker at all: nothing to say
    with CaptureQueriesContext(connection) as eager:
        without_banner = client.get(dashboard_url(tenant_a))

    assert (BANNER in with_banner.content.decode(), BANNER in without_banner.content.decode()) == (True, False)
    assert len(delayed) == len(eager)


def test_sign_in_page_has_no_banner_with_broker_down(client, redis_down, time_machine):
    time_machine.move_to(datetime(2026, 12, 3, 9, 20, tzinfo=UTC), tick=False)

    response = client.get(reverse("account_login"))

    assert response.status_code == 200
    assert BANNER not in response.content.decode()


def test_api_list_with_redis_down_answers_and_throttles_in_process_memory(
    client, tenant_a, redis_down, settings, time_machine
):
    time_machine.move_to(datetime(2026, 12, 3, 9, 40, 20, tzinfo=UTC), tick=False)
    settings.API_THROTTLE_RATE = "2/minute"
    raw = api_token(tenant_a)

    statuses = [client.get("/api/v1/learners/", **auth(raw)) for _ in range(3)]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[0].json()["results"] == []
    assert statuses[-1]["Retry-After"] == "40"


# --- the throttle on a real Redis, under concurrency ---------------------------------------------------------------

CONCURRENT = 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_api_calls_are_each_counted_once_and_the_next_is_refused(
    tenant_a, redis_cache, settings, time_machine
):
    now = datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    settings.API_THROTTLE_RATE = f"{CONCURRENT}/hour"
    raw = api_token(tenant_a)
    with tenant_a.scope():
        token = ApiToken.objects.get()
    start = threading.Barrier(CONCURRENT)

    def call(_: int) -> int:
        try:
            caller = Client()
            start.wait(timeout=30)
            return caller.get("/api/v1/learners/", **auth(raw)).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(CONCURRENT) as pool:
        statuses = list(pool.map(call, range(CONCURRENT)))
    counted = cache.get(CallerThrottle().counter_key(f"throttle_api_token-{token.pk}", now.timestamp()))
    over = Client().get("/api/v1/learners/", **auth(raw))

    assert statuses == [200] * CONCURRENT
    assert counted == CONCURRENT
    assert over.status_code == 429
    assert over["Retry-After"] == "3595"  # the window is the clock hour: 10:00:05 → 11:00:00
