"""Benchmark: SLA computation of one month of a tenant with 1,000,000 enrollments vs a hand-written SQL floor.

Run: .venv/bin/python bench/slas.py [enrollments]
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/mls_bench; the database is created and migrated if
missing. The tenant (slug "sla-bench", May 2026 in Europe/London, two bank holidays) is bulk-loaded once with
INSERT … SELECT generate_series and kept, so later runs only measure; drop the database to rebuild it.

Two cases, each engine run followed by a floor run, 7 pairs, medians (the shared machine's load moves between
runs, so the two sides never run minutes apart), on the same connection with the same (default) session settings:

(a) Provisional recompute (hourly): `slas.services.compute_period` for the month, every target of the schedule,
    measurements written with their counts and no item ids. Floor: one hand-written `GROUP BY` per metric over
    the same rows, met / failed / pending counts (business-day deadlines precomputed per local day, as the engine
    does). The engine's counts are checked against the floor's, metric by metric.
(b) Finalization (monthly): the measuring step of `finalize_period` (`services._measure(final=True)`, rolled
    back), measurements written with each outcome's item ids. Floor: the same queries with `array_agg(id ORDER
    BY id)` per outcome, packed as the snapshot stores them (`slas.fields.pack_ids`); the engine's ids are checked
    against the floor's.
"""

import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import report
import setup

setup.django("mls_bench")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from engagements import services as contract_services  # noqa: E402
from engagements.enums import EngagementModel, VendorModel  # noqa: E402
from engagements.models import Engagement  # noqa: E402
from mls.models import (  # noqa: E402
    Organization,
    Provider,
    User,
)
from mls.services import create_organization  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402
from slas import services  # noqa: E402
from slas.fields import pack_ids, unpack_ids  # noqa: E402
from slas.metrics import MetricContext, MetricResult, measure  # noqa: E402
from slas.periods import Period  # noqa: E402

SLUG = "sla-bench"
TZ = "Europe/London"
MONTH = date(2026, 5, 1)  # bank holidays on 4 and 25 May
NOW = datetime(2026, 6, 2, 9, tzinfo=UTC)  # inside the grace days: some items of the last days are still pending
PER_SESSION = 25
TARGETS = {  # metric: (target, threshold)
    "session_confirmation_turnaround": ("90", 48),
    "session_delivery_rate": ("98", None),
    "support_first_response": ("95", 8),
    "audit_report_turnaround": ("90", 24),
    "enrollment_processing": ("95", 2),
    "completion_reporting_timeliness": ("90", 5),
    "mandatory_training_on_time": ("90", None),
    "instructor_rating": ("4.2", None),
    "training_utilization": ("75", None),
    "platform_uptime": ("99.5", None),
}


# --- The tenant -------------------------------------------------------------------------------------


