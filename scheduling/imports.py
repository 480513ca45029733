"""CSV import of delivery history: learners, sessions, enrollments, completions, support tickets, feedback,
assessment attempts and compliance assignments.

A file is read whole and every row is checked before anything is written; only a file without a single error is
saved, in one transaction, upserting by `external_id`. A bad file therefore costs the user a correction, never
half an import. Errors name the row a spreadsheet shows (the header is row 1) and the column, so they can be
fixed in place.

The rules are the web's, applied to all rows at once (set-based, not a service call per row): capacity and the
FIFO waitlist (`services.place_enrollments`, under the sessions' locks), compliance assignments closed by a
completion (`services.close_compliance_assignments`), double booking (`services.double_bookings`); a past
delivery is a mode of those rules (README, "Live and historic writes"). Each written row gets its own audit event
with the sheet's fields before and after. Call it inside `organization_scope(organization)`: every lookup goes
through the scoped managers, so another tenant's rows are invisible and cannot be matched or overwritten.
"""

import csv
import dataclasses
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import get_scope

from engagements.enums import Side
from engagements.models import Engagement
from mls.enums import Permission
from mls.models import AuditEvent, Membership, Organization, User
from mls.services import audit_event, create_audited
from mls.validators import validate_sane_date

from . import services
from .enums import (
    OCCUPYING_STATUSES,
    CompletionSource,
    ContentOwnership,
    EnrollmentStatus,
    Modality,
    SessionStatus,
    TicketCategory,
)
from .models import (
    AssessmentAttempt,
    Completion,
    ComplianceAssignment,
    ComplianceRequirement,
    Course,
    Enrollment,
    Feedback,
    Learner,
    Outage,
    Room,
    Session,
    SupportTicket,
    Venue,
)

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
    **services.CONSTRAINT_MESSAGES,  # double booking
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
        self.before: dict[str, Any] | None = None  # the stored row's sheet fields; None for a new row

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

    One SELECT per condition, joined by UNION ALL, so each is an index lookup: PostgreSQL planned the OR of both
    as a filter over all of a tenant's learners when it had no statistics for the tenant yet. Outside a scope the
    scoped manager raises.
    """
    return [learner for query in _learner_queries(external_ids, emails) for learner in query]


def _learner_queries(external_ids: set[str], emails: set[str]) -> Iterator[models.QuerySet]:
    """The queries of `_learners_by_id_or_email`, one per chunk of values. The external_id condition repeats the
    predicate of its partial unique index (`<> ''`): without it, and without statistics, the planner rated that
    index no better than the email one filtered by external_id."""
    learners = Learner.objects.annotate(email_key=Lower("email")).order_by()
    by_id, by_email = learners.exclude(external_id=""), learners
    ids, keys = sorted(external_ids), sorted(emails)
    size = max(1, _chunk_size() // 2 - 2)
    for start in range(0, max(len(ids), len(keys)), size):
        chunk_ids, chunk_keys = ids[start : start + size], keys[start : start + size]
        queries = [by_id.filter(external_id__in=chunk_ids)] if chunk_ids else []
        queries += [by_email.filter(email_key__in=chunk_keys)] if chunk_keys else []
        first, *others = queries
        yield first.union(*others, all=True) if others else first


def _column_values(rows: list[_Row], column: str) -> set[str]:
    return {row.cells.get(column, "") for row in rows} - {""}


# --- Engagement references -----------------------------------------------------------------------------------

# A row names its engagement by exactly one of these: the name (readable, but a rename breaks an integration), the
# MLS id or the engagement's external_id (both stable).
ENGAGEMENT_COLUMNS = ("engagement", "engagement_id", "engagement_external_id")
_ENGAGEMENT_KEYS = {"engagement": ("name", ""), "engagement_id": ("pk", " with id"), "engagement_external_id": (
    "external_id", " with external_id")}  # fmt: skip


def load_engagements(rows: list[_Row]) -> dict[str, dict[Any, Engagement]]:
    """The engagements the rows refer to, by reference column and key, in one query (none without references)."""
    names, external_ids = _column_values(rows, "engagement"), _column_values(rows, "engagement_external_id")
    ids = {int(value) for value in _column_values(rows, "engagement_id") if re.fullmatch(r"[0-9]{1,18}", value)}
    found: dict[str, dict[Any, Engagement]] = {column: {} for column in ENGAGEMENT_COLUMNS}
    if names or ids or external_ids:
        wanted = models.Q(name__in=names) | models.Q(pk__in=ids) | models.Q(external_id__in=external_ids - {""})
        for engagement in Engagement.objects.filter(wanted):
            for column, (attribute, _) in _ENGAGEMENT_KEYS.items():
                found[column][getattr(engagement, attribute)] = engagement
    return found


def engagement_of(row: _Row, context: "_Context") -> Engagement | None:
    """The row's engagement, named by exactly one of ENGAGEMENT_COLUMNS, or None with an error on the cell; a
    provider manager's row must name an engagement of their provider."""
    given = [column for column in ENGAGEMENT_COLUMNS if row.text(column)]
    if len(given) != 1:
        row.error(
            given[1] if given else "engagement",
            "Give the engagement by exactly one of engagement (its name), engagement_id or engagement_external_id.",
        )
        return None
    [column] = given
    text = row.text(column)
    if column == "engagement_id" and not re.fullmatch(r"[0-9]{1,18}", text):
        row.error(column, f"'{text}' is not an engagement id (a whole number).")
        return None
    engagement = context.found[column].get(int(text) if column == "engagement_id" else text)
    if engagement is None:
        row.error(column, f"No engagement{_ENGAGEMENT_KEYS[column][1]} '{text}' in this organization.")
    context.check_provider(row, column, engagement, f"'{text}'")
    return engagement


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
    decided = ()  # model fields `apply_rules` may still have to decide, so the model does not validate them
    # What the writer must hold, whichever way the rows come (CSV, API): the provider's SLA inputs by default.
    permission: str = Permission.LOG_DELIVERY

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

    has_rules = False  # whether `apply_rules` must run, under its locks, in the write's transaction

    def apply_rules(self, checked: list[tuple[_Row, Any]]) -> list[tuple[dict[str, Any], models.Model]]:
        """Domain rules that decide under locks, in the write's transaction (errors go on the rows, and nothing is
        written); returns stored rows they change besides the file's, with their fields before."""
        return []

    def after_write(self, written: list["_Written"], organization: Organization) -> None:
        """What the written rows set off in other tables (e.g. compliance assignments a completion closes), in the
        write's transaction. A sheet without rules writes new rows alone in one statement, without calling this."""


