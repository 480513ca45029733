"""CSV that is safe to open in a spreadsheet, streamed in constant memory. Shared by every CSV MLS serves.

The API:

- `escape_cell(value, zone=None)`: the text of one cell. Text starting with `= + - @`, TAB or CR gets a leading
  apostrophe, so a spreadsheet shows it instead of evaluating it (CSV formula injection), and so does such a
  start after a `;` or TAB, where a spreadsheet of another locale splits the cell (`Help;'=cmd`). Numbers (`int`,
  `Decimal`) are our own values, written as plain numbers and never prefixed: a spreadsheet reads `-12.50` as a
  number, not a formula. Every `str` is text, even one that looks like a number, so a learner-typed `-1+1` is
  escaped whichever field it was typed into. Dates are ISO 8601; aware datetimes ISO 8601 with their offset in
  `zone` (default: the current timezone, the organization's inside a request). `None` is empty, booleans are
  `true`/`false`, JSON values are their JSON text (escaped like any text).
- `csv_response(filename, header, rows, zone=None)`: a `StreamingHttpResponse` of the header and the rows (any
  iterable of equally long tuples, e.g. `queryset_rows(queryset, lookups)`), every cell as `escape_cell` writes it.
  The zone is read when the response is built: the body streams after the middleware has left the request's
  timezone.
- `queryset_csv_response(filename, header, queryset, lookups, zone)`: the same for a queryset's columns, a field
  with choices written as its label ("Virtual instructor-led", not `vilt`: these files are for people; the API
  and the import templates carry the keys). On PostgreSQL the database writes the CSV (`COPY (SELECT …) TO
  STDOUT`) with every cell formatted and escaped in SQL by the same rule; elsewhere, or for a column type without
  an SQL rule, it is `csv_response`.
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from itertools import groupby, islice

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    Expression,
    F,
    Field,
    Func,
    IntegerField,
    Model,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.constants import LOOKUP_SEP
from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet set to another locale may split a cell that the csv module leaves unquoted (it quotes only
# for the comma): `Help;=cmd|' /C calc'!A0` opens as `Help` and a formula. A formula start after one gets an
# apostrophe too.
SEPARATORS = (";", "\t")
# FORMULA_STARTS as a character class that Python and PostgreSQL regular expressions read alike ("-" last).
_FORMULA_CLASS = "[" + "".join(sorted(FORMULA_STARTS, key=lambda character: character == "-")) + "]"
_SEPARATOR_THEN_FORMULA = f"([{''.join(SEPARATORS)}])(?={_FORMULA_CLASS})"
_AFTER_SEPARATOR = re.compile(_SEPARATOR_THEN_FORMULA)
ROWS_PER_CHUNK = 2000  # rows fetched, formatted and sent together
COPY_CHUNK_BYTES = 64 * 1024
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def _text(value: str) -> str:
    value = _AFTER_SEPARATOR.sub(r"\1'", value)
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
# A cell starting a formula, or a formula start after a separator, in a column joined with NUL (which PostgreSQL
# text never holds): a hit sends the column through escape_cell, a false hit only costs time.
_FORMULA_AFTER_NUL = re.compile(f"[\x00{''.join(SEPARATORS)}]{_FORMULA_CLASS}")


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
    return _attachment(filename, csv_chunks(header, rows, zone or timezone.get_current_timezone()))


def _attachment(filename: str, chunks: Iterator[str | bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Reading ---------------------------------------------------------------------------------------------------


def queryset_rows(queryset: QuerySet, lookups: Sequence[str]) -> Iterator[tuple]:
    """The `lookups` of every row as tuples (as Django loads them, a choice by its label), fetched in chunks by one
    query."""
    labels = [_labels(_field(queryset.model, lookup)) for lookup in lookups]
    for row in queryset.values_list(*lookups).iterator(chunk_size=ROWS_PER_CHUNK):
        yield tuple(names.get(value, value) if names else value for names, value in zip(labels, row, strict=True))


# --- PostgreSQL writes the CSV ---------------------------------------------------------------------------------


class _IsoDateTime(Func):
    """A timestamptz as `datetime.isoformat()` writes it, in the session's timezone (microseconds only when not
    zero)."""

    template = "replace(to_char(%(expressions)s, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000', '')"
    output_field = CharField()


class _IsoDate(Func):
    template = "to_char(%(expressions)s, 'YYYY-MM-DD')"
    output_field = CharField()


class _Boolean(Func):
    template = "CASE WHEN %(expressions)s THEN 'true' WHEN NOT %(expressions)s THEN 'false' END"
    output_field = CharField()


def _sql_character(character: str) -> str:
    return f"'{character}'" if character.isprintable() and character != "'" else f"chr({ord(character)})"


def _sql_text(text: str) -> str:
    """`text` as an SQL string expression (printable runs as literals, other characters as chr())."""
    runs = (("".join(run), printable) for printable, run in groupby(text, str.isprintable))
    return " || ".join(
        "'" + run.replace("'", "''") + "'" if printable else " || ".join(f"chr({ord(c)})" for c in run)
        for run, printable in runs
    )


# The regular expression only runs on text holding a separator: on every cell it made a text column's COPY 4x slower.
_SQL_AFTER_SEPARATORS = (
    f"CASE WHEN {' + '.join(f'strpos(%(expressions)s, {_sql_character(c)})' for c in SEPARATORS)} = 0 "
    "THEN %(expressions)s ELSE "
    f"regexp_replace(%(expressions)s, {_sql_text(_SEPARATOR_THEN_FORMULA)}, {_sql_text(chr(92) + '1' + chr(39))}, 'g')"
    " END"
)


class _EscapedText(Func):
    """Text as `_text` writes it: an apostrophe before a formula start, at the start and after a separator, from
    the same FORMULA_STARTS and SEPARATORS."""

    template = (
        f"CASE WHEN left(%(expressions)s, 1) IN ({', '.join(map(_sql_character, FORMULA_STARTS))}) "
        f"THEN '''' || {_SQL_AFTER_SEPARATORS} ELSE {_SQL_AFTER_SEPARATORS} END"
    )
    output_field = CharField()


def _field(model: type[Model], lookup: str) -> Field:
    *path, name = lookup.split(LOOKUP_SEP)
    for step in path:
        model = model._meta.get_field(step).related_model
    field = model._meta.get_field(name)
    return field.target_field if field.is_relation else field


def _labels(field: Field) -> dict[object, str]:
    """A choice field's labels by stored value (empty for a field without choices)."""
    return {value: str(label) for value, label in field.flatchoices} if field.choices else {}


