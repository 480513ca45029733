"""Reading the file: a CSV into numbered rows, or the errors that make it unreadable."""

import csv
import io
from collections import Counter

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .rows import RowError, _Row
from .sheets import _Sheet

MAX_ROWS = 50_000
MAX_COLUMNS = 200  # checked before any column is looked at: a header of 100,000 columns is refused at once


def _read(text: str, sheet: _Sheet) -> tuple[list[_Row], list[RowError]]:
    """The data rows, numbered as a spreadsheet shows them, or the errors that make the file unreadable."""
    records = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    rows: list[_Row] = []
    read = 0  # records read so far, so a CSV error points at the next row
    try:
        header = next(records, None)
        read = 1
        if header is None or not any(name.strip() for name in header):
            return [], [RowError(1, "", "The file has no rows.")]
        columns = [name.strip().lower() for name in header]
        if errors := _header_errors(columns, sheet):
            return [], errors
        for read, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue  # a blank line keeps its row number but is not a row to import
            if len(rows) == MAX_ROWS:
                most = number_format(MAX_ROWS, force_grouping=True)
                message = _("The file has more than %(max)s rows; split it into smaller files.") % {"max": most}
                return [], [RowError(1, "", message)]
            rows.append(_data_row(read, columns, record))
    except csv.Error as error:
        return [], [RowError(read + 1, "", _("This row cannot be read as CSV (%(error)s).") % {"error": error})]
    if not rows:
        return [], [RowError(1, "", "The file has no rows.")]
    return rows, []


def _header_errors(columns: list[str], sheet: _Sheet) -> list[RowError]:
    """What is wrong with the header, in time linear in its columns (and it has at most MAX_COLUMNS)."""
    if len(columns) > MAX_COLUMNS:
        message = _("The header has %(count)s columns; a file has at most %(max)s.") % {
            "count": number_format(len(columns), force_grouping=True),
            "max": MAX_COLUMNS,
        }
        return [RowError(1, "", message)]
    named = [column for column in columns if column]
    errors = []
    if unknown := [column for column in dict.fromkeys(named) if column not in sheet.all_columns]:
        errors.append(
            RowError(
                1,
                "",
                _("Unknown column(s): %(unknown)s. The columns are: %(columns)s.")
                % {"unknown": ", ".join(unknown), "columns": ", ".join(sheet.all_columns)},
            )
        )
    if missing := [column for column in sheet.required if column not in named]:
        errors.append(RowError(1, "", _("Missing required column(s): %(columns)s.") % {"columns": ", ".join(missing)}))
    if repeated := [column for column, count in Counter(named).items() if count > 1]:
        errors.append(
            RowError(1, "", _("Column(s) appearing more than once: %(columns)s.") % {"columns": ", ".join(repeated)})
        )
    return errors


def _data_row(number: int, columns: list[str], record: list[str]) -> _Row:
    row = _Row(number, {})
    for column, value in zip(columns, record, strict=False):
        if column:
            _put(row, column, value)
    unheaded = [value for column, value in zip(columns, record, strict=False) if not column and value.strip()]
    if unheaded or any(value.strip() for value in record[len(columns) :]):
        row.error("", _("This row has values in a column without a heading."))
    return row


def _put(row: _Row, column: str, value: str) -> None:
    if "\x00" in value:
        # PostgreSQL cannot store or even compare NUL; drop it so lookups stay safe, and say so.
        row.error(column, _("This cell contains a NUL character, which cannot be stored."))
        value = value.replace("\x00", "")
    row.cells[column] = value.strip()
