"""Item ids are kept once, in the final measurement's snapshot, in one format (`slas.fields`: zlib-packed gaps).

Finalized snapshots held JSON lists, `zlib_deltas` or `zlib_bitmap` lists; each becomes `zlib_deltas` of the same
sorted ids. Provisional measurements keep their counts and figures and lose their id lists: an open period's
drill-down reads its items live, and the next recompute writes no ids. Rewriting a finalized row's storage does
not change what it says, so the immutability trigger (0002) is set aside for this statement only.
"""

import base64
import json
import operator
import zlib
from array import array
from itertools import accumulate, chain

from django.db import migrations

PACKED = "zlib_deltas"  # the one form kept (as slas.fields writes it, restated so this migration stays as it ran)
BITMAP = "zlib_bitmap"  # the id bitmap form this migration retires: block gaps, then one 64-bit word per block
TRIGGER = "slas_measurement_finalized_immutable"


def pack_ids(ids: list[int]) -> dict[str, str]:
    gaps = array("q", map(operator.sub, ids, chain((0,), ids)))
    return {PACKED: base64.b64encode(zlib.compress(gaps.tobytes(), 1)).decode("ascii")}


def unpack_ids(packed: dict[str, str]) -> list[int]:
    gaps = array("q")
    gaps.frombytes(zlib.decompress(base64.b64decode(packed[PACKED])))
    return list(accumulate(gaps))


def _bitmap_ids(packed: dict[str, str]) -> list[int]:
    numbers = array("q")
    numbers.frombytes(zlib.decompress(base64.b64decode(packed[BITMAP])))
    half = len(numbers) // 2
    blocks, words = accumulate(numbers[:half]), numbers[half:]
    return [block * 64 + bit for block, word in zip(blocks, words, strict=True) for bit in range(64) if word >> bit & 1]


def _ids(item: object) -> list[int] | None:
    """The sorted ids an item of a snapshot holds in any of the three forms; None when it is not a list of ids."""
    if isinstance(item, list):
        return sorted(item)
    if isinstance(item, dict) and PACKED in item:
        return unpack_ids(item)
    if isinstance(item, dict) and BITMAP in item:
        return _bitmap_ids(item)
    return None


def _rewritten(inputs: dict, *, finalized: bool) -> dict:
    snapshot = {}
    for key, item in inputs.items():
        ids = _ids(item)
        if ids is None:
            snapshot[key] = item
        elif finalized:
            snapshot[key] = pack_ids(ids)
    return snapshot


def forward(apps, schema_editor):  # noqa: ANN001, ANN201 - Django's signature
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, finalized, inputs FROM slas_measurement")
        rows = cursor.fetchall()
        if postgres:  # deferred foreign-key checks still pending would forbid the ALTER TABLE: run them now
            cursor.execute(f"SET CONSTRAINTS ALL IMMEDIATE; ALTER TABLE slas_measurement DISABLE TRIGGER {TRIGGER}")
        for pk, finalized, inputs in rows:
            inputs = json.loads(inputs) if isinstance(inputs, str) else inputs
            if not isinstance(inputs, dict):
                continue
            snapshot = _rewritten(inputs, finalized=finalized)
            if snapshot != inputs:
                cursor.execute("UPDATE slas_measurement SET inputs = %s WHERE id = %s", [json.dumps(snapshot), pk])
        if postgres:
            cursor.execute(f"SET CONSTRAINTS ALL IMMEDIATE; ALTER TABLE slas_measurement ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [("slas", "0007_updated_at_database_default")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
