"""The measurement snapshot's storage: long lists of ids packed, read back exactly as they were written."""

import json

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from slas import services
from slas.fields import PACK_FROM, IdBitmap, pack_ids, unpack_ids
from slas.models import Measurement
from slas.periods import Period
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.unit


@given(st.lists(st.integers(min_value=1, max_value=2**62)))
def test_packing_is_lossless_for_any_list_of_ids(ids):
    assert unpack_ids(pack_ids(ids)) == ids


def bitmap_of(ids: set[int]) -> IdBitmap:
    """The bitmap PostgreSQL returns for these ids (blocks in any order, words as signed bigints)."""
    words: dict[int, int] = {}
    for n in ids:
        words[n >> 6] = words.get(n >> 6, 0) | 1 << (n & 63)
    rows = sorted((block, word - 2**64 if word >= 2**63 else word) for block, word in words.items())
    return IdBitmap.from_rows(rows, 1)


@given(st.sets(st.integers(min_value=1, max_value=2**62)))
def test_bitmap_gives_back_the_ids_ascending_and_packs_losslessly(ids):
    bitmap = bitmap_of(ids)

    assert (bitmap.ids(), len(bitmap)) == (sorted(ids), len(ids))
    assert IdBitmap.unpacked(bitmap.packed()).ids() == sorted(ids)


def test_bitmap_skips_blocks_without_ids_of_its_column():
    rows = [(0, 0b1010, None), (1, None, 1), (2, -(2**63), 0)]  # ids 1 and 3; 64; 191 (bit 63 of block 2)

    assert IdBitmap.from_rows(rows, 1).ids() == [1, 3, 191]
    assert IdBitmap.from_rows(rows, 2).ids() == [64]


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


def test_bitmaps_are_stored_packed_when_long_as_lists_when_short_and_read_back_as_lists(tenant_a):
    engagement, _ = sla_engagement(tenant_a)
    many, few = set(range(5, 4 * PACK_FROM, 3)), {2, 70, 4000}
    with tenant_a.scope():
        row = services.compute_period(engagement=engagement, period=Period.parse("2026-03", engagement.timezone))
        measurement = row.measurements.first()
        measurement.inputs = {"met": bitmap_of(many), "failed": bitmap_of(few), "pending": bitmap_of(set())}
        measurement.save(update_fields=["inputs"])
        measurement.refresh_from_db()

    with connection.cursor() as cursor:
        cursor.execute("SELECT inputs::text FROM slas_measurement WHERE id = %s", [measurement.pk])
        stored = json.loads(cursor.fetchone()[0])
    assert set(stored["met"]) == {"zlib_bitmap"}
    assert (stored["failed"], stored["pending"]) == ([2, 70, 4000], [])
    assert measurement.inputs == {"met": sorted(many), "failed": [2, 70, 4000], "pending": []}
