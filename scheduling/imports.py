"""CSV import of delivery history: learners, sessions, enrollments, completions and support tickets.

A file is read whole and every row is checked before anything is written; only a file without a single error is
saved, in one transaction, upserting by `external_id`. A bad file therefore costs the user a correction, never
half an import. Errors name the row a spreadsheet shows (the header is row 1) and the column, so they can be
fixed in place.

This is a load of past delivery, so the scheduling services (live-booking rules, one audit event per step) are
not called per row: each row gets the model's own validation, the checks its constraints would make, and the
import writes one audit event. Call it inside `organization_scope(organization)`: every lookup goes through
the scoped managers, so another tenant's rows are invisible and cannot be matched or overwritten.
"""

import csv
import dataclasses
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DataError, IntegrityError, connection, models, transaction
from django.utils import timezone
from django_scopes import ScopeError, get_scope

from engagements.models import Engagement
from mls import rows as handwritten
from mls.enums import Role
from mls.models import AuditEvent, Membership, Organization, User
from mls.services import audit_event, create_audited
from mls.validators import validate_sane_date

from .enums import OCCUPYING_STATUSES, CompletionSource, EnrollmentStatus, Modality, TicketCategory
from .models import Completion, Course, Enrollment, Learner, Room, Session, SupportTicket, Venue

MAX_ROWS = 50_000
MAX_COLUMNS = 200  # checked before any column is looked at: a header of 100,000 columns is refused at once
MAX_ERRORS = 200
BATCH_SIZE = 500  # rows per INSERT/UPDATE statement, and how often progress is reported
EXAMPLE_MOMENT = "2026-03-02T09:00:00+00:00"
IMPORTABLE_ENROLLMENT_STATUSES = (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED, EnrollmentStatus.CANCELLED)
# Attendance, not an import, decides these; an import must not quietly undo it.
ATTENDANCE_STATUSES = (EnrollmentStatus.ATTENDED, EnrollmentStatus.NO_SHOW)
# A race with another writer can still hit a constraint after validation; say which rule in the user's words.
CONSTRAINT_MESSAGES = {
    "external_id": "Another import or user saved one of these external_ids meanwhile.",
    "scheduling_learner_email": "Two learners would share an email address (e.g. two learners swap emails); "
    "make the change in two imports.",
    "scheduling_enrollment_one_live_per_learner": "A learner would be on the same session twice.",
}

Progress = Callable[[int, int], None]


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

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def failed(self, column: str) -> bool:
        return any(error.column == column for error in self.errors)

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.cells.get(column, "")
        if required and not value:
            self.error(column, f"{column} is required.")
        return value

    def choice(self, column: str, allowed: Iterable[str], *, required: bool = True) -> str:
        value = self.text(column, required=required).lower()
        allowed = [str(option) for option in allowed]
        if value and value not in allowed:
            self.error(column, f"'{self.cells[column]}' is not allowed here; use one of: {', '.join(allowed)}.")
            return ""
        return value

    def whole_number(self, column: str) -> int | None:
        value = self.text(column, required=True)
        if value and not re.fullmatch(r"[+-]?[0-9]+", value):
            self.error(column, f"'{value}' is not a whole number.")
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
            self.error(column, f"'{value}' is not a date and time; use ISO 8601, e.g. {EXAMPLE_MOMENT}.")
            return None
        if parsed.utcoffset() is None:
            self.error(column, f"'{value}' has no UTC offset; add it, e.g. {EXAMPLE_MOMENT}.")
            return None
        try:
            validate_sane_date(parsed)
        except ValidationError as error:
            self.error(column, f"'{value}' is out of range: {error.messages[0]}")
            return None
        return parsed.astimezone(UTC)