def load(sql: str, **params: object) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def build(enrollments: int, slug: str = SLUG) -> Engagement:
    """The organization, engagement and schedule through the services; delivery rows by INSERT … SELECT."""
    owner = User.objects.create_user(f"owner@{slug}.example", None)
    organization = create_organization(owner=owner, name=f"Bench {slug}", timezone=TZ, holiday_country="GB")
    organization.slug = slug
    organization.save(update_fields=["slug"])
    with organization_scope(organization):
        provider = Provider.objects.create(organization=organization, name="Bench Learning")
        engagement = contract_services.create_engagement(
            organization=organization, actor=owner, provider=provider, name="Bench operations",
            engagement_model=EngagementModel.MANAGED_SERVICES, vendor_model=VendorModel.MASTER_SERVICE_PROVIDER,
            currency="GBP", timezone=TZ, holiday_country="GB", holiday_subdivision="ENG",
            start_date=date(2026, 1, 1), end_date=date(2028, 12, 31), annual_value=Decimal("1000000.00"),
        )  # fmt: skip
        schedule = services.create_schedule(engagement=engagement, actor=owner, at_risk_percent=Decimal("12"))
        for metric, (target, threshold) in TARGETS.items():
            services.save_target(
                schedule=schedule, actor=owner, metric=metric, target=Decimal(target), threshold=threshold,
                allocation_percent=Decimal("10"), active_from=date(2026, 1, 1),
            )  # fmt: skip
    sessions = enrollments // PER_SESSION
    p = {
        "org": organization.pk,
        "eng": engagement.pk,
        "start": Period(MONTH, TZ).start,
        "tz": TZ,
        "sessions": sessions,
        "learners": max(enrollments // 10, PER_SESSION),
        "tickets": enrollments // 20,
        "assignments": enrollments // 10,
        "self_paced": enrollments // 50,
        "step": 31 * 86400 / enrollments,  # seconds between enrollment requests: all inside May
    }
    rows = {}
    rows["courses"] = load(
        """INSERT INTO scheduling_course (organization_id, external_id, code, title, modality, duration_hours,
               ownership, regulated, review_interval_days)
           SELECT %(org)s, '', 'C-' || g, 'Course ' || g, 'vilt', 3, 'bespoke', g = 1, 365
           FROM generate_series(1, 20) g""",
        **p,
    )
    rows["learners"] = load(
        """INSERT INTO scheduling_learner (organization_id, external_id, name, email, business_unit, manager_email,
               region)
           SELECT %(org)s, '', 'Learner ' || g, 'learner' || g || '@sla-bench.example', 'Retail', '', 'UK'
           FROM generate_series(1, %(learners)s) g""",
        **p,
    )
    # Sessions start at 09:00 on every day of May; about 2 % are cancelled by the provider, 1 % by the client,
    # 2.5 % ended unconfirmed or undelivered. Confirmation takes 0–59 hours.
    rows["sessions"] = load(
        """INSERT INTO scheduling_session (organization_id, engagement_id, course_id, external_id, modality, join_url,
               capacity, status, requested_at, confirmed_at, starts_at, ends_at, cancelled_at, cancelled_by,
               cancellation_reason)
           SELECT %(org)s, %(eng)s, c.first + g %% 20, '', 'vilt', '', 30,
               CASE WHEN g %% 50 = 0 OR g %% 97 = 0 THEN 'cancelled' WHEN g %% 200 = 3 THEN 'requested'
                    WHEN g %% 40 = 1 THEN 'confirmed' ELSE 'delivered' END,
               s.starts_at - make_interval(hours => 1 + g %% 72),
               CASE WHEN g %% 200 = 3 THEN NULL
                    ELSE s.starts_at - make_interval(hours => 1 + g %% 72) + make_interval(hours => g * 7 %% 60) END,
               s.starts_at, s.starts_at + interval '3 hours',
               CASE WHEN g %% 50 = 0 OR g %% 97 = 0 THEN s.starts_at - interval '2 days' END,
               CASE WHEN g %% 50 = 0 THEN 'provider' WHEN g %% 97 = 0 THEN 'client' ELSE '' END,
               CASE WHEN g %% 50 = 0 OR g %% 97 = 0 THEN 'Bench cancellation' ELSE '' END
           FROM generate_series(1, %(sessions)s) g,
               LATERAL (SELECT min(id) AS first FROM scheduling_course WHERE organization_id = %(org)s) c,
               LATERAL (SELECT (timestamp '2026-05-01 09:00' AT TIME ZONE %(tz)s)
                               + make_interval(days => g %% 31) AS starts_at) s""",
        **p,
    )
    # Enrollments requested evenly over the month; 85 % processed within a day, 10 % after 3–4 days (met or
    # failed by the business-day rule), 3 % after 8 days, 2 % never (pending if requested in the last days).
    rows["enrollments"] = load(
        """INSERT INTO scheduling_enrollment (organization_id, external_id, status, requested_at, processed_at,
               session_id, learner_id)
           SELECT %(org)s, '', 'enrolled', r.at,
               CASE WHEN n * 7919 %% 100 < 85 THEN r.at + make_interval(hours => (n * 7919 %% 24)::int)
                    WHEN n * 7919 %% 100 < 95 THEN r.at + make_interval(days => 3, hours => (n %% 30)::int)
                    WHEN n * 7919 %% 100 < 98 THEN r.at + interval '8 days' END,
               s.id, l.first + n %% %(learners)s
           FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS ordinal FROM scheduling_session
                 WHERE organization_id = %(org)s) s
               CROSS JOIN generate_series(0, 24) k,
               LATERAL (SELECT s.ordinal * 25 + k AS n) i,
               LATERAL (SELECT min(id) AS first FROM scheduling_learner WHERE organization_id = %(org)s) l,
               LATERAL (SELECT %(start)s + make_interval(secs => (i.n * %(step)s)::float8) AS at) r""",
        **p,
    )
    rows["attendances"] = load(
        """INSERT INTO scheduling_attendance (organization_id, enrollment_id, present, recorded_at)
           SELECT %(org)s, e.id, e.id %% 10 < 8, s.ends_at
           FROM scheduling_enrollment e JOIN scheduling_session s ON s.id = e.session_id
           WHERE s.organization_id = %(org)s AND s.status = 'delivered'""",
        **p,
    )
    # Half the learners present complete, recorded 0–8 days later; plus self-paced completions of course 1.
    rows["completions"] = load(
        """INSERT INTO scheduling_completion (organization_id, external_id, completed_at, recorded_at, source,
               course_id, learner_id, session_id)
           SELECT %(org)s, '', s.ends_at, s.ends_at + make_interval(days => (e.id %% 9)::int), 'provider_log',
               s.course_id, e.learner_id, s.id
           FROM scheduling_attendance a JOIN scheduling_enrollment e ON e.id = a.enrollment_id
               JOIN scheduling_session s ON s.id = e.session_id
           WHERE a.organization_id = %(org)s AND a.present AND e.id %% 2 = 0""",
        **p,
    )
    rows["completions"] += load(
        """INSERT INTO scheduling_completion (organization_id, external_id, completed_at, recorded_at, source,
               course_id, learner_id, session_id)
           SELECT %(org)s, '', d.at, d.at + make_interval(days => g %% 8), 'import', c.first, l.first + g, NULL
           FROM generate_series(1, %(self_paced)s) g,
               LATERAL (SELECT min(id) AS first FROM scheduling_course WHERE organization_id = %(org)s) c,
               LATERAL (SELECT min(id) AS first FROM scheduling_learner WHERE organization_id = %(org)s) l,
               LATERAL (SELECT %(start)s + make_interval(secs => (g * 31 * 86400.0 / %(self_paced)s)::float8)
                               - interval '1 second' AS at) d""",
        **p,
    )
    # Tickets through the month: first response 0–11 h (some past the 8 h), 2 % unanswered; 5 % audit requests.
    rows["tickets"] = load(
        """INSERT INTO scheduling_supportticket (organization_id, engagement_id, external_id, category, subject,
               opened_at, first_response_at, resolved_at)
           SELECT %(org)s, %(eng)s, '', CASE WHEN g %% 20 = 0 THEN 'audit_request' ELSE 'enrollment' END, 'Bench',
               t.at, CASE WHEN g %% 50 <> 0 THEN t.at + make_interval(hours => g * 13 %% 12, mins => g %% 60) END,
               CASE WHEN g %% 50 <> 0 THEN t.at + make_interval(hours => 10 + g * 13 %% 30) END
           FROM generate_series(1, %(tickets)s) g,
               LATERAL (SELECT %(start)s + make_interval(secs => (g * 31 * 86400.0 / %(tickets)s)::float8)
                               - interval '1 second' AS at) t""",
        **p,
    )
    requirement = load(
        """INSERT INTO scheduling_compliancerequirement (organization_id, name, audience_business_units,
               audience_regions, recertification_interval_days)
           VALUES (%(org)s, 'Data protection', '', '', 365)""",
        **p,
    )
    requirement += load(
        """INSERT INTO scheduling_requirementcourse (organization_id, requirement_id, course_id)
           SELECT %(org)s, r.id, c.id FROM scheduling_compliancerequirement r, scheduling_course c
           WHERE r.organization_id = %(org)s AND c.organization_id = %(org)s AND c.code = 'C-1'""",
        **p,
    )
    rows["compliance assignments"] = load(
        """INSERT INTO scheduling_complianceassignment (organization_id, requirement_id, learner_id, due_on,
               completed_at, external_id)
           SELECT %(org)s, r.id, l.first + g %% %(learners)s, date '2026-05-01' + g %% 31,
               CASE WHEN g %% 25 <> 0 THEN ((date '2026-05-01' + g %% 31 + (g %% 10 - 7))::timestamp
                                            + interval '12 hours') AT TIME ZONE %(tz)s END, ''
           FROM generate_series(1, %(assignments)s) g,
               LATERAL (SELECT id FROM scheduling_compliancerequirement WHERE organization_id = %(org)s) r,
               LATERAL (SELECT min(id) AS first FROM scheduling_learner WHERE organization_id = %(org)s) l""",
        **p,
    )
    rows["feedback"] = load(
        """INSERT INTO scheduling_feedback (organization_id, session_id, learner_id, instructor_score, overall_score,
               comment, submitted_at, external_id)
           SELECT %(org)s, s.id, NULL, (ARRAY[3, 4, 4, 5, 5])[1 + (s.id + k) %% 5], 4, '',
               s.ends_at + interval '3 hours', ''
           FROM scheduling_session s CROSS JOIN generate_series(1, 5) k
           WHERE s.organization_id = %(org)s AND s.status = 'delivered'""",
        **p,
    )
    rows["outages"] = load(
        """INSERT INTO scheduling_outage (organization_id, engagement_id, starts_at, ends_at, planned, description,
               external_id)
           VALUES (%(org)s, %(eng)s, %(start)s + interval '11 days 10 hours', %(start)s + interval '11 days 12 hours',
                   false, 'Bench outage', ''),
                  (%(org)s, %(eng)s, %(start)s + interval '20 days 1 hour', %(start)s + interval '20 days 5 hours',
                   true, 'Bench maintenance', '')""",
        **p,
    )
    for name, count in rows.items():
        print(f"  loaded {count:>9,} {name}")
    return engagement


def tenant(enrollments: int) -> Engagement:
    organization = Organization.objects.filter(slug=SLUG).first()
    if organization is None:
        print(f"Building the bench tenant ({enrollments:,} enrollments in {MONTH:%B %Y}) …")
        started = time.perf_counter()
        with transaction.atomic():
            engagement = build(enrollments)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"  built in {time.perf_counter() - started:.0f} s")
        return engagement
    with organization_scope(organization):
        engagement = Engagement.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scheduling_enrollment WHERE organization_id = %s", [organization.pk])
        (loaded,) = cursor.fetchone()
    if loaded != enrollments:
        sys.exit(f"The bench tenant has {loaded:,} enrollments, not {enrollments:,}: drop the database to rebuild.")
    return engagement


