"""CSV that is safe to open in a spreadsheet, streamed in constant memory. Shared by every CSV MLS serves.

Two functions make the API:

- `escape_cell(value, zone=None)`: the text of one cell. Text starting with `= + - @`, TAB or CR gets a leading
  apostrophe, so a spreadsheet shows it instead of evaluating it (CSV formula injection). Numbers (`int`,
  `Decimal`) are our own values, written as plain numbers and never prefixed: a spreadsheet reads `-12.50` as a
  number, not a formula. Every `str` is text, even one that looks like a number, so a learner-typed `-1+1` is
  escaped whichever field it was typed into. Dates are ISO 8601; aware datetimes ISO 8601 with their offset in
  `zone` (default: the current timezone, the organization's inside a request). `None` is empty, booleans are
  `true`/`false`, JSON values are their JSON text (escaped like any text).
- `csv_response(filename, header, rows, zone=None)`: a `StreamingHttpResponse` of the header and the rows (an
  iterable of tuples, e.g. `.values_list(...).iterator(chunk_size=...)`), written by the csv module in batches.
  The zone is read when the response is built: the body streams after the middleware has left the request's
  timezone.
"""

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from itertools import islice

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 2000  # rows formatted and sent together; also the chunk size callers should fetch with


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def escape_cell(value: object, zone: tzinfo | None = None) -> str:
    if isinstance(value, str):
        return _text(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(zone or timezone.get_current_timezone())
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _text(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))
    return _text(str(value))


class _Pending:
    """A file for csv.writer that keeps what was written until it is taken."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]], zone: tzinfo) -> Iterator[str]:
    """The CSV text of `header` and `rows`, a batch of rows at a time; memory stays one batch whatever the count."""
    pending = _Pending()
    writer = csv.writer(pending)
    writer.writerow([escape_cell(name) for name in header])
    yield pending.take()
    rows = iter(rows)
    while batch := list(islice(rows, ROWS_PER_CHUNK)):
        writer.writerows([escape_cell(value, zone) for value in row] for row in batch)
        yield pending.take()


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]], zone: tzinfo | None = None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_chunks(header, rows, zone or timezone.get_current_timezone()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