def _sql_cell(field: Field, lookup: str) -> Expression | F | None:
    """SQL writing `lookup`'s cell exactly as escape_cell writes its value, or None for a type without a rule."""
    if labels := _labels(field):  # our own labels need no escaping; a value without one is written as stored
        whens = [When(**{lookup: value}, then=Value(label)) for value, label in labels.items()]
        return Case(*whens, default=_EscapedText(F(lookup)), output_field=CharField())
    if isinstance(field, CharField | TextField):
        return _EscapedText(F(lookup))
    if isinstance(field, DateTimeField):  # before DateField, its parent
        return _IsoDateTime(F(lookup))
    if isinstance(field, DateField):
        return _IsoDate(F(lookup))
    if isinstance(field, BooleanField):
        return _Boolean(F(lookup))
    if isinstance(field, IntegerField | DecimalField):  # PostgreSQL writes them as str() does
        return F(lookup)
    return None


def _copy_chunks(
    header: Sequence[str], cells: Sequence[Expression | F], queryset: QuerySet, zone: tzinfo
) -> Iterator[bytes]:
    """The CSV as `COPY (…) TO STDOUT` writes it, gathered into chunks of about COPY_CHUNK_BYTES (COPY hands over
    a row at a time). Lines end with LF, the header's too; NULL is an empty cell, an empty text `""`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([escape_cell(name) for name in header])
    yield buffer.getvalue().encode()
    sql, params = queryset.values_list(*cells).query.sql_with_params()
    copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    # SET LOCAL lasts until this transaction (or savepoint) ends; it is put back before a savepoint is released,
    # because Django reads timestamps on this connection as UTC; the COPY itself selects none as a timestamp.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [str(zone)])
        logged = cursor.debug_sql(copy_sql, params) if hasattr(cursor, "debug_sql") else nullcontext()
        with logged, cursor.cursor.copy(copy_sql, params) as copy:
            pending: list[memoryview] = []
            size = 0
            for row in copy:
                pending.append(row)
                size += len(row)
                if size >= COPY_CHUNK_BYTES:
                    yield b"".join(pending)
                    pending, size = [], 0
            yield b"".join(pending)
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [connection.timezone_name])


def queryset_csv_response(
    filename: str, header: Sequence[str], queryset: QuerySet, lookups: Sequence[str], zone: tzinfo
) -> StreamingHttpResponse:
    """`csv_response` of the `lookups` of `queryset`'s rows. On PostgreSQL, when every column's type has an SQL
    rule, the database writes the CSV itself (COPY), so no row is fetched into Python and formatted there: that
    fetching and formatting, not the query, is what a large export's time went to (bench/README.md)."""
    cells = [_sql_cell(_field(queryset.model, lookup), lookup) for lookup in lookups]
    if connection.vendor != "postgresql" or None in cells:
        return csv_response(filename, header, queryset_rows(queryset, lookups), zone)
    return _attachment(filename, _copy_chunks(header, cells, queryset, zone))