class _LearnerSheet(_Sheet):
    model = Learner
    permission = Permission.IMPORT_DATA  # on the web, learners are created only by importing them
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


SESSION_MOMENTS = ("requested_at", "confirmed_at", "cancelled_at", "cancelled_by", "cancellation_reason")


class _SessionSheet(_Sheet):
    """Sessions to come and sessions of the past (history): `status` with its moments, validated as transitions
    of the stored session, and the double-booking check of a session that comes to hold its room and instructors."""

    model = Session
    required = ("external_id", "course_code", "modality", "starts_at", "ends_at", "capacity")
    optional = (
        "engagement",
        "engagement_id",
        "engagement_external_id",
        "requested_at",
        "join_url",
        "venue",
        "room",
        "status",
        "confirmed_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
    )
    example = (
        "S-2001",
        "C001",
        Modality.VILT,
        EXAMPLE_MOMENT,
        "2026-03-02T12:00:00+00:00",
        "12",
        "Managed learning 2026",
        "",
        "",
        "2026-02-02T09:00:00+00:00",
        "https://meet.example.com/s-2001",
        "",
        "",
        SessionStatus.CONFIRMED,
        "2026-02-03T11:00:00+00:00",
        "",
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
        "status",
        "confirmed_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
    )
    columns = {"course": "course_code"}
    existing_related = ("engagement", "room")
    provider_delivery = True
    # Where a stored session may go: history is final, and a session does not go back to being requested.
    NEXT_STATUSES = {
        SessionStatus.REQUESTED: set(SessionStatus.values),
        SessionStatus.CONFIRMED: {SessionStatus.CONFIRMED, SessionStatus.DELIVERED, SessionStatus.CANCELLED},
        SessionStatus.DELIVERED: {SessionStatus.DELIVERED},
        SessionStatus.CANCELLED: {SessionStatus.CANCELLED},
    }

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        rooms = Room.objects.filter(
            venue__name__in=_column_values(rows, "venue"), name__in=_column_values(rows, "room")
        ).select_related("venue")
        return {
            **super().load(rows),
            **load_engagements(rows),
            "course": _by(Course.objects.all(), "code", _column_values(rows, "course_code")),
            "venue": _by(Venue.objects.all(), "name", _column_values(rows, "venue")),
            "room": {(room.venue.name, room.name): room for room in rooms} if _column_values(rows, "room") else {},
        }

    def fill(self, obj: Session, row: _Row, context: _Context) -> None:
        stored_status = None if obj._state.adding else obj.status
        if not obj._state.adding:
            context.check_provider(row, "external_id", obj.engagement, f"Session {obj.external_id}")
        booked = (obj.starts_at, obj.ends_at, obj.room_id)
        if engagement := engagement_of(row, context):
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
        if stored_status in OCCUPYING_STATUSES and booked != (obj.starts_at, obj.ends_at, obj.room_id):
            row.error(
                "",
                f"Session {obj.external_id} is {obj.status}: its instructors and room are booked for its current "
                "time, so change its time or room in MLS (reschedule), not by import.",
            )
        self._status(obj, row, stored_status)

    def _status(self, obj: Session, row: _Row, stored_status: str | None) -> None:
        """The status and its moments. Blank cells keep what is stored (a new session: requested)."""
        obj.status = row.choice("status", SessionStatus.values, required=False) or stored_status or obj.status
        obj.confirmed_at = row.moment("confirmed_at") or obj.confirmed_at
        obj.cancelled_at = row.moment("cancelled_at") or obj.cancelled_at
        obj.cancelled_by = row.choice("cancelled_by", Side.values, required=False) or obj.cancelled_by
        obj.cancellation_reason = row.text("cancellation_reason") or obj.cancellation_reason
        if row.failed("status") or not any(row.text(column) for column in ("status", *SESSION_MOMENTS)):
            return  # nothing about its status given: the stored session keeps it as it is
        if stored_status and obj.status not in self.NEXT_STATUSES[stored_status]:
            row.error("status", f"Session {obj.external_id} is {stored_status}: it cannot become {obj.status}.")
            return
        if obj.status in OCCUPYING_STATUSES:
            if not obj.confirmed_at and not row.failed("confirmed_at"):
                row.error("confirmed_at", f"A {obj.status} session needs confirmed_at (when it was confirmed).")
            elif obj.confirmed_at and obj.requested_at and obj.confirmed_at < obj.requested_at:
                row.error("confirmed_at", "confirmed_at cannot be before requested_at.")
            if stored_status not in OCCUPYING_STATUSES:
                try:
                    services.check_delivery_setup(obj)
                except ValidationError as error:
                    for field, messages in error.message_dict.items():
                        for message in messages:
                            row.error(field if field in self.all_columns else "", message)
        elif row.text("confirmed_at") and obj.status == SessionStatus.REQUESTED:
            row.error("confirmed_at", "confirmed_at is for a confirmed, delivered or cancelled session; give status.")
        if obj.status == SessionStatus.DELIVERED and obj.starts_at and obj.starts_at > timezone.now():
            row.error("status", "A session that has not started yet cannot be delivered.")
        if obj.status == SessionStatus.CANCELLED:
            for column in ("cancelled_at", "cancelled_by", "cancellation_reason"):
                if not getattr(obj, column) and not row.failed(column):
                    row.error(column, f"A cancelled session needs {column}.")
            if obj.cancelled_at and obj.requested_at and obj.cancelled_at < obj.requested_at:
                row.error("cancelled_at", "cancelled_at cannot be before requested_at.")
        else:
            for column in ("cancelled_at", "cancelled_by", "cancellation_reason"):
                if row.text(column):
                    row.error(column, f"{column} is for a cancelled session; give status cancelled.")

    def _room(self, row: _Row, context: _Context) -> Room | None:
        venue, room = row.text("venue"), row.text("room")
        if bool(venue) != bool(room):
            row.error("room" if venue else "venue", "Give both venue and room, or neither.")
            return None
        if not venue or not context.reference(row, "venue", "venue"):
            return None
        return context.reference(row, "room", "room", key=(venue, room), label=f"room at {venue} named")

    def check_across_rows(self, checked: list[tuple[_Row, Session]], file_ids: set[str], context: _Context) -> None:
        """No double booking by sessions that come to hold their room and instructors (`services.double_bookings`,
        the web's check, for all of them at once: other rows of the file included)."""
        becoming = [
            (row, session)
            for row, session in checked
            if session.status in OCCUPYING_STATUSES
            and (row.before or {}).get("status") not in OCCUPYING_STATUSES
            and not row.errors
        ]
        clashes = services.double_bookings([session for _, session in becoming])
        for index, problems in clashes.items():
            for field, message in problems.items():
                becoming[index][0].error(field if field in self.all_columns else "", message)

    def after_write(self, written: list["_Written"], organization: Organization) -> None:
        """Instructors of a session that now holds (or no longer holds) its time become (un)available."""
        services.sync_instructor_slots([item.obj for item in written if item.before and item.changed & {"status"}])


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
    fields = ("session", "learner", "requested_at", "status", "processed_at", "cancelled_at")  # the last: by rule
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
        # A blank status asks for a place (a new row) or keeps the stored one; `apply_rules` decides the place.
        status = row.choice("status", IMPORTABLE_ENROLLMENT_STATUSES, required=False)
        if status and obj.status in ATTENDANCE_STATUSES and status != obj.status:
            row.error("status", f"Attendance is recorded for this enrollment: its status stays {obj.status}.")
        elif status or obj._state.adding:
            obj.status = status or services.SEAT_REQUEST

    has_rules = True
    decided = ("status",)

    def apply_rules(self, checked: list[tuple[_Row, Enrollment]]) -> list[tuple[dict[str, Any], models.Model]]:
        """Capacity and the FIFO waitlist of the web (`services.place_enrollments`), for all rows at once, in file
        order among requests made at the same moment; the waitlisted learners a cancellation promotes are written
        too (and told, as on the web)."""
        requests = [
            services.SeatRequest(
                enrollment,
                stored_session_id=row.before["session"] if row.before else None,
                stored_status=row.before["status"] if row.before else None,
            )
            for row, enrollment in checked
        ]
        placement = services.place_enrollments(requests, now=timezone.now())
        for index, message in placement.errors.items():
            checked[index][0].error("session_external_id", message)
        return [(self.stored(other, status=EnrollmentStatus.WAITLISTED), other) for other in placement.others]

    def stored(self, obj: Enrollment, **was: Any) -> dict[str, Any]:
        return {**dict(zip(self.fields, _field_values(obj, self.fields), strict=True)), **was}

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

    has_rules = True  # the completions and the assignments they close are written together

    def after_write(self, written: list["_Written"], organization: Organization) -> None:
        """Written completions close their learners' open compliance assignments, as `record_completion` does;
        the local day that starts the next cycle is the organization's (a completion names no engagement)."""
        completions = [item.obj for item in written if item.before is None or item.changed & {"learner", "course"}]
        services.close_compliance_assignments(completions, zone=organization.timezone)