# --- The floor: hand-written SQL, counts only ---------------------------------------------------------


def _outcomes(rows: str, met: str, pending: str) -> str:
    alias = rows.split()[1]
    return f"""SELECT CASE WHEN {met} THEN 'met' WHEN {pending} THEN 'pending' ELSE 'failed' END AS outcome,
               count(*) /*ids:{alias}*/ FROM {rows} GROUP BY 1"""  # noqa: S608 - constant SQL fragments, values bound as parameters


def _resolved_by(rows: str, resolved: str, deadline: str) -> str:
    met = f"{resolved} <= %(as_of)s AND {resolved} <= {deadline}"
    pending = f"({resolved} IS NULL OR {resolved} > %(as_of)s) AND {deadline} > %(as_of)s"
    return _outcomes(rows, met, pending)


def _deadline(anchor: str, count: int) -> str:
    """The deadline of `count` business days after the anchor's local day: a binary search over the day starts
    indexing an array of the days' deadlines (the fastest form found; a join on the local date is slower)."""
    period = Period(MONTH, TZ)
    calendar = Engagement(timezone=TZ, holiday_country="GB", holiday_subdivision="ENG").calendar
    days = list(period.days())
    deadlines = ",".join(calendar.deadline_after(start, count).isoformat() for _, start, _ in days)
    starts = ",".join(start.isoformat() for start in [*(start for _, start, _ in days), period.end])
    return f"('{{{deadlines}}}'::timestamptz[])[width_bucket({anchor}, '{{{starts}}}'::timestamptz[])]"


