"""Benchmark: the REST API against plain Django views doing the same job, measured in the same run.

Run on PostgreSQL and Redis: DATABASE_URL=postgres://postgres@127.0.0.1:5432/mls_bench_apifair
.venv/bin/python bench/api.py [requests] (REDIS_URL defaults to redis://127.0.0.1:6379/0; the bench refuses to run
on any other cache than the one production uses, `mls.cache.RedisWithLocalFallback`, or with Redis unreachable).

The floor is what a plain Django view does for the same request, without DRF:
- authenticates the `Authorization: Token mls_<org>_<secret>` header with the ORM: the token by its SHA-256 in the
  organization it names (`select_related` of its organization and creator, the creator active, not revoked,
  `hmac.compare_digest` of the hash), then the creator's owner membership (a second query);
- enters the tenant scope (`organization_scope`) and the organization's timezone;
- counts a throttle hit in the production cache (Redis): `cache.add` of the window's counter, then `cache.incr`,
  429 over `API_THROTTLE_RATE`;
- list: validates `?page_size=` with a Django `Form` (1 to 1,000) and answers `.values()` of the page's rows
  (the learner's every column but the organization, ordered by id) as JSON;
- create: builds the `Learner` from the JSON body, `full_clean()` (field validation, the organization exists, the
  email and the external_id free: three queries), and in one transaction saves the row and its `AuditEvent`
  (actor, token, the created fields), then answers the row's fields as JSON with 201.
The API: `GET /api/v1/learners/?page_size=100` and `POST /api/v1/learners/` of one new learner with a read_write
token (authentication, scope, throttle, filters, cursor page, serializer; the import's checks, upsert, audit event,
the answer).

Both sides go through the same Django test client and middleware, and take turns request by request, so a change
in the machine's load hits both; p50 of `requests` each. Each request commits, as in production, and the database
connection is handled as the WSGI server has Django handle it: `close_old_connections()` at the end of every
request with the settings' `CONN_MAX_AGE` (`DB_CONN_MAX_AGE`, 0 unless set: a new connection per request) and
`CONN_HEALTH_CHECKS` (not set, so False). The bench organization (10,000 learners) is made on the first run and
kept, like the other benchmarks' tenants (its audit events are append-only); the learners a run creates are
deleted at its end and its token revoked.
"""

import hashlib
import hmac
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo

import report
import setup

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
setup.django(CELERY_TASK_ALWAYS_EAGER="true")

import redis  # noqa: E402
from django import forms  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache, caches  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402

import mls.urls  # noqa: E402
from mls.cache import RedisWithLocalFallback  # noqa: E402
from mls.enums import Role  # noqa: E402
from mls.models import ApiToken, AuditEvent, Membership, Organization, User  # noqa: E402
from mls.selectors import organizations_of  # noqa: E402
from mls.services import create_api_token, create_organization  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402
from scheduling.models import Learner  # noqa: E402

ROWS = 10_000
PAGE = 100
FIELDS = ("id", "external_id", "name", "email", "business_unit", "manager_email", "region", "updated_at")
WRITTEN = ("external_id", "name", "email", "business_unit", "manager_email", "region")
WARM_UP = 20
OWNER_EMAIL = "api-bench-owner@bench.example"
THROTTLE_WINDOW = 3600


class PageForm(forms.Form):
    page_size = forms.IntegerField(min_value=1, max_value=1000, required=False)


def floor_caller(request: HttpRequest) -> tuple[ApiToken, Membership] | None:
    """The token and the owner it acts as, found as a plain view finds them with the ORM."""
    raw = request.headers.get("Authorization", "").removeprefix("Token ")
    marker, _, rest = raw.partition("_")
    organization_id = rest.partition("_")[0]
    if marker != "mls" or not organization_id.isdigit():
        return None
    digest = hashlib.sha256(raw.encode()).hexdigest()
    with organization_scope(int(organization_id)):
        token = (
            ApiToken.objects.select_related("organization", "created_by")
            .filter(secret_hash=digest, revoked_at__isnull=True, created_by__is_active=True)
            .first()
        )
        if token is None or not hmac.compare_digest(token.secret_hash, digest):
            return None
        owner = Membership.objects.filter(user=token.created_by, role=Role.OWNER).first()
    return (token, owner) if owner is not None else None


def floor_throttled(token: ApiToken) -> bool:
    """One hit on the token's counter of this window, in the production cache: over the rate is a 429."""
    counter = f"bench-floor:{token.pk}:{int(time.time() // THROTTLE_WINDOW)}"
    cache.add(counter, 0, timeout=THROTTLE_WINDOW + 60)
    return cache.incr(counter) > int(settings.API_THROTTLE_RATE.split("/")[0])


def floor_view(answer: Callable[[HttpRequest, ApiToken, Membership], HttpResponse]) -> Callable:
    def view(request: HttpRequest) -> HttpResponse:
        found = floor_caller(request)
        if found is None:
            return JsonResponse({"detail": "Invalid or revoked token."}, status=401)
        token, owner = found
        with organization_scope(token.organization), timezone.override(ZoneInfo(token.organization.timezone)):
            if floor_throttled(token):
                return JsonResponse({"detail": "Too many requests."}, status=429)
            return answer(request, token, owner)

    return view


@floor_view
def bare_list(request: HttpRequest, token: ApiToken, owner: Membership) -> HttpResponse:
    form = PageForm(request.GET)
    if not form.is_valid():
        return JsonResponse(form.errors, status=400)
    size = form.cleaned_data["page_size"] or PAGE
    return JsonResponse({"results": list(Learner.objects.order_by("id").values(*FIELDS)[:size])})


