"""Checking and writing: the entry points (CSV, API records, templates), every row checked, then all of them
written with their audit events or none."""

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import get_scope

from mls.audit import audit_event, create_audited
from mls.models import AuditEvent, Membership, Organization, User
from scheduling import services

from .lookups import _chunks, _column_values
from .reading import MAX_ROWS, _put, _read
from .records import _AssignmentSheet, _AttemptSheet, _CourseSheet, _FeedbackSheet, _OutageSheet
from .rows import ImportResult, RowError, _Context, _field_values, _Row, _Written
from .sheets import _CompletionSheet, _EnrollmentSheet, _LearnerSheet, _SessionSheet, _Sheet, _TicketSheet

MAX_ERRORS = 200
BATCH_SIZE = 500  # rows per INSERT/UPDATE statement, and how often progress is reported
# A race with another writer can still hit a constraint after validation; say which rule in the user's words.
CONSTRAINT_MESSAGES = {
    "external_id": gettext_lazy("Another import or user saved one of these external_ids meanwhile."),
    "scheduling_learner_email": gettext_lazy(
        "Two learners would share an email address (e.g. two learners swap emails); make the change in two imports."
    ),
    "scheduling_enrollment_one_live_per_learner": gettext_lazy("A learner would be on the same session twice."),
    **services.CONSTRAINT_MESSAGES,  # double booking
}

Progress = Callable[[int, int], None]


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

# The order files uploaded together are imported in: a row may name only rows of the files before it (a session its
# course, an enrollment its session and learner, a ticket its learner).
IMPORT_ORDER = ("courses", "learners", "sessions", "enrollments", "completions", "tickets", "feedback",
                "assessment-attempts", "compliance-assignments", "outages")  # fmt: skip


def kinds_of(header: Sequence[str]) -> list[str]:
    """The sheets a file with this header is: those whose required columns it holds, less those whose required
    columns are all another match's too (a feedback file holds an enrollment's columns, and is feedback). One
    kind: detected; none: unknown; several: ambiguous."""
    columns = {name.strip().lower() for name in header}
    held = {kind: set(sheet.required) for kind, sheet in SHEETS.items() if set(sheet.required) <= columns}
    return [kind for kind in IMPORT_ORDER if kind in held and not any(held[kind] < other for other in held.values())]


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
                column, messages = "", [_("%(field)s: %(message)s") % {"field": field, "message": m} for m in messages]
            for message in messages:
                row.error(column, message)


def _require_permission(kind: str, sheet: _Sheet, membership: Membership | None) -> None:
    """Checked before a row is read: the web, CSV and API refuse the same roles (no member, no write)."""
    if membership is None or not membership.has_permission(sheet.permission):
        raise PermissionDenied(_("Your role may not write %(kind)s.") % {"kind": kind})


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
    message = _("…and %(more)s more errors from here on.") % {"more": number_format(more, force_grouping=True)}
    return [*errors[:MAX_ERRORS], RowError(errors[MAX_ERRORS].row, "", message)]


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
            created=0,
            updated=0,
            errors=[
                RowError(
                    0,
                    "",
                    _("Send at most %(max)s items at a time.") % {"max": number_format(MAX_ROWS, force_grouping=True)},
                )
            ],
        )
    rows = [_record_row(index, record, sheet) for index, record in enumerate(records)]
    return _import(kind, sheet, organization, rows, membership.user, membership.provider_id, None)


def _record_row(index: int, record: Mapping[str, Any], sheet: _Sheet) -> _Row:
    row = _Row(index, {})
    for field, value in record.items():
        if field not in sheet.all_columns:
            row.error(field, _("Unknown field; the fields are: %(fields)s.") % {"fields": ", ".join(sheet.all_columns)})
        elif isinstance(value, dict | list):
            row.error(field, _("Give a single value here, not a list or an object."))
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
            row.error(
                "external_id",
                _("external_id %(id)s is already used in row %(row)s.") % {"id": external_id, "row": first.number},
            )
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
        message = _("Nothing was saved: %(problem)s") % {"problem": message}
        return ImportResult(created=0, updated=0, errors=[RowError(1, "", message)])
    counter.finish()
    return result


class _Refused(Exception):
    """A rule checked under the write's locks refused rows (the errors are on them): roll the write back."""


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
    under locks, are inserted with their audit events by `create_audited` (the bulk form of the audit API);
    anything else runs in a transaction, where the sheet's rules (`apply_rules`) decide under their locks first.
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