@dataclass
class _Context:
    """What every row of one import is checked against, loaded before the rows with one query per model."""

    restricted_to_provider: int | None  # a provider manager imports only their provider's delivery
    found: dict[str, dict[Any, Any]]

    def reference(self, row: _Row, column: str, name: str, *, key: Any = None, label: str = "") -> Any:
        """The referenced object, or None with an error on the cell when the file names one that is not here."""
        key = row.text(column) if key is None else key
        if not key:
            return None
        obj = self.found[name].get(key)
        if obj is None:
            row.error(column, f"No {label or name} '{row.text(column)}' in this organization.")
        return obj

    def check_provider(self, row: _Row, column: str, engagement: Engagement | None, what: str) -> None:
        if engagement is not None and self.restricted_to_provider not in (None, engagement.provider_id):
            row.error(column, f"{what} belongs to another provider; you can import only your provider's delivery.")


def _chunk_size() -> int:
    """SQLite (the zero-config run path) caps the parameters of one query; PostgreSQL takes a whole file."""
    limit = connection.features.max_query_params
    return min(10_000, limit - 10) if limit else 10_000


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _by(queryset: models.QuerySet, field: str, values: Iterable[Any]) -> dict[Any, Any]:
    """Rows of `queryset` whose `field` is one of `values`, keyed by it: one query per chunk, none for no values."""
    wanted = sorted({value for value in values if value})
    found: dict[Any, Any] = {}
    for chunk in _chunks(wanted, _chunk_size()):
        found.update((getattr(obj, field), obj) for obj in queryset.filter(**{f"{field}__in": chunk}))
    return found


def _learners_by_id_or_email(external_ids: set[str], emails: set[str]) -> list[Learner]:
    """The scope's learners with one of `external_ids` or (in any case) one of `emails`, annotated `email_key`
    (the lowercased email): one query per chunk, none for no values. A learner may come twice.

    Hand-written (`mls.rows`) because every API upsert of a learner runs it: the ORM took longer to build this
    query, and to read its answer, than PostgreSQL took to run it. One SELECT per condition, joined by UNION ALL,
    so each is an index lookup; PostgreSQL planned the OR of both as a filter over all of a tenant's learners when
    it had no statistics for the tenant yet. The scope's organization is the query's own condition, and without a
    scope it raises, as `Learner.objects` would.
    """
    organization = get_scope().get("organization")
    if organization is None:
        raise ScopeError("Learners are looked up inside an organization_scope only.")
    found: list[Learner] = []
    with connection.cursor() as cursor:
        for sql, params in _learner_queries(getattr(organization, "pk", organization), external_ids, emails):
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                [learner] = handwritten.instances(row[:-1], [Learner])
                learner.email_key = row[-1]
                found.append(learner)
    return found