IN_PERIOD = "{0} >= %(start)s AND {0} < %(end)s"
SESSIONS = "scheduling_session s WHERE s.organization_id = %(org)s AND s.engagement_id = %(eng)s"
TICKETS = (
    "scheduling_supportticket t WHERE t.organization_id = %(org)s AND t.engagement_id = %(eng)s AND "
    + IN_PERIOD.format("t.opened_at")
)
DELIVERED = f"{SESSIONS} AND {IN_PERIOD.format('s.starts_at')} AND s.status = 'delivered'"
ENGAGEMENT_COURSES = "SELECT course_id FROM scheduling_session WHERE engagement_id = %(eng)s"
FLOOR = {
    "session_confirmation_turnaround": _resolved_by(
        f"{SESSIONS} AND {IN_PERIOD.format('s.requested_at')}", "s.confirmed_at", "s.requested_at + interval '48h'"
    ),
    "session_delivery_rate": _outcomes(
        f"{SESSIONS} AND {IN_PERIOD.format('s.starts_at')} AND s.cancelled_by <> 'client'",
        "s.status = 'delivered'",
        "s.status IN ('requested', 'confirmed') AND s.ends_at > %(as_of)s",
    ),
    "support_first_response": _resolved_by(TICKETS, "t.first_response_at", "t.opened_at + interval '8h'"),
    "audit_report_turnaround": _resolved_by(
        f"{TICKETS} AND t.category = 'audit_request'", "t.resolved_at", "t.opened_at + interval '24h'"
    ),
    "enrollment_processing": _resolved_by(
        f"""scheduling_enrollment e JOIN scheduling_session s ON s.id = e.session_id
            WHERE e.organization_id = %(org)s AND s.engagement_id = %(eng)s AND {IN_PERIOD.format("e.requested_at")}""",
        "e.processed_at",
        _deadline("e.requested_at", 2),
    ),
    "completion_reporting_timeliness": _resolved_by(
        f"""scheduling_completion c LEFT JOIN scheduling_session s ON s.id = c.session_id
            WHERE c.organization_id = %(org)s AND {IN_PERIOD.format("c.completed_at")}
              AND (s.engagement_id = %(eng)s OR c.session_id IS NULL AND c.course_id IN ({ENGAGEMENT_COURSES}))""",
        "c.recorded_at",
        _deadline("c.completed_at", 5),
    ),
    "mandatory_training_on_time": _resolved_by(
        f"""scheduling_complianceassignment a
            WHERE a.organization_id = %(org)s AND a.due_on >= %(month)s AND a.due_on < %(next_month)s
              AND EXISTS (SELECT 1 FROM scheduling_requirementcourse rc WHERE rc.requirement_id = a.requirement_id
                          AND rc.course_id IN ({ENGAGEMENT_COURSES}))""",  # noqa: S608 - constant SQL fragments, values bound as parameters
        "a.completed_at",
        "(a.due_on + time '23:59:59.999999') AT TIME ZONE %(tz)s",
    ),
    "instructor_rating": f"""SELECT 'scored', count(*), sum(f.instructor_score) /*ids:f*/
        FROM scheduling_feedback f JOIN scheduling_session s ON s.id = f.session_id
        WHERE f.organization_id = %(org)s AND s.engagement_id = %(eng)s AND {IN_PERIOD.format("s.starts_at")}
          AND s.status = 'delivered' AND f.submitted_at <= %(as_of)s""",  # noqa: S608 - constant SQL fragments, values bound as parameters
    "training_utilization": f"""SELECT 'seats', sum(s.capacity) /*ids:s*/, (
            SELECT count(*) FROM scheduling_attendance a JOIN scheduling_enrollment e ON e.id = a.enrollment_id
            WHERE a.present AND e.session_id IN (SELECT s.id FROM {DELIVERED}))
        FROM {DELIVERED}""",  # noqa: S608 - constant SQL fragments, values bound as parameters
    "platform_uptime": """SELECT planned, count(*) FROM scheduling_outage
        WHERE engagement_id = %(eng)s AND starts_at < %(end)s AND ends_at > %(start)s GROUP BY 1""",
}


