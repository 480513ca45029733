"""Benchmark: the streaming CSV export of enrollments vs PostgreSQL `COPY (SELECT …) TO STDOUT WITH CSV` of the
same rows, measured in the same run.

Run: .venv/bin/python bench/exports.py [enrollments]
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/mls_bench_exports; the database is created and
migrated if missing. The tenant (200,000 enrollments on 8,000 sessions by default) is bulk-loaded once with
INSERT … SELECT generate_series and kept, so later runs only measure; drop the database to rebuild it.

Export: GET of the enrollments export through the Django test client (middleware, view, the one query, cells
escaped and datetimes written in organization time by PostgreSQL's own COPY), the StreamingHttpResponse consumed
to its end. Floor: psycopg `COPY (<the export's own SELECT>) TO STDOUT WITH CSV HEADER` of the columns as stored,
every chunk read. Best of 5 each, taken alternately; the row counts are checked equal. Target: export throughput
≥ 50 % of the floor's.
"""

import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import report
import setup

setup.django("mls_bench_exports")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from engagements import services as contract_services  # noqa: E402
from engagements.enums import EngagementModel, VendorModel  # noqa: E402
from mls.models import (  # noqa: E402
    Membership,
    Organization,
    Provider,
    User,
)
from mls.services import create_organization  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402
from reporting.delivery_exports import CSV_EXPORTS, export_rows  # noqa: E402

SLUG = "export-bench"
TZ = "Europe/London"
PER_SESSION = 25
RUNS = 5


