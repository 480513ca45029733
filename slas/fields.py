"""Storage of a final measurement's snapshot: every item id by outcome, compact enough for a million items.

In Python the snapshot holds sorted lists of ids (`{"met": [3, 4, 5, 9], "failed": [6], ...}`) next to plain
figures (`"down_minutes"`). In the database every list of ids is `{"zlib_deltas": "<base64>"}`: the gaps between
consecutive ids as 64-bit integers, zlib-compressed. A month's ids are close together, so the gaps are small and
repetitive: the bench month's 1.8 million ids take 0.3 MB instead of 15 MB of JSON, and the drill-down of a
finalized period decodes a list in milliseconds instead of parsing megabytes of `jsonb` on every page.
"""

import base64
import operator
import zlib
from array import array
from itertools import accumulate, chain
from typing import Any

from django.db import models

PACKED = "zlib_deltas"


def pack_ids(ids: list[int]) -> dict[str, str]:
    gaps = array("q", map(operator.sub, ids, chain((0,), ids)))  # map stops at the end of `ids`: no copy of it
    return {PACKED: base64.b64encode(zlib.compress(gaps.tobytes(), 1)).decode("ascii")}


def unpack_ids(packed: dict[str, str]) -> list[int]:
    gaps = array("q")
    gaps.frombytes(zlib.decompress(base64.b64decode(packed[PACKED])))
    return list(accumulate(gaps))


class ItemSnapshotField(models.JSONField):
    """A JSON object whose lists of ids are stored packed (see the module docstring)."""

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            value = {key: pack_ids(item) if isinstance(item, list) else item for key, item in value.items()}
        return super().get_prep_value(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        if isinstance(value, dict):
            value = {
                key: unpack_ids(item) if isinstance(item, dict) and PACKED in item else item
                for key, item in value.items()
            }
        return value
