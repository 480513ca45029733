"""The measurement snapshot's storage: long lists of ids packed, read back exactly as they were written."""

import json

from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from slas import services
from slas.fields import pack_ids, unpack_ids
from slas.models import Measurement
from slas.periods import Period
from tests.factories.slas import sla_engagement


@given(st.lists(st.integers(min_value=1, max_value=2**62)))
def test_packing_is_lossless_for_any_list_of_ids(ids):
    assert unpack_ids(pack_ids(ids)) == ids


def test_a_hundred_thousand_close_ids_pack_into_a_few_kilobytes():
    ids = [n for n in range(1, 200_001) if n % 2]

    assert len(pack_ids(ids)["zlib_deltas"]) < 10_000  # as a JSON list: 688,895 characters


def test_snapshot_round_trips_through_the_database_and_short_lists_stay_readable(tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    snapshot = {"met": list(range(1, 100_001)), "failed": [7, 300_000], "pending": [], "down_minutes": "12.5000"}
    with tenant_a.scope():
        row = services.compute_period(engagement=engagement, period=Period.parse("2026-03", engagement.timezone))
        measurement = row.measurements.first()
        Measurement.objects.filter(pk=measurement.pk).update(inputs=snapshot)
        measurement.refresh_from_db()

    with connection.cursor() as cursor:
        cursor.execute("SELECT inputs::text FROM slas_measurement WHERE id = %s", [measurement.pk])
        stored = json.loads(cursor.fetchone()[0])
    assert set(stored["met"]) == {"zlib_deltas"}
    assert {key: stored[key] for key in ("failed", "pending", "down_minutes")} == {
        "failed": [7, 300000],
        "pending": [],
        "down_minutes": "12.5000",
    }
    assert measurement.inputs == snapshot