def _learner_queries(
    organization_id: int, external_ids: set[str], emails: set[str]
) -> Iterator[tuple[str, list[object]]]:
    """The SQL and parameters of `_learners_by_id_or_email`, a query per chunk of values. The external_id
    condition repeats the predicate of its partial unique index (`<> ''`): without it, and without statistics, the
    planner rated that index no better than the email one filtered by external_id."""
    wanted = (("l.external_id <> '' AND l.external_id", sorted(external_ids)), ("LOWER(l.email)", sorted(emails)))
    size = max(1, _chunk_size() // 2 - 2)
    for start in range(0, max(len(given) for _, given in wanted), size):
        selects, params = [], []
        for column, given in wanted:
            if chunk := given[start : start + size]:
                selects.append(_LEARNERS_SQL.format(condition=f"{column} IN ({', '.join(['%s'] * len(chunk))})"))
                params += [organization_id, *chunk]
        yield " UNION ALL ".join(selects), params


_LEARNERS_SQL = f"""
    SELECT {handwritten.columns(Learner, "l")}, LOWER(l.email)
    FROM {Learner._meta.db_table} l
    WHERE l.organization_id = %s AND {{condition}}
"""  # noqa: S608 - names from the model, values bound as parameters


def _column_values(rows: list[_Row], column: str) -> set[str]:
    return {row.cells.get(column, "") for row in rows} - {""}


# --- Sheets: how one kind of file maps onto its model ------------------------------------------------------


class _Sheet:
    """The columns of one kind of file, how a row fills a model instance, and what must be unique across rows."""

    model: type[models.Model]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    example: tuple[str, ...]  # one value per column, required then optional
    fields: tuple[str, ...]  # model fields a row sets: compared to tell updated from unchanged, then written
    columns: dict[str, str] = {}  # model field -> column where the names differ, for the model's own errors
    existing_related: tuple[str, ...] = ()  # loaded with existing rows, for the provider check of updates
    provider_delivery = False  # rows belong to a provider's engagement, so provider managers are restricted

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        """What the rows are checked against, by name: "existing" (stored rows by external_id) and what the rows
        refer to. One query per model, whatever the number of rows."""
        stored = self.model.objects.select_related(*self.existing_related)
        return {"existing": _by(stored, "external_id", _column_values(rows, "external_id"))}

    def fill(self, obj: Any, row: _Row, context: _Context) -> None:
        raise NotImplementedError

    def check_across_rows(self, checked: list[tuple[_Row, Any]], file_ids: set[str], context: _Context) -> None:
        """Uniqueness that involves other rows: earlier rows of the file and rows already in the database."""


class _LearnerSheet(_Sheet):
    model = Learner
    required = ("external_id", "name", "email")
    optional = ("business_unit", "manager_email", "region")
    example = ("L-1001", "Ada Lovelace", "ada.lovelace@example.com", "Engineering", "grace.hopper@example.com", "EMEA")
    fields = ("name", "email", "business_unit", "manager_email", "region")

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        """Stored learners with the file's external_ids and those with its emails in any case, in one query."""
        ids = _column_values(rows, "external_id")
        emails = {email.lower() for email in _column_values(rows, "email")}
        learners = _learners_by_id_or_email(ids, emails)
        return {
            "existing": {learner.external_id: learner for learner in learners if learner.external_id in ids},
            "email": {learner.email_key: learner for learner in learners if learner.email_key in emails},
        }

    def fill(self, obj: Learner, row: _Row, context: _Context) -> None:
        obj.name = row.text("name", required=True)
        obj.email = row.text("email", required=True)
        obj.business_unit = row.text("business_unit")
        obj.manager_email = row.text("manager_email")
        obj.region = row.text("region")

    def check_across_rows(self, checked: list[tuple[_Row, Learner]], file_ids: set[str], context: _Context) -> None:
        """One learner per email in an organization (compared case-insensitively: it is the same inbox)."""
        first_with: dict[str, _Row] = {}
        for row, learner in checked:
            if not learner.email or row.failed("email"):
                continue
            first = first_with.setdefault(learner.email.lower(), row)
            if first is not row:
                row.error("email", f"{learner.email} is also the email of row {first.number}.")
        for email, row in first_with.items():
            holder = context.found["email"].get(email)
            # A holder that is in the file gets its email from the file, and the file was checked above.
            if holder is not None and holder.external_id not in file_ids:
                row.error("email", f"{row.cells['email']} is already the email of {_described(holder)}.")


class _SessionSheet(_Sheet):
    model = Session
    required = ("external_id", "engagement", "course_code", "modality", "starts_at", "ends_at", "capacity")
    optional = ("requested_at", "join_url", "venue", "room")
    example = (
        "S-2001",
        "Managed learning 2026",
        "C001",
        Modality.VILT,
        EXAMPLE_MOMENT,
        "2026-03-02T12:00:00+00:00",
        "12",
        "2026-02-02T09:00:00+00:00",
        "https://meet.example.com/s-2001",
        "",
        "",
    )
    fields = (
        "engagement",
        "course",
        "modality",
        "starts_at",
        "ends_at",
        "capacity",
        "requested_at",
        "join_url",
        "room",
    )
    columns = {"course": "course_code"}
    existing_related = ("engagement",)
    provider_delivery = True

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        rooms = Room.objects.filter(
            venue__name__in=_column_values(rows, "venue"), name__in=_column_values(rows, "room")
        ).select_related("venue")
        return {
            **super().load(rows),
            "engagement": _by(Engagement.objects.all(), "name", _column_values(rows, "engagement")),
            "course": _by(Course.objects.all(), "code", _column_values(rows, "course_code")),
            "venue": _by(Venue.objects.all(), "name", _column_values(rows, "venue")),
            "room": {(room.venue.name, room.name): room for room in rooms} if _column_values(rows, "room") else {},
        }

    def fill(self, obj: Session, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            context.check_provider(row, "external_id", obj.engagement, f"Session {obj.external_id}")
        booked = (obj.starts_at, obj.ends_at, obj.room_id)
        engagement = context.reference(row, "engagement", "engagement")
        context.check_provider(row, "engagement", engagement, f"'{row.text('engagement')}'")
        if engagement:
            obj.engagement = engagement
        if course := context.reference(row, "course_code", "course", label="course with code"):
            obj.course = course
        obj.modality = row.choice("modality", Modality.values)
        starts_at, ends_at = row.moment("starts_at", required=True), row.moment("ends_at", required=True)
        if starts_at and ends_at and ends_at <= starts_at:
            row.error("ends_at", "ends_at must be after starts_at.")
        obj.starts_at, obj.ends_at = starts_at or obj.starts_at, ends_at or obj.ends_at
        obj.capacity = row.whole_number("capacity")
        requested_at = row.moment("requested_at")
        if requested_at or obj._state.adding:
            obj.requested_at = requested_at or timezone.now()
        obj.join_url = row.text("join_url")
        obj.room = self._room(row, context)
        if (
            not obj._state.adding
            and obj.status in OCCUPYING_STATUSES
            and booked != (obj.starts_at, obj.ends_at, obj.room_id)
        ):
            row.error(
                "",
                f"Session {obj.external_id} is {obj.status}: its instructors and room are booked for its current "
                "time, so change its time or room in MLS (reschedule), not by import.",
            )

    def _room(self, row: _Row, context: _Context) -> Room | None:
        venue, room = row.text("venue"), row.text("room")
        if bool(venue) != bool(room):
            row.error("room" if venue else "venue", "Give both venue and room, or neither.")
            return None
        if not venue or not context.reference(row, "venue", "venue"):
            return None
        return context.reference(row, "room", "room", key=(venue, room), label=f"room at {venue} named")


class _EnrollmentSheet(_Sheet):
    model = Enrollment
    required = ("external_id", "session_external_id", "learner_external_id")
    optional = ("requested_at", "status", "processed_at")
    example = (
        "E-3001",
        "S-2001",
        "L-1001",
        "2026-02-10T09:00:00+00:00",
        EnrollmentStatus.ENROLLED,
        "2026-02-10T15:00:00+00:00",
    )
    fields = ("session", "learner", "requested_at", "status", "processed_at")
    columns = {"session": "session_external_id", "learner": "learner_external_id"}
    existing_related = ("session__engagement",)
    provider_delivery = True

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        return {
            **super().load(rows),
            "session": _by(
                Session.objects.select_related("engagement"), "external_id", _column_values(rows, "session_external_id")
            ),
            "learner": _by(Learner.objects.all(), "external_id", _column_values(rows, "learner_external_id")),
        }

    def fill(self, obj: Enrollment, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            context.check_provider(row, "external_id", obj.session.engagement, f"Enrollment {obj.external_id}")
        if session := context.reference(row, "session_external_id", "session"):
            context.check_provider(row, "session_external_id", session.engagement, f"Session {session.external_id}")
            obj.session = session
        if learner := context.reference(row, "learner_external_id", "learner"):
            obj.learner = learner
        requested_at = row.moment("requested_at")
        if requested_at or obj._state.adding:
            obj.requested_at = requested_at or timezone.now()
        # When the provider acted on the request (the enrollment-processing SLA clock); blank keeps what is stored.
        processed_at = row.moment("processed_at")
        if processed_at and not row.failed("requested_at") and processed_at < obj.requested_at:
            stored = "" if row.text("requested_at") else f" ({obj.requested_at.isoformat()}, as requested_at is blank)"
            row.error("processed_at", f"processed_at cannot be before requested_at{stored}.")
        elif processed_at:
            obj.processed_at = processed_at
        status = row.choice("status", IMPORTABLE_ENROLLMENT_STATUSES, required=False)
        if status and obj.status in ATTENDANCE_STATUSES and status != obj.status:
            row.error("status", f"Attendance is recorded for this enrollment: its status stays {obj.status}.")
        elif status or obj._state.adding:
            obj.status = status or EnrollmentStatus.ENROLLED

    def check_across_rows(self, checked: list[tuple[_Row, Enrollment]], file_ids: set[str], context: _Context) -> None:
        """A learner holds at most one live (not cancelled) enrollment per session."""
        first_with: dict[tuple[int, int], _Row] = {}
        for row, enrollment in checked:
            if enrollment.status == EnrollmentStatus.CANCELLED or not (enrollment.session_id and enrollment.learner_id):
                continue
            first = first_with.setdefault((enrollment.session_id, enrollment.learner_id), row)
            if first is not row:
                row.error("learner_external_id", f"This learner is already on this session in row {first.number}.")
        live = Enrollment.objects.exclude(status=EnrollmentStatus.CANCELLED)
        for chunk in _chunks(sorted({session_id for session_id, _ in first_with}), _chunk_size()):
            for holder in live.filter(session__in=chunk).select_related("learner"):
                row = first_with.get((holder.session_id, holder.learner_id))
                if row is not None and holder.external_id not in file_ids:
                    row.error(
                        "learner_external_id",
                        f"{_described(holder.learner)} is already on this session "
                        f"(enrollment {holder.external_id or holder.pk}).",
                    )


class _CompletionSheet(_Sheet):
    model = Completion
    required = ("external_id", "learner_external_id", "course_code", "completed_at")
    optional = ("recorded_at",)
    example = ("CP-4001", "L-1001", "C001", "2026-03-02T12:00:00+00:00", "2026-03-03T09:00:00+00:00")
    fields = ("learner", "course", "completed_at", "recorded_at")
    columns = {"learner": "learner_external_id", "course": "course_code"}

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        return {
            **super().load(rows),
            "learner": _by(Learner.objects.all(), "external_id", _column_values(rows, "learner_external_id")),
            "course": _by(Course.objects.all(), "code", _column_values(rows, "course_code")),
        }

    def fill(self, obj: Completion, row: _Row, context: _Context) -> None:
        if obj._state.adding:
            obj.source = CompletionSource.IMPORT  # an update keeps where the completion first came from
        if learner := context.reference(row, "learner_external_id", "learner"):
            obj.learner = learner
        if course := context.reference(row, "course_code", "course", label="course with code"):
            obj.course = course
        obj.completed_at = row.moment("completed_at", required=True) or obj.completed_at
        recorded_at = row.moment("recorded_at")
        if recorded_at or obj._state.adding:
            obj.recorded_at = recorded_at or timezone.now()


class _TicketSheet(_Sheet):
    model = SupportTicket
    required = ("external_id", "engagement", "category", "subject", "opened_at")
    optional = ("first_response_at", "resolved_at", "learner_external_id")
    example = (
        "T-5001",
        "Managed learning 2026",
        TicketCategory.TECHNICAL,
        "Cannot join the virtual classroom",
        EXAMPLE_MOMENT,
        "2026-03-02T10:30:00+00:00",
        "2026-03-02T14:00:00+00:00",
        "L-1001",
    )
    fields = ("engagement", "learner", "category", "subject", "opened_at", "first_response_at", "resolved_at")
    columns = {"learner": "learner_external_id"}
    existing_related = ("engagement",)
    provider_delivery = True

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        return {
            **super().load(rows),
            "engagement": _by(Engagement.objects.all(), "name", _column_values(rows, "engagement")),
            "learner": _by(Learner.objects.all(), "external_id", _column_values(rows, "learner_external_id")),
        }

    def fill(self, obj: SupportTicket, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            context.check_provider(row, "external_id", obj.engagement, f"Ticket {obj.external_id}")
        engagement = context.reference(row, "engagement", "engagement")
        context.check_provider(row, "engagement", engagement, f"'{row.text('engagement')}'")
        if engagement:
            obj.engagement = engagement
        obj.learner = context.reference(row, "learner_external_id", "learner")
        obj.category = row.choice("category", TicketCategory.values)
        obj.subject = row.text("subject", required=True)
        opened_at = row.moment("opened_at", required=True)
        obj.opened_at = opened_at or obj.opened_at
        obj.first_response_at = row.moment("first_response_at")
        obj.resolved_at = row.moment("resolved_at")
        for column in ("first_response_at", "resolved_at"):
            if opened_at and getattr(obj, column) and getattr(obj, column) < opened_at:
                row.error(column, f"{column} cannot be before opened_at.")


SHEETS: dict[str, _Sheet] = {
    "learners": _LearnerSheet(),
    "sessions": _SessionSheet(),
    "enrollments": _EnrollmentSheet(),
    "completions": _CompletionSheet(),
    "tickets": _TicketSheet(),
}


def _described(learner: Learner) -> str:
    return f"learner {learner.name} ({learner.external_id or 'no external_id'})"


# --- Reading the file --------------------------------------------------------------------------------------


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


# --- Checking and writing ----------------------------------------------------------------------------------


def _field_values(obj: models.Model, fields: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(obj, obj._meta.get_field(name).attname) for name in fields)


def _changed(fields: tuple[str, ...], before: tuple[Any, ...] | None, after: tuple[Any, ...]) -> set[str]:
    """The fields a row changes: all of them for a new row."""
    if before is None:
        return set(fields)
    return {name for name, old, new in zip(fields, before, after, strict=True) if old != new}


def _model_errors(obj: models.Model, row: _Row, sheet: _Sheet) -> None:
    """The model's own field validation, with each error put on the column the user typed the value in.

    Foreign keys are resolved by the sheet (validating them again would cost a query per row), and fields whose
    cell already has an error are skipped so the user reads one message per cell.
    """
    column_of = {field.name: sheet.columns.get(field.name, field.name) for field in obj._meta.concrete_fields}
    exclude = [
        field.name
        for field in obj._meta.concrete_fields
        if field.is_relation or row.failed(column_of[field.name]) or field.primary_key
    ]
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            column = column_of.get(field, "") if field != NON_FIELD_ERRORS else ""
            if column not in sheet.all_columns:
                column, messages = "", [f"{field}: {message}" for message in messages]
            for message in messages:
                row.error(column, message)


def _restricted_provider(actor: User | None) -> int | None:
    """The provider a provider account manager may import delivery for; None for the client's own roles."""
    if actor is None:
        return None
    membership = Membership.objects.filter(user=actor).first()
    if membership is not None and membership.role == Role.PROVIDER_MANAGER:
        return membership.provider_id
    return None


class _ProgressCounter:
    """Reports (done, total) every BATCH_SIZE steps; each row is two steps (checked, then saved) so the count
    only ever goes up."""

    def __init__(self, callback: Progress | None, rows: int) -> None:
        self.callback, self.total, self.done, self.reported = callback, 2 * rows, 0, 0

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if not self.callback or self.done == self.reported:
            return
        if self.done - self.reported >= BATCH_SIZE or self.done == self.total:
            self.reported = self.done
            self.callback(self.done, self.total)

    def finish(self) -> None:
        self.advance(self.total - self.done)


def _capped(errors: list[RowError]) -> list[RowError]:
    errors = sorted(errors, key=lambda error: error.row)
    if len(errors) <= MAX_ERRORS:
        return errors
    more = len(errors) - MAX_ERRORS
    return [*errors[:MAX_ERRORS], RowError(errors[MAX_ERRORS].row, "", f"…and {more:,} more errors from here on.")]


def _check_scope(organization: Organization) -> None:
    """Lookups follow the active tenant scope and new rows get `organization`: both must be the same tenant."""
    current = get_scope()
    scoped_to = getattr(current.get("organization"), "pk", current.get("organization"))
    if not current.get("_enabled") or scoped_to != organization.pk:
        raise ValueError(f"import_csv must run inside organization_scope({organization.slug!r}).")


def _sheet(kind: str) -> _Sheet:
    if kind not in SHEETS:
        raise ValueError(f"Unknown import kind {kind!r}; use one of: {', '.join(SHEETS)}.")
    return SHEETS[kind]


def template_csv(kind: str) -> str:
    """The header and one example row of `kind`, for users to download and fill in."""
    sheet = _sheet(kind)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet.all_columns)
    writer.writerow(sheet.example)
    return out.getvalue()


def import_csv(
    *, kind: str, organization: Organization, text: str, actor: User | None, progress: Progress | None = None
) -> ImportResult:
    """Check every row of a CSV of `kind` (a key of SHEETS), then upsert all rows by external_id or none.

    `progress(done, total)` is called every BATCH_SIZE steps; total is twice the rows (each is checked, then
    saved), so a stored percentage never goes backwards. Blank optional cells clear the field, except those with
    a default (requested_at, recorded_at, status) and processed_at, which keep an existing row's value.
    """
    sheet = _sheet(kind)
    _check_scope(organization)
    rows, errors = _read(text, sheet)
    if errors:
        return ImportResult(created=0, updated=0, errors=errors)
    return _import(kind, sheet, organization, rows, actor, _restricted_provider(actor), progress)


def import_records(
    *, kind: str, organization: Organization, records: Sequence[Mapping[str, Any]], membership: Membership
) -> ImportResult:
    """The API's upsert: the same checks and all-or-nothing write as a CSV, for records shaped like its rows.

    Errors name the record's index (from 0) as their row and the field as their column. Values are read as a
    CSV cell would be (numbers as their text, null as blank), so a rule about a cell holds for both.
    """
    sheet = _sheet(kind)
    _check_scope(organization)
    if not records:
        return ImportResult(created=0, updated=0, errors=[RowError(0, "", "Send at least one item.")])
    if len(records) > MAX_ROWS:
        return ImportResult(
            created=0, updated=0, errors=[RowError(0, "", f"Send at most {MAX_ROWS:,} items at a time.")]
        )
    rows = [_record_row(index, record, sheet) for index, record in enumerate(records)]
    restricted = membership.provider_id if membership.role == Role.PROVIDER_MANAGER else None
    return _import(kind, sheet, organization, rows, membership.user, restricted, None)


def _record_row(index: int, record: Mapping[str, Any], sheet: _Sheet) -> _Row:
    row = _Row(index, {})
    for field, value in record.items():
        if field not in sheet.all_columns:
            row.error(field, f"Unknown field; the fields are: {', '.join(sheet.all_columns)}.")
        elif isinstance(value, dict | list):
            row.error(field, "Give a single value here, not a list or an object.")
        else:
            _put(row, field, "" if value is None else str(value).lower() if isinstance(value, bool) else str(value))
    return row


def _import(
    kind: str,
    sheet: _Sheet,
    organization: Organization,
    rows: list[_Row],
    actor: User | None,
    restricted_to_provider: int | None,
    progress: Progress | None,
) -> ImportResult:
    counter = _ProgressCounter(progress, len(rows))
    context = _Context(restricted_to_provider if sheet.provider_delivery else None, sheet.load(rows))
    file_ids = _column_values(rows, "external_id")
    existing = context.found["existing"]
    first_with: dict[str, _Row] = {}
    checked: list[tuple[_Row, models.Model]] = []
    changes: list[tuple[models.Model, set[str]]] = []  # (instance, fields the file changes)
    for row in rows:
        external_id = row.text("external_id", required=True)
        first = first_with.setdefault(external_id, row) if external_id else row
        if first is not row:
            row.error("external_id", f"external_id {external_id} is already used in row {first.number}.")
        obj = existing.get(external_id) if first is row else None
        before = _field_values(obj, sheet.fields) if obj is not None else None
        obj = obj or sheet.model(organization=organization, external_id=external_id)
        sheet.fill(obj, row, context)
        _model_errors(obj, row, sheet)
        if first is row:
            checked.append((row, obj))
            changes.append((obj, _changed(sheet.fields, before, _field_values(obj, sheet.fields))))
        counter.advance()
    sheet.check_across_rows(checked, file_ids, context)
    errors = [error for row in rows for error in row.errors]
    if errors:
        counter.finish()
        return ImportResult(created=0, updated=0, errors=_capped(errors))
    try:
        result = _write(kind, sheet, organization, actor, changes, counter)
    except (IntegrityError, DataError) as error:
        message = next((text for name, text in CONSTRAINT_MESSAGES.items() if name in str(error)), str(error).strip())
        return ImportResult(created=0, updated=0, errors=[RowError(1, "", f"Nothing was saved: {message}")])
    counter.finish()
    return result


def _write(
    kind: str,
    sheet: _Sheet,
    organization: Organization,
    actor: User | None,
    changes: list[tuple[models.Model, set[str]]],
    counter: _ProgressCounter,
) -> ImportResult:
    """Write the checked rows and one audit event for them, all or nothing.

    New rows only, as many as one INSERT takes (an API item, most bulk calls), go with their audit event in one
    statement (`create_audited`), atomic by itself; anything else runs in a transaction (`_write_batches`).
    """
    to_update = [(obj, changed) for obj, changed in changes if changed and not obj._state.adding]
    to_create = [obj for obj, _ in changes if obj._state.adding]
    unchanged = len(changes) - len(to_update) - len(to_create)
    counter.advance(unchanged)
    event = audit_event(
        organization=organization,
        actor=actor,
        action=f"import.{kind}",
        obj=organization,
        after={"created": len(to_create), "updated": len(to_update)},
    )
    if to_create and not to_update and len(to_create) <= BATCH_SIZE:
        create_audited(to_create, event)
        counter.advance(len(to_create))
    else:
        _write_batches(sheet, to_update, to_create, event, counter)
    rows = tuple(obj for obj, _ in changes)
    return ImportResult(created=len(to_create), updated=len(to_update), errors=[], unchanged=unchanged, rows=rows)


@transaction.atomic
def _write_batches(
    sheet: _Sheet,
    to_update: list[tuple[models.Model, set[str]]],
    to_create: list[models.Model],
    event: AuditEvent,
    counter: _ProgressCounter,
) -> None:
    """Updates before inserts: a row that gives up an email or a seat frees it for a new row of the same file.

    Each UPDATE sets only the fields its batch changes: Django builds a CASE per field and row, the slow part.
    """
    now = timezone.now()
    for batch in _chunks(to_update, BATCH_SIZE):
        fields = [name for name in sheet.fields if any(name in changed for _, changed in batch)]
        for obj, _ in batch:
            obj.updated_at = now  # bulk_update does not run auto_now
        sheet.model.objects.bulk_update([obj for obj, _ in batch], [*fields, "updated_at"])
        counter.advance(len(batch))
    for batch in _chunks(to_create, BATCH_SIZE):
        sheet.model.objects.bulk_create(batch)
        counter.advance(len(batch))
    event.save()
