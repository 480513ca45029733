"""A row of an import as it is read, checked and written: its cells and their errors, what every row is checked
against, and what the import did."""

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.models import Engagement
from mls.validators import validate_sane_date

EXAMPLE_MOMENT = "2026-03-02T09:00:00+00:00"
# What a row is told when it names something that is not there, by what it names (`%(value)s`: the cell); callers
# with another wording pass their own (`missing=`).
NOT_FOUND = {
    "learner": gettext_lazy("No learner '%(value)s' in this organization."),
    "session": gettext_lazy("No session '%(value)s' in this organization."),
    "course": gettext_lazy("No course with code '%(value)s' in this organization."),
    "venue": gettext_lazy("No venue '%(value)s' in this organization."),
    "requirement": gettext_lazy("No requirement '%(value)s' in this organization."),
}


@dataclass(frozen=True)
class RowError:
    """One problem where the user sees it: the spreadsheet row (header = 1) and the column ("" = whole row)."""

    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    """What an import did. Any error means nothing was written; `unchanged` rows matched and already agreed.
    `rows` are the rows as written (or found unchanged), one per external_id in the order of the file."""

    created: int
    updated: int
    errors: list[RowError]
    unchanged: int = 0
    rows: tuple[models.Model, ...] = dataclasses.field(default=(), compare=False, repr=False)


class _Row:
    """One data row's cells, read with checks that record an error against the cell instead of raising."""

    def __init__(self, number: int, cells: dict[str, str]) -> None:
        self.number = number
        self.cells = cells
        self.errors: list[RowError] = []
        self.before: dict[str, Any] | None = None  # the stored row's sheet fields; None for a new row

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def failed(self, column: str) -> bool:
        return any(error.column == column for error in self.errors)

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.cells.get(column, "")
        if required and not value:
            self.error(column, _("%(column)s is required.") % {"column": column})
        return value

    def choice(self, column: str, allowed: Iterable[str], *, required: bool = True) -> str:
        value = self.text(column, required=required).lower()
        allowed = [str(option) for option in allowed]
        if value and value not in allowed:
            self.error(
                column,
                _("'%(value)s' is not allowed here; use one of: %(allowed)s.")
                % {"value": self.cells[column], "allowed": ", ".join(allowed)},
            )
            return ""
        return value

    def whole_number(self, column: str) -> int | None:
        value = self.text(column, required=True)
        if value and not re.fullmatch(r"[+-]?[0-9]+", value):
            self.error(column, _("'%(value)s' is not a whole number.") % {"value": value})
            return None
        return int(value) if value else None

    def moment(self, column: str, *, required: bool = False) -> datetime | None:
        """An ISO 8601 date and time with its UTC offset: a naive time would be read in the wrong zone."""
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.error(
                column,
                _("'%(value)s' is not a date and time; use ISO 8601, e.g. %(example)s.")
                % {"value": value, "example": EXAMPLE_MOMENT},
            )
            return None
        if parsed.utcoffset() is None:
            self.error(
                column,
                _("'%(value)s' has no UTC offset; add it, e.g. %(example)s.")
                % {"value": value, "example": EXAMPLE_MOMENT},
            )
            return None
        try:
            validate_sane_date(parsed)
        except ValidationError as error:
            self.error(
                column, _("'%(value)s' is out of range: %(problem)s") % {"value": value, "problem": error.messages[0]}
            )
            return None
        return parsed.astimezone(UTC)


@dataclass
class _Context:
    """What every row of one import is checked against, loaded before the rows with one query per model."""

    restricted_to_provider: int | None  # a provider manager imports only their provider's delivery
    found: dict[str, dict[Any, Any]]

    def reference(self, row: _Row, column: str, name: str, *, key: Any = None, missing: str = "", **names: Any) -> Any:
        """The referenced object, or None with an error on the cell when the file names one that is not here."""
        key = row.text(column) if key is None else key
        if not key:
            return None
        obj = self.found[name].get(key)
        if obj is None:
            message = missing or NOT_FOUND.get(name) or _("No %(what)s '%(value)s' in this organization.")
            row.error(column, message % {"what": name, "value": row.text(column), **names})
        return obj

    def check_provider(self, row: _Row, column: str, engagement: Engagement | None, what: str) -> None:
        if engagement is not None and self.restricted_to_provider not in (None, engagement.provider_id):
            row.error(
                column,
                _("%(what)s belongs to another provider; you can import only your provider's delivery.")
                % {"what": what},
            )


def _field_values(obj: models.Model, fields: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(obj, obj._meta.get_field(name).attname) for name in fields)


@dataclass
class _Written:
    """A row to write: its instance as it will be saved, the sheet's fields before (None: a new row) and which of
    them the row changes."""

    obj: models.Model
    before: dict[str, Any] | None
    after: dict[str, Any]
    changed: set[str]
    action: str