# The same queries also returning each outcome's item ids, ascending (what finalization keeps as its snapshot).
FLOOR_WITH_IDS = {
    metric: re.sub(r"/\*ids:(\w+)\*/", r", array_agg(\1.id ORDER BY \1.id)", sql) for metric, sql in FLOOR.items()
}
FLOOR_WITH_IDS["platform_uptime"] = """SELECT CASE WHEN planned THEN 'planned_outages' ELSE 'unplanned_outages' END,
        count(*), array_agg(id ORDER BY id) FROM scheduling_outage
    WHERE engagement_id = %(eng)s AND starts_at < %(end)s AND ends_at > %(start)s GROUP BY 1"""
IDS_KEY = {"instructor_rating": {"scored": "scored"}, "training_utilization": {"seats": "sessions"}}


def run_floor(metric: str, params: dict, *, ids: bool = False) -> dict:
    with connection.cursor() as cursor:
        cursor.execute((FLOOR_WITH_IDS if ids else FLOOR)[metric], params)
        return {row[0]: row[1:] for row in cursor.fetchall()}


def floor_snapshot(metric: str, params: dict) -> dict:
    """The item ids per outcome, in the format the engine stores them (`slas.fields.pack_ids`)."""
    rows = run_floor(metric, params, ids=True)
    if metric in IDS_KEY:
        return {IDS_KEY[metric][key]: pack_ids(_array_of(row)) for key, row in rows.items()}
    keys = ("planned_outages", "unplanned_outages") if metric == "platform_uptime" else ("met", "failed", "pending")
    return {key: pack_ids(_array_of(rows.get(key, ()))) for key in keys}


