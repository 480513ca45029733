"""The SLA engine under operations: concurrent finalizers, a real worker over Redis, the database triggers that
keep finalized rows, constant query counts as delivery data grows, the beat tasks and the operators' command."""

import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from slas import services, tasks
from slas.catalog import METRICS
from slas.enums import CreditStatus, PeriodStatus
from slas.models import Breach, Measurement, ServiceCredit, SlaPeriod
from slas.periods import Period
from tests.conftest import in_process_worker
from tests.factories.slas import sla_engagement
from tests.slas.delivery import deliver_month

pytestmark = pytest.mark.integration

MARCH = date(2026, 3, 1)
AFTER_MARCH_GRACE = datetime(2026, 4, 7, tzinfo=UTC)
BREACHED = frozenset({"support_first_response", "instructor_rating"})
# Every metric of the catalog at its default threshold: the query count must not depend on the items.
ALL_TARGETS = {
    key: {"target": metric.value_range[0], "allocation_percent": Decimal("5")} for key, metric in METRICS.items()
}


# --- Idempotency under concurrency (PostgreSQL row lock + unique constraints) -----------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_finalizing_the_same_period_at_once_issue_each_credit_once(tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=BREACHED)
    march = Period(MARCH, engagement.timezone)
    start, errors = threading.Barrier(2), []

    def finalize() -> None:
        try:
            with tenant_a.scope():
                start.wait()
                services.finalize_period(engagement=engagement, period=march, now=AFTER_MARCH_GRACE)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=finalize) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    with tenant_a.scope():
        assert sorted(ServiceCredit.objects.values_list("metric", "amount")) == [
            ("instructor_rating", Decimal("1447.50")),  # 5,790.00 × 25 %
            ("support_first_response", Decimal("2316.00")),  # 5,790.00 × 40 %
        ]
        assert Breach.objects.count() == 2
        assert SlaPeriod.objects.get().status == PeriodStatus.FINALIZED


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_finalization_runs_in_a_real_worker_over_redis(tenant_a, worker_queue):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=BREACHED)

    with in_process_worker(worker_queue):
        # Twice on purpose: the second run must find the period finalized and change nothing.
        runs = [
            tasks.finalize_engagement_slas_task.delay(
                organization_id=tenant_a.organization.pk, engagement_id=engagement.pk
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 30
        while not all(run.ready() for run in runs) and time.monotonic() < deadline:
            time.sleep(0.1)

    assert [run.successful() for run in runs] == [True, True]

    with tenant_a.scope():
        assert SlaPeriod.objects.get(month=MARCH).status == PeriodStatus.FINALIZED
        assert ServiceCredit.objects.filter(period__month=MARCH).count() == 2


# --- Database triggers (PostgreSQL) -------------------------------------------------------------------------


def _refused(sql: str, params: list) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        return "refused" in str(error)
    return False


def test_the_database_refuses_changes_to_finalized_rows(tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=BREACHED)
        services.finalize_due_periods(engagement=engagement, now=AFTER_MARCH_GRACE)
        measurement = Measurement.objects.get(metric="support_first_response")
        breach, credit, period = Breach.objects.first(), ServiceCredit.objects.first(), SlaPeriod.objects.get()

    assert _refused("UPDATE slas_measurement SET value = 100 WHERE id = %s", [measurement.pk])
    assert _refused("DELETE FROM slas_measurement WHERE id = %s", [measurement.pk])
    assert _refused("UPDATE slas_breach SET metric = 'x' WHERE id = %s", [breach.pk])
    assert _refused("DELETE FROM slas_servicecredit WHERE id = %s", [credit.pk])
    assert _refused("UPDATE slas_servicecredit SET amount = 1 WHERE id = %s", [credit.pk])
    assert _refused(
        "UPDATE slas_servicecredit SET status = 'earned_back', earned_back_at = now(), amount = 1 WHERE id = %s",
        [credit.pk],
    )
    assert _refused("UPDATE slas_slaperiod SET at_risk = 0 WHERE id = %s", [period.pk])
    # The one change the contract allows: issued → earned back, nothing else touched.
    assert not _refused(
        "UPDATE slas_servicecredit SET status = 'earned_back', earned_back_at = now() WHERE id = %s", [credit.pk]
    )
    with tenant_a.scope():
        credit.refresh_from_db()
        assert credit.status == CreditStatus.EARNED_BACK


def test_provisional_measurements_may_still_change_in_the_database(tenant_a):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH)
        services.compute_period(engagement=engagement, period=Period(MARCH, engagement.timezone))
        measurement = Measurement.objects.first()

    assert not _refused("UPDATE slas_measurement SET value = 1 WHERE id = %s", [measurement.pk])


# --- Set-based computation: constant queries as the items grow 10× --------------------------------------


def _queries(tenant, items: int, *, finalize: bool) -> int:
    engagement, _ = sla_engagement(tenant, targets=ALL_TARGETS, active_from=MARCH)
    with tenant.scope():
        deliver_month(engagement, MARCH, breached=BREACHED, items=items)
        march = Period(MARCH, engagement.timezone)
        with CaptureQueriesContext(connection) as captured:
            if finalize:
                services.finalize_period(engagement=engagement, period=march, now=AFTER_MARCH_GRACE)
            else:
                services.compute_period(engagement=engagement, period=march, now=datetime(2026, 3, 31, tzinfo=UTC))
        assert Measurement.objects.filter(engagement=engagement).count() == len(METRICS)
    return len(captured)


@pytest.mark.parametrize("finalize", [False, True], ids=["compute", "finalize"])
def test_queries_for_a_period_do_not_grow_with_the_items(tenant_a, tenant_b, django_assert_num_queries, finalize):
    small = _queries(tenant_a, 5, finalize=finalize)
    engagement, _ = sla_engagement(tenant_b, targets=ALL_TARGETS, active_from=MARCH)
    with tenant_b.scope():
        deliver_month(engagement, MARCH, breached=BREACHED, items=50)
        march = Period(MARCH, engagement.timezone)
        with django_assert_num_queries(small):
            if finalize:
                services.finalize_period(engagement=engagement, period=march, now=AFTER_MARCH_GRACE)
            else:
                services.compute_period(engagement=engagement, period=march, now=datetime(2026, 3, 31, tzinfo=UTC))
        assert Measurement.objects.get(metric="support_first_response").denominator == Decimal("50")


# --- Beat tasks and the operators' command ----------------------------------------------------------------


def test_daily_dispatch_finalizes_every_organizations_due_periods(tenant_a, tenant_b, settings):
    engagements = {}
    for tenant in (tenant_a, tenant_b):
        engagements[tenant] = sla_engagement(tenant, active_from=MARCH)[0]
        with tenant.scope():
            deliver_month(engagements[tenant], MARCH, breached=BREACHED)

    assert tasks.dispatch_sla_finalization.delay().get() == 2

    for tenant in (tenant_a, tenant_b):
        with tenant.scope():
            statuses = set(SlaPeriod.objects.filter(month__lte=MARCH).values_list("status", flat=True))
            assert statuses == {PeriodStatus.FINALIZED}
            assert ServiceCredit.objects.count() == 2


def test_hourly_dispatch_recomputes_open_periods(tenant_a, time_machine):
    # 23:30 UTC on 31 May is already 1 June in London (BST), the engagement's timezone: June is the open period.
    time_machine.move_to(datetime(2026, 5, 31, 23, 30, tzinfo=UTC), tick=False)
    this_month = date(2026, 6, 1)
    engagement, _ = sla_engagement(tenant_a, active_from=this_month)

    assert tasks.dispatch_sla_recompute.delay().get() == 1

    with tenant_a.scope():
        period = SlaPeriod.objects.get(engagement=engagement)
        assert (period.month, period.status) == (this_month, PeriodStatus.PROVISIONAL)
        assert Measurement.objects.filter(period=period).count() == 4


def test_compute_slas_command_computes_and_finalizes_one_month(tenant_a, capsys):
    engagement, _ = sla_engagement(tenant_a, active_from=MARCH)
    with tenant_a.scope():
        deliver_month(engagement, MARCH, breached=BREACHED)
    slug = tenant_a.organization.slug

    call_command("compute_slas", organization=slug, engagement=engagement.pk, period="2026-03")
    call_command("compute_slas", organization=slug, period="2026-03", finalize=True)

    output = capsys.readouterr().out.splitlines()
    assert output[0].endswith("2026-03 provisional: 4 provisional")
    assert output[1].endswith("2026-03 finalized: 2 breached, 2 met; credits 3763.50 GBP")  # 2,316.00 + 1,447.50


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"organization": "acme", "period": "March"}, "is not a month"),
        ({"organization": "acme", "period": "2026-13"}, "is not a month"),
        ({"engagement": 1}, "--engagement needs --organization"),
        ({"organization": "nope"}, "No organization"),
        ({"organization": "acme", "engagement": 999999}, "has no SLA schedule"),
        ({"organization": "acme", "period": "2099-01", "finalize": True}, "provisional until"),
    ],
)
def test_compute_slas_command_explains_bad_arguments(tenant_a, options, message):
    sla_engagement(tenant_a, active_from=MARCH)

    with pytest.raises(CommandError, match=message):
        call_command("compute_slas", **options)