@floor_view
def bare_insert(request: HttpRequest, token: ApiToken, owner: Membership) -> HttpResponse:
    item = json.loads(request.body)
    learner = Learner(organization=token.organization, **{name: item.get(name, "") for name in WRITTEN})
    try:
        learner.full_clean()
    except ValidationError as error:
        return JsonResponse(error.message_dict, status=400)
    with transaction.atomic():
        learner.save()
        AuditEvent.objects.create(
            organization=token.organization,
            actor=token.created_by,
            actor_label=token.created_by.email,
            token=token,
            action="import.learners",
            object_type="scheduling.learner",
            object_id=str(learner.pk),
            after={name: getattr(learner, name) for name in WRITTEN},
        )
    return JsonResponse({name: getattr(learner, name) for name in FIELDS}, status=201)


urlpatterns = [path("bare/learners/", bare_list), path("bare/insert/", bare_insert), *mls.urls.urlpatterns]


def check_production_cache() -> None:
    """The throttle counts where production counts: Redis, reachable (not the fallback's process memory)."""
    backend = type(caches["default"])
    assert backend is RedisWithLocalFallback, f"the bench needs REDIS_URL (the cache is {backend.__name__})"
    redis.Redis.from_url(settings.REDIS_URL).ping()


def bench_organization() -> tuple[Organization, Membership]:
    """The organization the benchmark reads and writes, with its ROWS learners: made once, then reused."""
    owner = User.objects.filter(email=OWNER_EMAIL).first()
    if owner is None:
        owner = User.objects.create_user(OWNER_EMAIL, "bench-pass-2026")
        organization = create_organization(owner=owner, name="API bench")
        with organization_scope(organization):
            Learner.objects.bulk_create(
                Learner(organization=organization, external_id=f"L-{n}", name=f"L {n}", email=f"l{n}@bench.example")
                for n in range(ROWS)
            )
    organization = organizations_of(owner).get()
    with organization_scope(organization):
        return organization, Membership.objects.select_related("organization", "user").get(user=owner, role=Role.OWNER)


def paired_p50(floor: Callable[[int], object], api: Callable[[int], object], requests: int) -> tuple[float, float]:
    """p50 of the API call and of the floor call, `requests` of each taking turns, after a warm-up of both."""
    for n in range(WARM_UP):
        floor(-1 - n)
        api(-1 - n)
    api_timings, floor_timings = [], []
    for n in range(requests):
        for call, timings in ((floor, floor_timings), (api, api_timings)):
            started = time.perf_counter()
            call(n)
            timings.append(time.perf_counter() - started)
    return statistics.median(api_timings), statistics.median(floor_timings)


def served(response: HttpResponse, status: int) -> None:
    """The end of a request as the WSGI server has Django end it (the test client keeps the connection open)."""
    close_old_connections()
    assert response.status_code == status, (response.status_code, response.content[:300])


def measure(requests: int, raw_token: str, run: str) -> dict[str, float]:
    """p50s of list and create, each request committed and its connection handled as in production."""
    client = Client(HTTP_HOST="localhost")
    auth = {"HTTP_AUTHORIZATION": f"Token {raw_token}"}

    def item(side: str, n: int) -> dict[str, str]:
        key = f"{run}-{side}{n}"
        return {"external_id": key, "name": f"New {n}", "email": f"{key}@bench.example"}

    t = {}
    with override_settings(ROOT_URLCONF=__name__, API_THROTTLE_RATE="1000000/hour"):
        t["list_api"], t["list_floor"] = paired_p50(
            lambda n: served(client.get(f"/bare/learners/?page_size={PAGE}", **auth), 200),
            lambda n: served(client.get(f"/api/v1/learners/?page_size={PAGE}", **auth), 200),
            requests,
        )
        t["create_api"], t["create_floor"] = paired_p50(
            lambda n: served(client.post("/bare/insert/", item("B", n), content_type="application/json", **auth), 201),
            lambda n: served(
                client.post("/api/v1/learners/", item("A", n), content_type="application/json", **auth), 201
            ),
            requests,
        )
    return t


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    check_production_cache()
    organization, owner = bench_organization()
    run = uuid.uuid4().hex[:8]
    with organization_scope(organization):
        token, raw = create_api_token(membership=owner, name=f"bench {run}", scope="read_write")
    close_old_connections()
    try:
        t = measure(requests, raw, run)
    finally:
        with organization_scope(organization):
            Learner.objects.filter(external_id__startswith=f"{run}-").delete()
            ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    check_production_cache()
    database = connection.settings_dict
    print(
        f"CONN_MAX_AGE={database['CONN_MAX_AGE']} CONN_HEALTH_CHECKS={database['CONN_HEALTH_CHECKS']}, "
        f"cache {type(caches['default']).__name__} at {settings.REDIS_URL}"
    )
    print(
        f"| API vs plain view ({ROWS:,} learners, p50 of {requests} each, taking turns) | API ms | floor ms | ratio |"
    )
    print("|---|---|---|---|")
    for label, api, floor in (
        (f"list, page of {PAGE}", "list_api", "list_floor"),
        ("create one learner", "create_api", "create_floor"),
    ):
        print(f"| {label} | {t[api] * 1000:.2f} | {t[floor] * 1000:.2f} | {t[api] / t[floor]:.2f}× |")
    report.ratio(
        f"API list, page of {PAGE} (p50)", t["list_api"], t["list_floor"], floor="plain view, same job", target="≤ 2×"
    )
    report.ratio(
        "API create one learner (p50)",
        t["create_api"],
        t["create_floor"],
        floor="plain view, same job",
        target="≤ 2.5×",
    )


if __name__ == "__main__":
    main()