def _array_of(row: tuple) -> list[int]:
    return next((value for value in row if isinstance(value, list)), [])


def floor_counts(metric: str, rows: dict) -> tuple:
    """(met, met + failed, pending) like the engine's numerator, denominator and pending; sums for the others."""
    if metric == "instructor_rating":
        count, total = rows["scored"]
        return (Decimal(total or 0), Decimal(count), 0)
    if metric == "training_utilization":
        seats, attended = rows["seats"]
        return (Decimal(attended), Decimal(seats or 0), 0)
    if metric == "platform_uptime":
        return ()
    met, failed, pending = (rows.get(key, (0,))[0] for key in ("met", "failed", "pending"))
    return (Decimal(met), Decimal(met + failed), pending)


def engine_counts(result: MetricResult) -> tuple:
    if result.metric == "platform_uptime":
        return ()
    return (result.numerator, result.denominator, result.pending)


# --- Measuring ----------------------------------------------------------------------------------------

PAIRS = 7


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def interleaved(engine: Callable[[], object], floor: Callable[[], object], pairs: int = PAIRS) -> dict:
    """Engine, floor, engine, floor …: the medians of each and of the pairs' ratios, and the last results."""
    engine_s, floor_s, ratios = [], [], []
    for _ in range(pairs):
        seconds, engine_result = timed(engine)
        floor_seconds, floor_result = timed(floor)
        engine_s.append(seconds)
        floor_s.append(floor_seconds)
        ratios.append(seconds / floor_seconds)
    return {
        "engine": statistics.median(engine_s),
        "floor": statistics.median(floor_s),
        "ratio": statistics.median(ratios),
        "range": (min(ratios), max(ratios)),
        "results": (engine_result, floor_result),
    }


def in_transaction(work: Callable[[], object], *, rollback: bool = False) -> object:
    """The work in a transaction, as the engine measures; on the same connection and session settings (the
    server's defaults) for the engine and the floor."""
    with transaction.atomic():
        result = work()
        transaction.set_rollback(rollback)
    return result


