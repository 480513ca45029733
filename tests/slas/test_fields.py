"""The measurement snapshot's storage: every list of ids packed one way, read back exactly as it was written; and
the migration that brought the older forms to it."""

import base64
import importlib
import json
import zlib
from array import array
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from slas import services
from slas.fields import pack_ids, unpack_ids
from slas.models import Measurement
from slas.periods import Period
from tests.factories.slas import sla_engagement, ticket

pytestmark = pytest.mark.unit

migration = importlib.import_module("slas.migrations.0008_item_ids_only_in_final_snapshots")


@given(st.lists(st.integers(min_value=1, max_value=2**62)))
def test_packing_is_lossless_for_any_list_of_ids(ids):
    assert unpack_ids(pack_ids(ids)) == ids


def test_a_hundred_thousand_close_ids_pack_into_a_few_kilobytes():
    ids = [n for n in range(1, 200_001) if n % 2]

    assert len(pack_ids(ids)["zlib_deltas"]) < 10_000  # as a JSON list: 688,895 characters


def stored_inputs(measurement: Measurement) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT inputs::text FROM slas_measurement WHERE id = %s", [measurement.pk])
        return json.loads(cursor.fetchone()[0])


def test_snapshot_stores_every_list_packed_and_reads_back_the_lists_and_figures(tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    snapshot = {"met": list(range(1, 100_001)), "failed": [7, 300_000], "pending": [], "down_minutes": "12.5000"}
    with tenant_a.scope():
        row = services.compute_period(engagement=engagement, period=Period.parse("2026-03", engagement.timezone))
        measurement = row.measurements.first()
        Measurement.objects.filter(pk=measurement.pk).update(inputs=snapshot)
        measurement.refresh_from_db()

    stored = stored_inputs(measurement)
    assert {key: set(stored[key]) for key in ("met", "failed", "pending")} == {
        "met": {"zlib_deltas"},
        "failed": {"zlib_deltas"},
        "pending": {"zlib_deltas"},
    }
    assert stored["down_minutes"] == "12.5000"
    assert measurement.inputs == snapshot


def test_provisional_measurement_stores_counts_and_the_final_one_the_ids(tenant_a):
    """Two tickets in March, one answered within 8 h and one not: the hourly recompute keeps 1 of 2 and no ids;
    finalization keeps the same counts and each outcome's ids."""
    engagement, _ = sla_engagement(
        tenant_a, targets={"support_first_response": {"target": 95, "allocation_percent": 40}}
    )
    with tenant_a.scope():
        quick = ticket(engagement, datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC))
        late = ticket(engagement, datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 3, 4, 9, tzinfo=UTC))
        march = Period.parse("2026-03", engagement.timezone)
        open_row = services.compute_period(engagement=engagement, period=march, now=datetime(2026, 4, 1, tzinfo=UTC))
        provisional = open_row.measurements.get()
        provisional_stored = stored_inputs(provisional)
        final_row = services.finalize_period(engagement=engagement, period=march, now=datetime(2026, 4, 20, tzinfo=UTC))
        final = final_row.measurements.get()

    assert (provisional.numerator, provisional.denominator, provisional.pending) == (1, 2, 0)
    assert provisional_stored == {}
    assert (final.numerator, final.denominator, final.pending) == (1, 2, 0)
    assert final.inputs == {"met": [quick.pk], "failed": [late.pk], "pending": []}


def test_migration_packs_final_snapshots_of_every_old_form_and_strips_ids_from_provisional_ones():
    # A bitmap payload is the gaps between block numbers, then the words: blocks [0, 2], words [0b101, 1 << 63].
    payload = array("q", [0, 2, 0b101, -(2**63)]).tobytes()
    bitmap = {"zlib_bitmap": base64.b64encode(zlib.compress(payload)).decode("ascii")}
    final = {"met": [9, 3], "failed": pack_ids([4, 5]), "pending": bitmap, "down_minutes": "1.0000"}
    provisional = {"met": [1], "failed": pack_ids([2]), "sessions": bitmap, "manual_measurement": 7, "status": "x"}

    packed = migration._rewritten(final, finalized=True)
    stripped = migration._rewritten(provisional, finalized=False)

    assert {key: unpack_ids(value) for key, value in packed.items() if key != "down_minutes"} == {
        "met": [3, 9],
        "failed": [4, 5],
        "pending": [0, 2, 191],  # block 0 bits 0 and 2; block 2 bit 63 = 2·64 + 63
    }
    assert packed["down_minutes"] == "1.0000"
    assert stripped == {"manual_measurement": 7, "status": "x"}


class MigrationEditor:
    """What RunPython hands a migration function that uses raw SQL: the connection."""

    connection = connection


def test_migration_rewrites_a_finalized_row_past_the_immutability_trigger_and_restores_it(tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    with tenant_a.scope():
        row = services.compute_period(engagement=engagement, period=Period.parse("2026-03", engagement.timezone))
        final, provisional = row.measurements.order_by("pk")[:2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE slas_measurement SET inputs = %s, finalized = true WHERE id = %s",
            [json.dumps({"met": [9, 2], "failed": [], "down_minutes": "1.0000"}), final.pk],
        )
        cursor.execute(
            "UPDATE slas_measurement SET inputs = %s WHERE id = %s", [json.dumps({"met": [5]}), provisional.pk]
        )

    migration.forward(None, MigrationEditor)

    assert stored_inputs(final) == {**pack_ids_of({"met": [2, 9], "failed": []}), "down_minutes": "1.0000"}
    assert stored_inputs(provisional) == {}
    with pytest.raises(DatabaseError, match="finalized"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE slas_measurement SET value = 1 WHERE id = %s", [final.pk])


def pack_ids_of(lists: dict[str, list[int]]) -> dict:
    return {key: pack_ids(ids) for key, ids in lists.items()}
