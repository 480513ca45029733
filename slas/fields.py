"""Storage of a measurement's input snapshot: every item id and its outcome, compact enough for 1M items.

In Python the snapshot is plain lists of ids (`{"met": [3, 4, 5, 9], "failed": [6], ...}`). In the database a
short list stays a JSON list; a long one (a month of a large tenant can have a million items) is stored as
`{"zlib_deltas": "<base64>"}`: the gaps between consecutive ids as 64-bit integers, zlib-compressed. Ids of a
month's items are close together, so the gaps are small and repetitive: 1M ids take a few hundred kilobytes
instead of 7 MB of JSON for PostgreSQL to parse and compress on every hourly recompute. Lossless, order kept.
"""

import base64
import operator
import zlib
from array import array
from itertools import accumulate
from typing import Any

from django.db import models

PACK_FROM = 1000  # lists at least this long are packed; shorter ones stay readable in the database
PACKED = "zlib_deltas"


def pack_ids(ids: list[int]) -> dict[str, str]:
    gaps = array("q", map(operator.sub, ids, [0, *ids[:-1]]))
    return {PACKED: base64.b64encode(zlib.compress(gaps.tobytes(), 1)).decode("ascii")}


def unpack_ids(packed: dict[str, str]) -> list[int]:
    gaps = array("q")
    gaps.frombytes(zlib.decompress(base64.b64decode(packed[PACKED])))
    return list(accumulate(gaps))


def _packed_if_long(item: object) -> object:
    if not isinstance(item, list) or len(item) < PACK_FROM:
        return item
    try:
        return pack_ids(item)  # array("q") takes only integers: anything else stays a plain JSON list
    except (TypeError, OverflowError):
        return item


class ItemSnapshotField(models.JSONField):
    """A JSON object whose long lists of ids are stored packed (see the module docstring)."""

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            value = {key: _packed_if_long(item) for key, item in value.items()}
        return super().get_prep_value(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        if isinstance(value, dict):
            value = {
                key: unpack_ids(item) if isinstance(item, dict) and PACKED in item else item
                for key, item in value.items()
            }
        return value