def load(sql: str, **params: object) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def build(enrollments: int) -> Organization:
    owner = User.objects.create_user("owner@export-bench.example", None)
    organization = create_organization(owner=owner, name="Export bench", timezone=TZ, holiday_country="GB")
    organization.slug = SLUG
    organization.save(update_fields=["slug"])
    with organization_scope(organization):
        provider = Provider.objects.create(organization=organization, name="Bench Learning")
        engagement = contract_services.create_engagement(
            organization=organization, actor=owner, provider=provider, name="Bench operations",
            engagement_model=EngagementModel.MANAGED_SERVICES, vendor_model=VendorModel.MASTER_SERVICE_PROVIDER,
            currency="GBP", timezone=TZ, holiday_country="GB", holiday_subdivision="ENG",
            start_date=date(2026, 1, 1), end_date=date(2028, 12, 31), annual_value=Decimal("1000000.00"),
        )  # fmt: skip
    p = {"org": organization.pk, "eng": engagement.pk, "sessions": enrollments // PER_SESSION}
    p["learners"] = max(enrollments // 10, PER_SESSION)
    rows = {
        "courses": load(
            """INSERT INTO scheduling_course (organization_id, external_id, code, title, modality, duration_hours,
                   ownership, regulated, review_interval_days)
               SELECT %(org)s, '', 'C-' || g, 'Course ' || g, 'vilt', 3, 'bespoke', false, 365
               FROM generate_series(1, 20) g""",
            **p,
        ),
        # Names as people type them, a few starting like a formula, so escaping is on the measured path.
        "learners": load(
            """INSERT INTO scheduling_learner (organization_id, external_id, name, email, business_unit,
                   manager_email, region)
               SELECT %(org)s, 'HR-' || g, CASE WHEN g %% 50 = 0 THEN '=Learner ' ELSE 'Learner ' END || g,
                   'learner' || g || '@export-bench.example', 'Retail', '', 'UK'
               FROM generate_series(1, %(learners)s) g""",
            **p,
        ),
        "sessions": load(
            """INSERT INTO scheduling_session (organization_id, engagement_id, course_id, external_id, modality,
                   join_url, capacity, status, requested_at, confirmed_at, starts_at, ends_at, cancellation_reason,
                   cancelled_by)
               SELECT %(org)s, %(eng)s, c.first + g %% 20, '', 'vilt', '', 30, 'delivered',
                   s.starts_at - interval '14 days', s.starts_at - interval '13 days', s.starts_at,
                   s.starts_at + interval '3 hours', '', ''
               FROM generate_series(1, %(sessions)s) g,
                   LATERAL (SELECT min(id) AS first FROM scheduling_course WHERE organization_id = %(org)s) c,
                   LATERAL (SELECT timestamptz '2026-01-05 09:00+00' + make_interval(hours => g * 5) AS starts_at) s""",
            **p,
        ),
        "enrollments": load(
            """INSERT INTO scheduling_enrollment (organization_id, external_id, status, requested_at, processed_at,
                   cancelled_at, session_id, learner_id)
               SELECT %(org)s, 'E-' || s.id || '-' || k, 'enrolled', s.requested_at + make_interval(mins => k),
                   s.requested_at + make_interval(hours => 1 + k), NULL, s.id,
                   l.first + (s.ordinal * 25 + k) %% %(learners)s
               FROM (SELECT id, requested_at, row_number() OVER (ORDER BY id) - 1 AS ordinal FROM scheduling_session
                     WHERE organization_id = %(org)s) s
                   CROSS JOIN generate_series(0, 24) k,
                   LATERAL (SELECT min(id) AS first FROM scheduling_learner WHERE organization_id = %(org)s) l""",
            **p,
        ),
    }
    for name, count in rows.items():
        print(f"  loaded {count:>9,} {name}")
    return organization


def tenant(enrollments: int) -> Organization:
    organization = Organization.objects.filter(slug=SLUG).first()
    if organization is None:
        print(f"Building the export bench tenant ({enrollments:,} enrollments) …")
        started = time.perf_counter()
        with transaction.atomic():
            organization = build(enrollments)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"  built in {time.perf_counter() - started:.0f} s")
        return organization
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scheduling_enrollment WHERE organization_id = %s", [organization.pk])
        (loaded,) = cursor.fetchone()
    if loaded != enrollments:
        sys.exit(f"The bench tenant has {loaded:,} enrollments, not {enrollments:,}: drop the database to rebuild.")
    return organization


def alternately(floor: Callable[[], tuple[int, int]], export: Callable[[], tuple[int, int]]) -> list[tuple]:
    """(best seconds, rows, bytes) of RUNS runs of each, taken in turn so a change of load hits both alike."""
    timings: list[list[float]] = [[], []]
    results = [(0, 0), (0, 0)]
    for _ in range(RUNS):
        for side, measure in enumerate((floor, export)):
            started = time.perf_counter()
            results[side] = measure()
            timings[side].append(time.perf_counter() - started)
    return [(min(timings[side]), *results[side]) for side in (0, 1)]


def main() -> None:
    enrollments = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    call_command("migrate", verbosity=0)
    organization = tenant(enrollments)
    owner = User.objects.get(email="owner@export-bench.example")
    with organization_scope(organization):
        membership = Membership.objects.get(user=owner)
        definition = CSV_EXPORTS["enrollments"]
        # The floor copies the export's own rows and columns as stored: no escaping, PostgreSQL's datetime text.
        zone = ZoneInfo(organization.timezone)
        rows = export_rows(definition, membership, zone=zone)
        sql, params = rows.values_list(*definition.lookups).query.sql_with_params()

    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    url = reverse("reporting:export_csv", kwargs={"organization_slug": SLUG, "kind": "enrollments"})

    def export() -> tuple[int, int]:
        response = client.get(url)
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        return lines - 1, size

    def floor() -> tuple[int, int]:
        size = lines = 0
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV HEADER", params) as copy,
        ):
            for chunk in copy:
                size += len(chunk)
                lines += bytes(chunk).count(b"\n")
        return lines - 1, size

    (floor_s, floor_rows, floor_bytes), (export_s, export_rows_, export_bytes) = alternately(floor, export)
    assert export_rows_ == floor_rows == enrollments, (export_rows_, floor_rows)
    floor_rate, export_rate = floor_rows / floor_s, export_rows_ / export_s
    print(f"| enrollments CSV ({enrollments:,} rows) | seconds | rows/s | MB | throughput vs COPY |")
    print("|---|---|---|---|---|")
    print(
        f"| floor: COPY (SELECT …) TO STDOUT WITH CSV | {floor_s:.2f} | {floor_rate:,.0f} | {floor_bytes / 1e6:.1f} |"
    )
    print(
        f"| streaming export through the view | {export_s:.2f} | {export_rate:,.0f} | {export_bytes / 1e6:.1f} "
        f"| {100 * export_rate / floor_rate:.0f} % (target ≥ 50 %) |"
    )
    report.ratio(
        f"CSV export, {enrollments:,} enrollments (time; throughput = 1 / ratio)",
        export_s,
        floor_s,
        floor="COPY (SELECT …) TO STDOUT WITH CSV",
        target="≤ 2× (throughput ≥ 50 %)",
    )


if __name__ == "__main__":
    main()
