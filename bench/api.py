"""Benchmark: the REST API against bare Django views over the same rows, measured in the same run.

Run on PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/mls .venv/bin/python bench/api.py [requests]
Everything happens inside a transaction that is rolled back, so the database is left as it was.

Both sides go through the same Django test client and middleware. List: `GET /api/v1/learners/?page_size=100`
(token authentication, tenant scope, throttle, filters, cursor page, serializer) vs a view returning
`.values()` of the same 100 rows as JSON. Create: `POST /api/v1/learners/` of one new learner (the import's
checks, upsert, audit event, the read-back) vs a view doing `Learner.objects.create` of the same row. p50 of
`requests` each, after a warm-up.
"""

import json
import statistics
import sys
import time
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
from mls.models import Membership, User  # noqa: E402
from mls.services import create_api_token, create_organization  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402
from scheduling.models import Learner  # noqa: E402

ROWS = 10_000
PAGE = 100
FIELDS = ("id", "external_id", "name", "email", "business_unit", "manager_email", "region", "updated_at")
WARM_UP = 20


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


def p50(call: Callable[[int], object], requests: int) -> float:
    for n in range(WARM_UP):
        call(-1 - n)
    timings = []
    for n in range(requests):
        started = time.perf_counter()
        call(n)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def check(response: object, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])


def measure(requests: int) -> dict[str, float]:
    client = Client(HTTP_HOST="localhost")
    timings = {}
    try:
        with transaction.atomic():
            owner = User.objects.create_user("bench-owner@bench.example", "bench-pass-2026")
            organization = create_organization(owner=owner, name="API bench")
            with organization_scope(organization):
                Learner.objects.bulk_create(
                    Learner(organization=organization, external_id=f"L-{n}", name=f"L {n}", email=f"l{n}@bench.example")
                    for n in range(ROWS)
                )
                membership = Membership.objects.get(user=owner, role=Role.OWNER)
                _, raw = create_api_token(membership=membership, name="bench", scope="read_write")
            auth = {"HTTP_AUTHORIZATION": f"Token {raw}"}
            org = organization.pk

            def new_learner(prefix: str, n: int) -> dict[str, str]:
                return {
                    "external_id": f"{prefix}-{n}",
                    "name": f"New {n}",
                    "email": f"{prefix.lower()}{n}@bench.example",
                }

            with override_settings(ROOT_URLCONF=__name__, API_THROTTLE_RATE="1000000/hour"):
                timings["list_floor"] = p50(
                    lambda n: check(client.get(f"/bare/learners/?organization={org}"), 200), requests
                )
                timings["list_api"] = p50(
                    lambda n: check(client.get(f"/api/v1/learners/?page_size={PAGE}", **auth), 200), requests
                )
                timings["create_floor"] = p50(
                    lambda n: check(
                        client.post(
                            f"/bare/insert/?organization={org}", new_learner("B", n), content_type="application/json"
                        ),
                        201,
                    ),
                    requests,
                )
                timings["create_api"] = p50(
                    lambda n: check(
                        client.post("/api/v1/learners/", new_learner("A", n), content_type="application/json", **auth),
                        201,
                    ),
                    requests,
                )
            raise Rollback
    except Rollback:
        pass
    return timings


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    t = measure(requests)
    print(f"| API vs bare view ({ROWS:,} learners, p50 of {requests}) | API ms | bare ms | ratio | target |")
    print("|---|---|---|---|---|")
    print(
        f"| list, page of {PAGE} | {t['list_api'] * 1000:.1f} | {t['list_floor'] * 1000:.1f} | "
        f"{t['list_api'] / t['list_floor']:.2f}× | ≤ 2× |"
    )
    print(
        f"| create one learner | {t['create_api'] * 1000:.1f} | {t['create_floor'] * 1000:.1f} | "
        f"{t['create_api'] / t['create_floor']:.2f}× | ≤ 2.5× |"
    )
    report.ratio(
        f"API list, page of {PAGE} (p50)", t["list_api"], t["list_floor"], floor="bare .values() view", target="≤ 2×"
    )
    report.ratio(
        "API create one learner (p50)", t["create_api"], t["create_floor"], floor="bare INSERT view", target="≤ 2.5×"
    )


if __name__ == "__main__":
    main()