class _TicketSheet(_Sheet):
    model = SupportTicket
    required = ("external_id", "category", "subject", "opened_at")
    optional = ("engagement", "engagement_id", "engagement_external_id", "first_response_at", "resolved_at",
                "learner_external_id")  # fmt: skip
    example = (
        "T-5001",
        TicketCategory.TECHNICAL,
        "Cannot join the virtual classroom",
        EXAMPLE_MOMENT,
        "Managed learning 2026",
        "",
        "",
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
            **load_engagements(rows),
            "learner": _by(Learner.objects.all(), "external_id", _column_values(rows, "learner_external_id")),
        }

    def fill(self, obj: SupportTicket, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            context.check_provider(row, "external_id", obj.engagement, f"Ticket {obj.external_id}")
        if engagement := engagement_of(row, context):
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


# --- Feedback, assessment attempts and compliance assignments (their rules: scheduling.services) -----------


def _score(row: _Row, column: str) -> Decimal | None:
    """A decimal number such as 72.5 (a score or a pass mark)."""
    value = row.text(column, required=True)
    try:
        number = Decimal(value) if value else None
    except InvalidOperation:
        number = None
    if value and (number is None or not number.is_finite()):
        row.error(column, f"'{value}' is not a number; write it like 72.5.")
        return None
    return number


def _day(row: _Row, column: str, *, required: bool = False) -> date | None:
    """An ISO 8601 date (2026-06-30); None when blank."""
    value = row.text(column, required=required)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        row.error(column, f"'{value}' is not a date; use ISO 8601, e.g. 2026-06-30.")
        return None


def _refuse_repeats(
    checked: list[tuple[_Row, Any]],
    file_ids: set[str],
    *,
    key: Callable[[Any], tuple | None],
    stored: Mapping[tuple, Any],
    column: str,
    in_file: str,
    in_store: Callable[[tuple, Any], str],
) -> None:
    """One row per `key` (None: the row names too little to compare): a later row of the file repeating an earlier
    one gets `in_file` (with {row}, the earlier row's number); a row repeating a stored row that the file does not
    also rewrite gets `in_store(key, holder)`."""
    first_with: dict[tuple, _Row] = {}
    for row, obj in checked:
        value = key(obj)
        if value is None or row.failed(column):
            continue
        first = first_with.setdefault(value, row)
        if first is not row:
            row.error(column, in_file.format(row=first.number))
    for value, row in first_with.items():
        holder = stored.get(value)
        if holder is not None and holder.external_id not in file_ids:
            row.error(column, in_store(value, holder))


def _rule_errors(row: _Row, refusals: dict[str, str], columns: Mapping[str, str]) -> None:
    """A service's refusals (by model field) on the columns the user typed the values in."""
    for field, message in refusals.items():
        row.error(columns.get(field, field), message)


class _FeedbackSheet(_Sheet):
    """A learner's feedback on a session they attended, one per learner and session (services.feedback_refusals)."""

    model = Feedback
    permission = Permission.LOG_DELIVERY
    required = ("external_id", "session_external_id", "learner_external_id", "instructor_score", "overall_score")
    optional = ("comment", "submitted_at")
    example = ("F-6001", "S-2001", "L-1001", "5", "4", "Clear and practical.", "2026-03-02T13:00:00+00:00")
    fields = ("session", "learner", "instructor_score", "overall_score", "comment", "submitted_at")
    columns = {"session": "session_external_id", "learner": "learner_external_id"}
    existing_related = ("session__engagement",)
    provider_delivery = True

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        """Also the live enrollments and the stored feedback of the sessions and learners named: one query each."""
        sessions = _by(
            Session.objects.select_related("engagement"), "external_id", _column_values(rows, "session_external_id")
        )
        learners = _by(Learner.objects.all(), "external_id", _column_values(rows, "learner_external_id"))
        pairs = {"session__in": [s.pk for s in sessions.values()], "learner__in": [lr.pk for lr in learners.values()]}
        named = bool(sessions and learners)
        live = Enrollment.objects.filter(**pairs).exclude(status=EnrollmentStatus.CANCELLED) if named else []
        rated = Feedback.objects.filter(**pairs) if named else []
        return {
            **super().load(rows),
            "session": sessions,
            "learner": learners,
            "enrollment_status": {(e.session_id, e.learner_id): e.status for e in live},
            "rated": {(f.session_id, f.learner_id): f for f in rated},
        }

    def fill(self, obj: Feedback, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            context.check_provider(row, "external_id", obj.session.engagement, f"Feedback {obj.external_id}")
        if session := context.reference(row, "session_external_id", "session"):
            context.check_provider(row, "session_external_id", session.engagement, f"Session {session.external_id}")
            obj.session = session
        if learner := context.reference(row, "learner_external_id", "learner"):
            obj.learner = learner
        obj.instructor_score = row.whole_number("instructor_score")
        obj.overall_score = row.whole_number("overall_score")
        obj.comment = row.text("comment")
        submitted_at = row.moment("submitted_at")
        if submitted_at or obj._state.adding:
            obj.submitted_at = submitted_at or timezone.now()
        if session and learner and not row.failed("submitted_at"):
            refusals = services.feedback_refusals(
                session=session,
                enrollment_status=context.found["enrollment_status"].get((session.pk, learner.pk)),
                submitted_at=obj.submitted_at,
                now=timezone.now(),
            )
            _rule_errors(row, refusals, self.columns)

    def check_across_rows(self, checked: list[tuple[_Row, Feedback]], file_ids: set[str], context: _Context) -> None:
        """A learner rates a session once: in the file, and against feedback already stored."""
        _refuse_repeats(
            checked,
            file_ids,
            key=lambda feedback: (
                (feedback.session_id, feedback.learner_id) if feedback.session_id and feedback.learner_id else None
            ),
            stored=context.found["rated"],
            column="learner_external_id",
            in_file="This learner already rates this session in row {row}.",
            in_store=lambda _, holder: (
                f"This learner has already rated this session (feedback {holder.external_id or holder.pk})."
            ),
        )


class _AttemptSheet(_Sheet):
    """Assessment attempts; passed is derived (services.attempt_passed), numbers unique per learner and course."""

    model = AssessmentAttempt
    permission = Permission.LOG_DELIVERY
    required = (
        "external_id",
        "learner_external_id",
        "course_code",
        "attempt_number",
        "attempted_at",
        "score",
        "pass_mark",
    )
    example = ("A-7001", "L-1001", "C001", "1", "2026-03-02T12:30:00+00:00", "84.5", "70")
    fields = ("learner", "course", "attempt_number", "attempted_at", "score", "pass_mark", "passed")
    columns = {"learner": "learner_external_id", "course": "course_code"}
    existing_related = ("course",)
    provider_delivery = True

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        """Also which providers deliver the courses named, and the attempts already numbered: one query each."""
        learners = _by(Learner.objects.all(), "external_id", _column_values(rows, "learner_external_id"))
        courses = _by(Course.objects.all(), "code", _column_values(rows, "course_code"))
        existing = super().load(rows)
        course_ids = {c.pk for c in courses.values()} | {a.course_id for a in existing["existing"].values()}
        delivered: dict[int, set[int]] = {}
        if course_ids:
            sessions = Session.objects.filter(course__in=course_ids).values_list("course", "engagement__provider")
            for course_id, provider_id in sessions.distinct():
                delivered.setdefault(course_id, set()).add(provider_id)
        taken = (
            AssessmentAttempt.objects.filter(learner__in=[lr.pk for lr in learners.values()], course__in=course_ids)
            if learners and course_ids
            else []
        )
        return {
            **existing,
            "learner": learners,
            "course": courses,
            "delivered_by": delivered,
            "numbered": {(a.learner_id, a.course_id, a.attempt_number): a for a in taken},
        }

    def _check_course_provider(self, row: _Row, column: str, course: Course, context: _Context) -> None:
        provider = context.restricted_to_provider
        if provider is not None and provider not in context.found["delivered_by"].get(course.pk, ()):
            row.error(column, f"Your provider delivers no session of {course.code}.")

    def fill(self, obj: AssessmentAttempt, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            self._check_course_provider(row, "external_id", obj.course, context)
        if learner := context.reference(row, "learner_external_id", "learner"):
            obj.learner = learner
        if course := context.reference(row, "course_code", "course", label="course with code"):
            self._check_course_provider(row, "course_code", course, context)
            obj.course = course
        obj.attempt_number = row.whole_number("attempt_number")
        obj.attempted_at = row.moment("attempted_at", required=True) or obj.attempted_at
        obj.score, obj.pass_mark = _score(row, "score"), _score(row, "pass_mark")
        if obj.score is not None and obj.pass_mark is not None:
            obj.passed = services.attempt_passed(obj.score, obj.pass_mark)
        elif obj._state.adding:
            obj.passed = False  # not saved: the row has an error on its score or pass mark, and says only that
        if obj.attempted_at and not row.failed("attempted_at"):
            _rule_errors(row, services.attempt_refusals(attempted_at=obj.attempted_at, now=timezone.now()), {})

    def check_across_rows(
        self, checked: list[tuple[_Row, AssessmentAttempt]], file_ids: set[str], context: _Context
    ) -> None:
        """Attempt numbers are unique per learner and course: in the file, and against attempts already stored."""
        _refuse_repeats(
            checked,
            file_ids,
            key=lambda attempt: (
                (attempt.learner_id, attempt.course_id, attempt.attempt_number)
                if attempt.learner_id and attempt.course_id and attempt.attempt_number
                else None
            ),
            stored=context.found["numbered"],
            column="attempt_number",
            in_file="Row {row} has the same attempt of this learner and course.",
            in_store=lambda key, holder: (
                f"This learner already has attempt {key[2]} at this course (attempt {holder.external_id or holder.pk})."
            ),
        )


class _AssignmentSheet(_Sheet):
    """Per-learner mandatory training: due dates and completions (services.assignment_refusals)."""

    model = ComplianceAssignment
    permission = Permission.ASSIGN_COMPLIANCE
    required = ("external_id", "learner_external_id", "due_on")
    optional = ("requirement", "requirement_id", "completed_at")
    example = ("CA-8001", "L-1001", "2026-06-30", "Data protection", "", "2026-05-12T10:00:00+00:00")
    fields = ("requirement", "learner", "due_on", "completed_at")
    columns = {"learner": "learner_external_id"}

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        """Also the requirements by name and by id, and the learners' stored assignments: one query each."""
        learners = _by(Learner.objects.all(), "external_id", _column_values(rows, "learner_external_id"))
        ids = {value for value in _column_values(rows, "requirement_id") if re.fullmatch(r"[0-9]{1,18}", value)}
        by_id = _by(ComplianceRequirement.objects.all(), "pk", {int(value) for value in ids})
        by_name = _by(ComplianceRequirement.objects.all(), "name", _column_values(rows, "requirement"))
        held = ComplianceAssignment.objects.filter(learner__in=[lr.pk for lr in learners.values()]) if learners else []
        return {
            **super().load(rows),
            "learner": learners,
            "requirement": by_name,
            "requirement_id": {str(pk): requirement for pk, requirement in by_id.items()},
            "cycle": {(a.requirement_id, a.learner_id, a.due_on): a for a in held},
        }

    def fill(self, obj: ComplianceAssignment, row: _Row, context: _Context) -> None:
        named = [column for column in ("requirement", "requirement_id") if row.text(column)]
        if len(named) != 1:
            row.error("requirement", "Give the requirement by its name (requirement) or its id (requirement_id).")
        elif requirement := context.reference(row, named[0], named[0], label="requirement"):
            obj.requirement = requirement
        if learner := context.reference(row, "learner_external_id", "learner"):
            obj.learner = learner
        obj.due_on = _day(row, "due_on", required=True)
        obj.completed_at = row.moment("completed_at")
        _rule_errors(row, services.assignment_refusals(completed_at=obj.completed_at, now=timezone.now()), {})

    def check_across_rows(
        self, checked: list[tuple[_Row, ComplianceAssignment]], file_ids: set[str], context: _Context
    ) -> None:
        """A learner has a requirement due once on a day: in the file, and against assignments already stored."""
        _refuse_repeats(
            checked,
            file_ids,
            key=lambda assignment: (
                (assignment.requirement_id, assignment.learner_id, assignment.due_on)
                if assignment.requirement_id and assignment.learner_id and assignment.due_on
                else None
            ),
            stored=context.found["cycle"],
            column="due_on",
            in_file="Row {row} assigns this requirement to this learner on the same day.",
            in_store=lambda _, holder: (
                "This learner already has this requirement due that day "
                f"(assignment {holder.external_id or holder.pk})."
            ),
        )


def _flag(row: _Row, column: str) -> bool | None:
    """A yes/no cell (true/false, yes/no, 1/0); None when blank."""
    value = row.text(column).lower()
    if not value:
        return None
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    row.error(column, f"'{row.cells[column]}' is not yes or no; use true or false.")
    return None


class _CourseSheet(_Sheet):
    """The course catalogue. Blank optional cells keep what is stored (a course's review date included: an
    integration that does not send it must not make regulated content look unreviewed)."""

    model = Course
    permission = Permission.MANAGE_COURSES
    required = ("external_id", "code", "title", "modality", "duration_hours")
    optional = ("ownership", "regulated", "last_reviewed_on", "review_interval_days")
    example = ("CRS-7001", "C001", "Data protection essentials", Modality.SELF_PACED, "1.5", ContentOwnership.BESPOKE,
               "true", "2026-01-15", "365")  # fmt: skip
    fields = (
        "code",
        "title",
        "modality",
        "duration_hours",
        "ownership",
        "regulated",
        "last_reviewed_on",
        "review_interval_days",
    )

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        return {**super().load(rows), "code": _by(Course.objects.all(), "code", _column_values(rows, "code"))}

    def fill(self, obj: Course, row: _Row, context: _Context) -> None:
        obj.code = row.text("code", required=True)
        obj.title = row.text("title", required=True)
        obj.modality = row.choice("modality", Modality.values)
        obj.duration_hours = row.text("duration_hours", required=True) or obj.duration_hours
        if ownership := row.choice("ownership", ContentOwnership.values, required=False):
            obj.ownership = ownership
        if (regulated := _flag(row, "regulated")) is not None:
            obj.regulated = regulated
        reviewed_on = _day(row, "last_reviewed_on")
        if error := services.reviewed_on_error(reviewed_on, timezone.localdate()):
            row.error("last_reviewed_on", error)
        elif reviewed_on:
            obj.last_reviewed_on = reviewed_on
        if interval := row.text("review_interval_days"):
            if interval.isdigit():
                obj.review_interval_days = int(interval)
            else:
                row.error("review_interval_days", f"'{interval}' is not a whole number of days.")

    def check_across_rows(self, checked: list[tuple[_Row, Course]], file_ids: set[str], context: _Context) -> None:
        """One course per code in an organization."""
        first_with: dict[str, _Row] = {}
        for row, course in checked:
            if not course.code or row.failed("code"):
                continue
            first = first_with.setdefault(course.code, row)
            if first is not row:
                row.error("code", f"Course code {course.code} is also the code of row {first.number}.")
        for code, row in first_with.items():
            holder = context.found["code"].get(code)
            if holder is None or holder.external_id == row.text("external_id") or holder.external_id in file_ids:
                continue  # a holder in the file gets its code from the file, checked above
            if holder.external_id:
                row.error("code", f"Course code {code} is already the code of course {holder.external_id}.")
            else:
                row.error(
                    "code",
                    f"Course {code} already exists without an external_id: give it this external_id on its page "
                    "(Edit course) to update it from here.",
                )


class _OutageSheet(_Sheet):
    model = Outage
    permission = Permission.LOG_DELIVERY
    required = ("external_id", "starts_at", "ends_at", "description")
    optional = (*ENGAGEMENT_COLUMNS, "planned")
    example = ("O-8001", EXAMPLE_MOMENT, "2026-03-02T09:45:00+00:00", "Virtual classroom unavailable",
               "Managed learning 2026", "", "", "false")  # fmt: skip
    fields = ("engagement", "starts_at", "ends_at", "planned", "description")
    existing_related = ("engagement",)
    provider_delivery = True

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        return {**super().load(rows), **load_engagements(rows)}

    def fill(self, obj: Outage, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            context.check_provider(row, "external_id", obj.engagement, f"Outage {obj.external_id}")
        if engagement := engagement_of(row, context):
            obj.engagement = engagement
        if (planned := _flag(row, "planned")) is not None:
            obj.planned = planned
        starts_at, ends_at = row.moment("starts_at", required=True), row.moment("ends_at", required=True)
        if starts_at and ends_at:
            times = {"starts_at": starts_at, "ends_at": ends_at, "planned": obj.planned, "now": timezone.now()}
            for column, message in services.outage_time_errors(**times).items():
                row.error(column, message)
        obj.starts_at, obj.ends_at = starts_at or obj.starts_at, ends_at or obj.ends_at
        obj.description = row.text("description", required=True)


SHEETS: dict[str, _Sheet] = {
    "learners": _LearnerSheet(),
    "sessions": _SessionSheet(),
    "enrollments": _EnrollmentSheet(),
    "completions": _CompletionSheet(),
    "tickets": _TicketSheet(),
    "feedback": _FeedbackSheet(),
    "assessment-attempts": _AttemptSheet(),
    "compliance-assignments": _AssignmentSheet(),
    "courses": _CourseSheet(),
    "outages": _OutageSheet(),
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
        if field.is_relation or row.failed(column_of[field.name]) or field.primary_key or field.name in sheet.decided
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


def _require_permission(kind: str, sheet: _Sheet, membership: Membership | None) -> None:
    """Checked before a row is read: the web, CSV and API refuse the same roles (no member, no write)."""
    if membership is None or not membership.has_permission(sheet.permission):
        raise PermissionDenied(f"Your role may not write {kind}.")


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
    PermissionDenied when the actor's role may not write `kind` (the sheet's permission), before anything is read.
    """
    sheet = _sheet(kind)
    _check_scope(organization)
    membership = Membership.objects.filter(user=actor).first() if actor is not None else None
    _require_permission(kind, sheet, membership)
    rows, errors = _read(text, sheet)
    if errors:
        return ImportResult(created=0, updated=0, errors=errors)
    return _import(kind, sheet, organization, rows, actor, membership.provider_id, progress)


def import_records(
    *, kind: str, organization: Organization, records: Sequence[Mapping[str, Any]], membership: Membership
) -> ImportResult:
    """The API's upsert: the same checks and all-or-nothing write as a CSV, for records shaped like its rows.

    Errors name the record's index (from 0) as their row and the field as their column. Values are read as a
    CSV cell would be (numbers as their text, null as blank), so a rule about a cell holds for both.
    PermissionDenied (the API's 403) when the member's role may not write `kind`, before anything is read.
    """
    sheet = _sheet(kind)
    _check_scope(organization)
    _require_permission(kind, sheet, membership)
    if not records:
        return ImportResult(created=0, updated=0, errors=[RowError(0, "", "Send at least one item.")])
    if len(records) > MAX_ROWS:
        return ImportResult(
            created=0, updated=0, errors=[RowError(0, "", f"Send at most {MAX_ROWS:,} items at a time.")]
        )
    rows = [_record_row(index, record, sheet) for index, record in enumerate(records)]
    return _import(kind, sheet, organization, rows, membership.user, membership.provider_id, None)


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
    for row in rows:
        external_id = row.text("external_id", required=True)
        first = first_with.setdefault(external_id, row) if external_id else row
        if first is not row:
            row.error("external_id", f"external_id {external_id} is already used in row {first.number}.")
        obj = existing.get(external_id) if first is row else None
        row.before = dict(zip(sheet.fields, _field_values(obj, sheet.fields), strict=True)) if obj else None
        obj = obj or sheet.model(organization=organization, external_id=external_id)
        sheet.fill(obj, row, context)
        _model_errors(obj, row, sheet)
        if first is row:
            checked.append((row, obj))
        counter.advance()
    sheet.check_across_rows(checked, file_ids, context)
    errors = [error for row in rows for error in row.errors]
    if errors:
        counter.finish()
        return ImportResult(created=0, updated=0, errors=_capped(errors))
    try:
        result = _write(kind, sheet, organization, actor, checked, counter)
    except _Refused:
        counter.finish()
        return ImportResult(created=0, updated=0, errors=_capped([error for row in rows for error in row.errors]))
    except (IntegrityError, DataError) as error:
        message = next((text for name, text in CONSTRAINT_MESSAGES.items() if name in str(error)), str(error).strip())
        return ImportResult(created=0, updated=0, errors=[RowError(1, "", f"Nothing was saved: {message}")])
    counter.finish()
    return result


class _Refused(Exception):
    """A rule checked under the write's locks refused rows (the errors are on them): roll the write back."""


@dataclass
class _Written:
    """A row to write: its instance as it will be saved, the sheet's fields before (None: a new row) and which of
    them the row changes."""

    obj: models.Model
    before: dict[str, Any] | None
    after: dict[str, Any]
    changed: set[str]
    action: str


def _write(
    kind: str,
    sheet: _Sheet,
    organization: Organization,
    actor: User | None,
    checked: list[tuple[_Row, models.Model]],
    counter: _ProgressCounter,
) -> ImportResult:
    """Write the checked rows, each with its audit event (before → after of the sheet's fields), all or nothing.

    New rows only, as many as one INSERT takes (an API item, most bulk calls), of a sheet without rules to apply
    under locks, go with their audit events in one statement (`create_audited`), atomic by itself; anything else
    runs in a transaction, where the sheet's rules (`apply_rules`) decide under their locks first.
    """
    if not sheet.has_rules and all(obj._state.adding for _, obj in checked) and len(checked) <= BATCH_SIZE:
        written = _changes(kind, sheet, checked, [])
        create_audited([item.obj for item in written], _events(organization, actor, written))
        counter.advance(len(written))
    else:
        with transaction.atomic():
            others = sheet.apply_rules(checked)
            if any(row.errors for row, _ in checked):
                raise _Refused
            written = _changes(kind, sheet, checked, others)
            _write_batches(sheet, written, _events(organization, actor, written), counter)
            sheet.after_write(written, organization)
    created = sum(1 for item in written if item.before is None)
    updated = sum(1 for item in written if item.before is not None and item.action == f"import.{kind}")
    unchanged = len(checked) - created - updated
    counter.advance(unchanged)
    rows = tuple(obj for _, obj in checked)
    return ImportResult(created=created, updated=updated, errors=[], unchanged=unchanged, rows=rows)


def _changes(
    kind: str,
    sheet: _Sheet,
    checked: list[tuple[_Row, models.Model]],
    others: list[tuple[dict[str, Any], models.Model]],
) -> list[_Written]:
    """The rows that change something (new ones included), then the stored rows the rules changed besides them
    (e.g. a promoted waitlisted learner), each with the sheet's fields before and after."""
    written = []
    pairs = [(f"import.{kind}", row.before, obj) for row, obj in checked]
    pairs += [(f"{sheet.model._meta.model_name}.promoted", before, obj) for before, obj in others]
    for action, before, obj in pairs:
        values = _field_values(obj, sheet.fields)
        changed = _changed(sheet.fields, None if before is None else tuple(before.values()), values)
        if changed:
            written.append(_Written(obj, before, dict(zip(sheet.fields, values, strict=True)), changed, action))
    return written


def _events(organization: Organization, actor: User | None, written: list[_Written]) -> list[AuditEvent]:
    """One audit event per written row: its sheet fields before (None: created) and after."""
    return [
        audit_event(
            organization=organization,
            actor=actor,
            action=item.action,
            obj=item.obj,
            before=item.before,
            after=item.after,
        )
        for item in written
    ]


def _write_batches(sheet: _Sheet, written: list[_Written], events: list[AuditEvent], counter: _ProgressCounter) -> None:
    """Updates before inserts: a row that gives up an email or a seat frees it for a new row of the same file.
    The events go last, when every new row has its id. Call inside a transaction.

    Each UPDATE sets only the fields its batch changes: Django builds a CASE per field and row, the slow part.
    """
    now = timezone.now()
    to_update = [item for item in written if item.before is not None]
    for batch in _chunks(to_update, BATCH_SIZE):
        fields = [name for name in sheet.fields if any(name in item.changed for item in batch)]
        for item in batch:
            item.obj.updated_at = now  # bulk_update does not run auto_now
        sheet.model.objects.bulk_update([item.obj for item in batch], [*fields, "updated_at"])
        counter.advance(len(batch))
    for batch in _chunks([item.obj for item in written if item.before is None], BATCH_SIZE):
        sheet.model.objects.bulk_create(batch)
        counter.advance(len(batch))
    for item, event in zip(written, events, strict=True):
        event.object_id = str(item.obj.pk)
    AuditEvent.objects.bulk_create(events)  # one UNNEST INSERT on PostgreSQL, whatever their number
