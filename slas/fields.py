"""Storage of a measurement's input snapshot: every item id and its outcome, compact enough for 1M items.

In Python the snapshot is lists of ids (`{"met": [3, 4, 5, 9], "failed": [6], ...}`), or, as PostgreSQL returns a
long one, an `IdBitmap`. In the database a short list stays a JSON list; a long one (a month of a large tenant
can have a million items) is stored compressed, in one of two lossless forms that both read back as the sorted
list of ids:

- `{"zlib_deltas": "<base64>"}`: the gaps between consecutive ids as 64-bit integers, zlib-compressed. Ids of a
  month's items are close together, so the gaps are small and repetitive: 1M ids take a few hundred kilobytes
  instead of 7 MB of JSON for PostgreSQL to parse and compress on every hourly recompute. Order kept.
- `{"zlib_bitmap": "<base64>"}`: the ids as a bitmap, one 64-bit word per block of 64 ids that has any (bit b of
  block c is id 64·c + b), as the gaps between the blocks' numbers then the words, zlib-compressed. This is the
  form PostgreSQL builds in parallel (`slas.metrics`), so a million ids never become Python integers on their
  way from the database back to it.
"""

import base64
import operator
import sys
import zlib
from array import array
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, chain, compress
from typing import Any

from django.db import models

PACK_FROM = 1000  # lists at least this long are packed; shorter ones stay readable in the database
PACKED = "zlib_deltas"
BITMAP = "zlib_bitmap"
WORD = 64
_UNSIGNED = (1 << WORD) - 1
# The 8 bits of every byte value, lowest first, one byte (0 or 1) each: a word's bits as a mask for `compress`.
_BITS = [bytes((value >> bit) & 1 for bit in range(8)) for value in range(256)]


def pack_ids(ids: list[int]) -> dict[str, str]:
    gaps = array("q", map(operator.sub, ids, chain((0,), ids)))  # map stops at the end of `ids`: no copy of it
    return {PACKED: base64.b64encode(zlib.compress(gaps.tobytes(), 1)).decode("ascii")}


def unpack_ids(packed: dict[str, str]) -> list[int]:
    gaps = array("q")
    gaps.frombytes(zlib.decompress(base64.b64decode(packed[PACKED])))
    return list(accumulate(gaps))


@dataclass(frozen=True)
class IdBitmap:
    """Ids as 64-bit words by block: `blocks` ascending, `words[i]` the ids 64·blocks[i] + b for each bit b set
    (signed, as PostgreSQL's bigint; no word is 0)."""

    blocks: array
    words: array

    @classmethod
    def from_rows(cls, rows: list[tuple[int, ...]], column: int) -> "IdBitmap":
        """From rows (block, word, word, …) sorted by block: the words of one column; None and 0 are no ids."""
        return cls(
            array("q", [row[0] for row in rows if row[column]]),
            array("q", [row[column] for row in rows if row[column]]),
        )

    @cached_property
    def count(self) -> int:
        return sum((word & _UNSIGNED).bit_count() for word in self.words)

    def __len__(self) -> int:
        return self.count

    def ids(self) -> list[int]:
        """The ids, ascending."""
        words = array("q", self.words)
        if sys.byteorder == "big":
            words.byteswap()  # the mask reads each word's bytes lowest first
        mask = b"".join(map(_BITS.__getitem__, words.tobytes()))
        candidates = chain.from_iterable(range(block * WORD, (block + 1) * WORD) for block in self.blocks)
        return list(compress(candidates, mask))

    def packed(self) -> dict[str, str]:
        gaps = array("q", map(operator.sub, self.blocks, chain((0,), self.blocks)))
        payload = gaps.tobytes() + self.words.tobytes()
        return {BITMAP: base64.b64encode(zlib.compress(payload, 1)).decode("ascii")}

    @classmethod
    def unpacked(cls, packed: dict[str, str]) -> "IdBitmap":
        numbers = array("q")
        numbers.frombytes(zlib.decompress(base64.b64decode(packed[BITMAP])))
        half = len(numbers) // 2
        return cls(array("q", accumulate(numbers[:half])), numbers[half:])


def _packed_if_long(item: object) -> object:
    if isinstance(item, IdBitmap):
        return item.packed() if len(item) >= PACK_FROM else item.ids()
    if not isinstance(item, list) or len(item) < PACK_FROM:
        return item
    try:
        return pack_ids(item)  # array("q") takes only integers: anything else stays a plain JSON list
    except (TypeError, OverflowError):
        return item


def _unpacked(item: object) -> object:
    if isinstance(item, dict) and PACKED in item:
        return unpack_ids(item)
    if isinstance(item, dict) and BITMAP in item:
        return IdBitmap.unpacked(item).ids()
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
            value = {key: _unpacked(item) for key, item in value.items()}
        return value
