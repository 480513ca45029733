"""Benchmark: the REST API against bare Django views over the same rows, measured in the same run.

Run on PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/mls .venv/bin/python bench/api.py [requests]

Both sides go through the same Django test client and middleware. List: `GET /api/v1/learners/?page_size=100`
(token authentication, tenant scope, throttle, filters, cursor page, serializer) vs a view returning
`.values()` of the same 100 rows as JSON. Create: `POST /api/v1/learners/` of one new learner (the import's
checks, upsert, audit event, the answer) vs a view doing `Learner.objects.create` of the same row. p50 of
`requests` each; a floor request and an API request take turns, so a change in the machine's load hits both.

Each request commits, as in production. The bench organization (10,000 learners) is made on the first run and
kept, like the other benchmarks' tenants (its audit events are append-only); the learners a run creates are
deleted at its end and its token revoked. For comparison with the first measurements, the create is measured a
second time inside one transaction that is rolled back: there no INSERT pays a commit, and the API's own
transaction becomes a savepoint, so that ratio is higher.
"""

import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable

import report
import setup

setup.django()

from django.db import transaction  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

import mls.urls  # noqa: E402
from mls.enums import Role  # noqa: E402
from mls.models import ApiToken, Membership, Organization, User  # noqa: E402
from mls.selectors import organizations_of  # noqa: E402
from mls.services import create_api_token, create_organization  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402
from scheduling.models import Learner  # noqa: E402

ROWS = 10_000
PAGE = 100
FIELDS = ("id", "external_id", "name", "email", "business_unit", "manager_email", "region", "updated_at")
WARM_UP = 20
OWNER_EMAIL = "api-bench-owner@bench.example"


class Rollback(Exception):
    pass


def bare_list(request: HttpRequest) -> JsonResponse:
    with organization_scope(int(request.GET["organization"])):
        rows = list(Learner.objects.order_by("id").values(*FIELDS)[:PAGE])
    return JsonResponse({"results": rows})


def bare_insert(request: HttpRequest) -> JsonResponse:
    item = json.loads(request.body)
    organization_id = int(request.GET["organization"])
    with organization_scope(organization_id):
        learner = Learner.objects.create(organization_id=organization_id, **item)
    return JsonResponse({"id": learner.pk}, status=201)


urlpatterns = [path("bare/learners/", bare_list), path("bare/insert/", bare_insert), *mls.urls.urlpatterns]


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


def check(response: object, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])


def measure(requests: int, organization: Organization, raw_token: str, run: str) -> dict[str, float]:
    """p50s of list and create (each request committed), and of create inside one rolled-back transaction."""
    client = Client(HTTP_HOST="localhost")
    auth = {"HTTP_AUTHORIZATION": f"Token {raw_token}"}
    org = organization.pk

    def creates(side: str) -> tuple[Callable[[int], object], Callable[[int], object]]:
        def item(prefix: str, n: int) -> dict[str, str]:
            key = f"{run}-{side}-{prefix}{n}"
            return {"external_id": key, "name": f"New {n}", "email": f"{key}@bench.example"}

        def floor(n: int) -> None:
            body = item("B", n)
            check(client.post(f"/bare/insert/?organization={org}", body, content_type="application/json"), 201)

        def api(n: int) -> None:
            body = item("A", n)
            check(client.post("/api/v1/learners/", body, content_type="application/json", **auth), 201)

        return floor, api

    t = {}
    with override_settings(ROOT_URLCONF=__name__, API_THROTTLE_RATE="1000000/hour"):
        t["list_api"], t["list_floor"] = paired_p50(
            lambda n: check(client.get(f"/bare/learners/?organization={org}"), 200),
            lambda n: check(client.get(f"/api/v1/learners/?page_size={PAGE}", **auth), 200),
            requests,
        )
        t["create_api"], t["create_floor"] = paired_p50(*creates("committed"), requests)
        try:
            with transaction.atomic():
                t["create_api_in_tx"], t["create_floor_in_tx"] = paired_p50(*creates("rolled-back"), requests)
                raise Rollback
        except Rollback:
            pass
    return t


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    organization, owner = bench_organization()
    run = uuid.uuid4().hex[:8]
    with organization_scope(organization):
        token, raw = create_api_token(membership=owner, name=f"bench {run}", scope="read_write")
    try:
        t = measure(requests, organization, raw, run)
    finally:
        with organization_scope(organization):
            Learner.objects.filter(external_id__startswith=f"{run}-").delete()
            ApiToken.objects.filter(pk=token.pk).delete()
    print(f"| API vs bare view ({ROWS:,} learners, p50 of {requests} each, taking turns) | API ms | bare ms | ratio |")
    print("|---|---|---|---|")
    rows = [
        (f"list, page of {PAGE}", "list_api", "list_floor"),
        ("create one learner", "create_api", "create_floor"),
        ("create, all in one rolled-back transaction", "create_api_in_tx", "create_floor_in_tx"),
    ]
    for label, api, floor in rows:
        print(f"| {label} | {t[api] * 1000:.2f} | {t[floor] * 1000:.2f} | {t[api] / t[floor]:.2f}× |")
    report.ratio(
        f"API list, page of {PAGE} (p50)", t["list_api"], t["list_floor"], floor="bare .values() view", target="≤ 2×"
    )
    report.ratio(
        "API create one learner (p50)", t["create_api"], t["create_floor"], floor="bare INSERT view", target="≤ 2.5×"
    )
    report.ratio(
        "… both in one rolled-back transaction (no commits)",
        t["create_api_in_tx"],
        t["create_floor_in_tx"],
        floor="bare INSERT view",
    )


if __name__ == "__main__":
    main()
