"""Reading the file: a CSV into numbered rows, or the errors that make it unreadable."""

import csv
import io
from collections import Counter

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
                return [], [RowError(1, "", f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.")]
            rows.append(_data_row(read, columns, record))
    except csv.Error as error:
        return [], [RowError(read + 1, "", f"This row cannot be read as CSV ({error}).")]
    if not rows:
        return [], [RowError(1, "", "The file has no rows.")]
    return rows, []


def _header_errors(columns: list[str], sheet: _Sheet) -> list[RowError]:
    """What is wrong with the header, in time linear in its columns (and it has at most MAX_COLUMNS)."""
    if len(columns) > MAX_COLUMNS:
        return [RowError(1, "", f"The header has {len(columns):,} columns; a file has at most {MAX_COLUMNS}.")]
    named = [column for column in columns if column]
    errors = []
    if unknown := [column for column in dict.fromkeys(named) if column not in sheet.all_columns]:
        errors.append(
            RowError(
                1, "", f"Unknown column(s): {', '.join(unknown)}. The columns are: {', '.join(sheet.all_columns)}."
            )
        )
    if missing := [column for column in sheet.required if column not in named]:
        errors.append(RowError(1, "", f"Missing required column(s): {', '.join(missing)}."))
    if repeated := [column for column, count in Counter(named).items() if count > 1]:
        errors.append(RowError(1, "", f"Column(s) appearing more than once: {', '.join(repeated)}."))
    return errors


def _data_row(number: int, columns: list[str], record: list[str]) -> _Row:
    row = _Row(number, {})
    for column, value in zip(columns, record, strict=False):
        if column:
            _put(row, column, value)
    unheaded = [value for column, value in zip(columns, record, strict=False) if not column and value.strip()]
    if unheaded or any(value.strip() for value in record[len(columns) :]):
        row.error("", "This row has values in a column without a heading.")
    return row


def _put(row: _Row, column: str, value: str) -> None:
    if "\x00" in value:
        # PostgreSQL cannot store or even compare NUL; drop it so lookups stay safe, and say so.
        row.error(column, "This cell contains a NUL character, which cannot be stored.")
        value = value.replace("\x00", "")
    row.cells[column] = value.strip()
