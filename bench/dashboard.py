"""Benchmark: the dashboard's per-engagement figures on the SLA bench tenant vs a hand-written SQL floor.

Run: .venv/bin/python bench/dashboard.py [enrollments]
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/mls_bench (the tenant of bench/slas.py: May 2026,
1,000,000 enrollments by default, built once and kept).

Engine: `reporting.selectors.engagement_overview` for the quarter holding May 2026 (breaches, credits, spend and
the quarter's volume, one query), and every selector of the engagement's dashboard page together. Floor: one
hand-written query for the volume alone (delivered sessions, hours, seats, present seats, distinct billable
learners as a UNION), the expensive part. Best of 3 runs each; the engine's figures are checked against the
floor's.
"""

import os
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import report
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bench.slas import TZ, tenant  # sets Django up on import, before the models below
from engagements.models import Engagement
from mls.tenancy import organization_scope
from reporting import selectors

TODAY = date(2026, 5, 31)

FLOOR = """
WITH delivered AS (
    SELECT id, capacity, ends_at - starts_at AS length FROM scheduling_session
    WHERE organization_id = %(org)s AND engagement_id = %(eng)s AND status = 'delivered'
      AND starts_at >= %(start)s AND starts_at < %(end)s
), present AS (
    SELECT e.learner_id, e.session_id IN (SELECT id FROM delivered) AS delivered
    FROM scheduling_attendance a JOIN scheduling_enrollment e ON e.id = a.enrollment_id
        JOIN scheduling_session s ON s.id = e.session_id
    WHERE a.organization_id = %(org)s AND a.present AND s.engagement_id = %(eng)s
      AND s.starts_at >= %(start)s AND s.starts_at < %(end)s
), completed AS (
    SELECT c.learner_id FROM scheduling_completion c
    WHERE c.organization_id = %(org)s AND c.completed_at >= %(start)s AND c.completed_at < %(end)s
      AND (c.session_id IN (SELECT id FROM scheduling_session WHERE engagement_id = %(eng)s)
           OR (c.session_id IS NULL
               AND c.course_id IN (SELECT course_id FROM scheduling_session WHERE engagement_id = %(eng)s)))
)
SELECT (SELECT count(*) FROM delivered),
       (SELECT extract(epoch FROM sum(length)) / 3600 FROM delivered),
       (SELECT sum(capacity) FROM delivered),
       (SELECT count(*) FROM present WHERE delivered),
       (SELECT count(*) FROM (SELECT learner_id FROM present UNION SELECT learner_id FROM completed) billable)
"""


def floor(engagement: Engagement, quarter: selectors.Quarter) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            FLOOR,
            {"org": engagement.organization_id, "eng": engagement.pk}
            | {"start": quarter.starts_at, "end": quarter.ends_at},
        )
        sessions, hours, seats, attended, learners = cursor.fetchone()
    return sessions, Decimal(hours).quantize(Decimal("0.01")), seats, attended, learners


def engine(engagements: object, quarter: selectors.Quarter) -> tuple:
    [row] = selectors.engagement_overview(engagements, quarter, TODAY)
    return row.sessions, row.delivered_hours, row.seats, row.attended_seats, row.learners


def whole_page(engagements: object, quarter: selectors.Quarter) -> None:
    """Every selector the engagement page calls, evaluated (rendering excluded)."""
    overview = selectors.engagement_overview(engagements, quarter, TODAY)
    totals = selectors.totals(overview, "GBP")
    selectors.spend_chart(engagements, "GBP", TODAY, totals.budget)
    selectors.sla_tiles(engagements, TODAY)
    list(selectors.open_escalations(engagements))
    selectors.contract_dates(engagements, TODAY)
    list(selectors.pending_relief(engagements))


def interleaved_best(runs: int, *works: Callable[[], object]) -> list[tuple[float, object]]:
    """The best time (and last result) of each work, run in turn `runs` times: a change in the machine's load
    hits them all alike."""
    timings: list[list[float]] = [[] for _ in works]
    results: list[object] = [None] * len(works)
    for _ in range(runs):
        for number, work in enumerate(works):
            started = time.perf_counter()
            results[number] = work()
            timings[number].append(time.perf_counter() - started)
    return [(min(times), result) for times, result in zip(timings, results, strict=True)]


def main() -> None:
    enrollments = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    call_command("migrate", verbosity=0)
    engagement = tenant(enrollments)
    quarter = selectors.Quarter.containing(TODAY, TZ)
    with organization_scope(engagement.organization), timezone.override(TZ):
        engagements = Engagement.objects.filter(pk=engagement.pk)
        (engine_seconds, figures), (floor_seconds, expected), (page_seconds, _) = interleaved_best(
            3,
            lambda: engine(engagements, quarter),
            lambda: floor(engagement, quarter),
            lambda: whole_page(engagements, quarter),
        )
        assert figures == expected, (figures, expected)
    sessions, hours, seats, attended, learners = figures
    print(f"\n{quarter.label}, {enrollments:,} enrollments, {os.cpu_count()} CPUs; best of 3 runs each, taken in turn.")
    print(f"Figures: {sessions:,} delivered sessions, {hours:,} h, {attended:,} of {seats:,} seats, "
          f"{learners:,} billable learners (engine = floor).")  # fmt: skip
    print("\n| what | seconds | ratio |\n|---|---|---|")
    print(f"| floor: volume in one hand-written query | {floor_seconds:.2f} | 1.00× |")
    print(f"| `engagement_overview` (volume, breaches, credits, spend) | {engine_seconds:.2f} | "
          f"{engine_seconds / floor_seconds:.2f}× |")  # fmt: skip
    print(f"| every selector of the engagement dashboard | {page_seconds:.2f} | {page_seconds / floor_seconds:.2f}× |")
    report.ratio("Dashboard: engagement_overview", engine_seconds, floor_seconds, floor="one hand-written volume query")
    report.ratio("Dashboard: every engagement-page selector", page_seconds, floor_seconds, floor="the same query")


if __name__ == "__main__":
    main()