def main() -> None:
    enrollments = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    call_command("migrate", verbosity=0)
    engagement = tenant(enrollments)
    period = Period(MONTH, TZ)
    as_of = period.as_of(NOW, 5)
    params = {
        "org": engagement.organization_id,
        "eng": engagement.pk,
        "start": period.start,
        "end": period.end,
        "month": period.month,
        "next_month": period.next_month,
        "as_of": as_of,
        "tz": TZ,
    }
    with organization_scope(engagement.organization):
        schedule = services.schedule_required(engagement)
        targets = {target.metric: target for target in schedule.targets.all()}
        context = MetricContext(engagement=engagement, period=period, as_of=as_of)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (version,) = cursor.fetchone()
        print(f"\nPostgreSQL {version}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
              f"engine and floor interleaved, medians of {PAIRS} pairs.")  # fmt: skip

        # (a) The hourly provisional recompute: counts stored; the floor counts.
        provisional = interleaved(
            lambda: services.compute_period(engagement=engagement, period=period, now=NOW),
            lambda: in_transaction(lambda: [run_floor(metric, params) for metric in targets]),
        )
        print(f"\n| {MONTH:%B %Y}, {enrollments:,} enrollments | engine s | floor s | ratio | items |")
        print("|---|---|---|---|---|")
        for metric, target in targets.items():
            case = interleaved(
                lambda target=target: in_transaction(lambda: measure(target.metric, context, target.threshold)),
                lambda metric=metric: in_transaction(lambda: run_floor(metric, params)),
                pairs=5,
            )
            result, rows = case["results"]
            expected = floor_counts(metric, rows)
            assert engine_counts(result) == expected, (metric, engine_counts(result), expected)
            items = f"{int(result.denominator) + result.pending:,}" if expected else "minutes"
            print(f"| {metric} | {case['engine']:.3f} | {case['floor']:.3f} | {case['ratio']:.1f}× | {items} |")
        low, high = provisional["range"]
        print(f"| **compute_period (provisional), {len(targets)} targets** | **{provisional['engine']:.2f}** | "
              f"**{provisional['floor']:.2f}** | **{provisional['ratio']:.2f}×** ({low:.2f}–{high:.2f}×; "
              f"target ≤ 1.5×) | snapshots {_inputs_size(engagement) / 1e6:.2f} MB |")  # fmt: skip

        # (b) Finalization (once a month): the item ids snapshot stored; the floor returns the same ids, packed.
        row = services._period_row(engagement, period)  # the period row finalize_period measures into
        closes_at = period.closes_at(schedule.grace_days)
        final_params = {**params, "as_of": closes_at}

        def finalize_measurements() -> list:
            return services._measure(engagement, schedule, row, closes_at, final=True)

        final = interleaved(
            lambda: in_transaction(finalize_measurements, rollback=True),
            lambda: in_transaction(lambda: {metric: floor_snapshot(metric, final_params) for metric in targets}),
        )
        measurements, floor_ids = final["results"]
        stored = {m.metric: m.inputs for m in measurements}
        for metric, snapshot in floor_ids.items():
            engine_ids = {key: stored[metric][key] for key in snapshot}
            assert engine_ids == {key: unpack_ids(packed) for key, packed in snapshot.items()}, metric
        low, high = final["range"]
        print(f"| **finalization: measurements with the item ids snapshot** | **{final['engine']:.2f}** | "
              f"**{final['floor']:.2f}** | **{final['ratio']:.2f}×** ({low:.2f}–{high:.2f}×) | "
              f"{_ids_in(floor_ids):,} ids |")  # fmt: skip
        label = f"SLA month, {enrollments:,} enrollments, {len(targets)} targets"
        report.ratio(f"{label}: compute_period", provisional["engine"], provisional["floor"],
                     floor="GROUP BY counts per metric", target="≤ 1.5×")  # fmt: skip
        report.ratio(f"{label}: finalization snapshot", final["engine"], final["floor"],
                     floor="GROUP BY with array_agg of item ids, packed")  # fmt: skip


def _ids_in(snapshots: dict) -> int:
    return sum(len(unpack_ids(packed)) for snapshot in snapshots.values() for packed in snapshot.values())


def _inputs_size(engagement: Engagement) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(octet_length(inputs::text)), 0) FROM slas_measurement WHERE engagement_id = %s",
            [engagement.pk],
        )
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
