"""CSV that is safe to open in a spreadsheet, streamed in constant memory. Shared by every CSV MLS serves.

The API is three functions:

- `escape_cell(value, zone=None)`: the text of one cell. Text starting with `= + - @`, TAB or CR gets a leading
  apostrophe, so a spreadsheet shows it instead of evaluating it (CSV formula injection). Numbers (`int`,
  `Decimal`) are our own values, written as plain numbers and never prefixed: a spreadsheet reads `-12.50` as a
  number, not a formula. Every `str` is text, even one that looks like a number, so a learner-typed `-1+1` is
  escaped whichever field it was typed into. Dates are ISO 8601; aware datetimes ISO 8601 with their offset in
  `zone` (default: the current timezone, the organization's inside a request). `None` is empty, booleans are
  `true`/`false`, JSON values are their JSON text (escaped like any text).
- `queryset_rows(queryset, lookups, zone)`: the `lookups` of every row as tuples, fetched in chunks by one query.
  On PostgreSQL the datetimes arrive already formatted as `escape_cell` formats them (PostgreSQL's `to_char` in a
  session timezone of `zone`, set for that one query): a timestamp loaded into Python and formatted again costs
  more than the rest of its row (bench/exports.py).
- `csv_response(filename, header, rows, zone=None)`: a `StreamingHttpResponse` of the header and the rows (any
  iterable of equally long tuples, e.g. `queryset_rows(...)`), every cell as `escape_cell` writes it. The zone is
  read when the response is built: the body streams after the middleware has left the request's timezone.
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from itertools import islice

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import CharField, DateTimeField, F, Func, Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 2000  # rows fetched, formatted and sent together


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


# --- Writing ---------------------------------------------------------------------------------------------------

# Types the csv module writes exactly as escape_cell does (None as "", numbers with str()), text once checked.
_AS_IS = frozenset({str, int, Decimal, type(None)})
# A cell starting a formula, in a column joined with NUL (which PostgreSQL text never holds): a hit sends the
# column through escape_cell, a false hit (a NUL in Python-made text) only costs time.
_FORMULA_AFTER_NUL = re.compile("\x00[" + re.escape("".join(FORMULA_STARTS)) + "]")


def _escaped_column(values: tuple, zone: tzinfo) -> Sequence[object]:
    """One column of a batch as escape_cell writes it. Checked a column at a time in C (type set, join, regex):
    the usual column needs nothing, and a Python call per cell would cost more than the query."""
    types = set(map(type, values))
    if types <= _AS_IS and (str not in types or not _FORMULA_AFTER_NUL.search("\x00" + "\x00".join(map(str, values)))):
        return values
    return [_text(value) if value.__class__ is str else escape_cell(value, zone) for value in values]


def _taken(buffer: io.StringIO) -> str:
    """What was written to `buffer` since last taken (a StringIO: csv.writer calls its C write once per row)."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]], zone: tzinfo) -> Iterator[str]:
    """The CSV text of `header` and `rows`, a batch of rows at a time; memory stays one batch whatever the count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_cell(name) for name in header])
    yield _taken(buffer)
    rows = iter(rows)
    while batch := list(islice(rows, ROWS_PER_CHUNK)):
        columns = [_escaped_column(column, zone) for column in zip(*batch, strict=True)]
        writer.writerows(zip(*columns, strict=True))
        yield _taken(buffer)


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]], zone: tzinfo | None = None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_chunks(header, rows, zone or timezone.get_current_timezone()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Reading ---------------------------------------------------------------------------------------------------


class _IsoDateTime(Func):
    """PostgreSQL: a timestamptz as `datetime.isoformat()` writes it, in the session's timezone (microseconds only
    when not zero)."""

    template = "replace(to_char(%(expressions)s, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000', '')"
    output_field = CharField()


def _is_datetime(model: type[Model], lookup: str) -> bool:
    *path, name = lookup.split(LOOKUP_SEP)
    for step in path:
        model = model._meta.get_field(step).related_model
    return isinstance(model._meta.get_field(name), DateTimeField)


def queryset_rows(queryset: QuerySet, lookups: Sequence[str], zone: tzinfo) -> Iterator[tuple]:
    if connection.vendor != "postgresql":
        yield from queryset.values_list(*lookups).iterator(chunk_size=ROWS_PER_CHUNK)
        return
    columns = (_IsoDateTime(F(lookup)) if _is_datetime(queryset.model, lookup) else lookup for lookup in lookups)
    # SET LOCAL lasts until this transaction (or savepoint) ends; it is put back before a savepoint is released,
    # because Django reads timestamps on this connection as UTC; this query selects none as a timestamp.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [str(zone)])
        yield from queryset.values_list(*columns).iterator(chunk_size=ROWS_PER_CHUNK)
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [connection.timezone_name])
