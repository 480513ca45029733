"""Sheets: how one kind of file maps onto its model. The delivery sheets: learners, sessions, enrollments,
completions and support tickets."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.enums import Side
from mls.enums import Language, Permission
from mls.models import Organization
from scheduling import services
from scheduling.enums import (
    OCCUPYING_STATUSES,
    CompletionSource,
    DeliveryLanguage,
    EnrollmentStatus,
    Modality,
    SessionStatus,
    TicketCategory,
)
from scheduling.models import (
    Completion,
    Course,
    Enrollment,
    Learner,
    Room,
    Session,
    SupportTicket,
    TicketReply,
    Venue,
)

from .lookups import _by, _chunk_size, _chunks, _column_values, _learners_by_id_or_email
from .references import engagement_of, load_engagements
from .rows import EXAMPLE_MOMENT, _Context, _field_values, _Row, _Written

IMPORTABLE_ENROLLMENT_STATUSES = (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED, EnrollmentStatus.CANCELLED)
# Attendance, not an import, decides these; an import must not quietly undo it.
ATTENDANCE_STATUSES = (EnrollmentStatus.ATTENDED, EnrollmentStatus.NO_SHOW)


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

    def after_write(self, written: list[_Written], organization: Organization) -> None:
        """What the written rows set off in other tables (e.g. compliance assignments a completion closes), in the
        write's transaction. A sheet without rules writes new rows alone in one statement, without calling this."""


class _LearnerSheet(_Sheet):
    model = Learner
    permission = Permission.IMPORT_DATA  # on the web, learners are created only by importing them
    required = ("external_id", "name", "email")
    # language and timezone: what the learner's emails, portal and certificates are written in and shown in.
    optional = ("business_unit", "manager_email", "region", "language", "timezone")
    example = (
        "L-1001",
        "Ada Lovelace",
        "ada.lovelace@example.com",
        "Engineering",
        "grace.hopper@example.com",
        "EMEA",
        "en-gb",
        "Europe/London",
    )
    fields = ("name", "email", "business_unit", "manager_email", "region", "language", "timezone")

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
        # A blank cell keeps what is stored (a new learner: English, and the zone of each session's venue).
        if language := row.choice("language", Language.values, required=False):
            obj.language = language
        if zone := row.text("timezone"):
            obj.timezone = zone

    def check_across_rows(self, checked: list[tuple[_Row, Learner]], file_ids: set[str], context: _Context) -> None:
        """One learner per email in an organization (compared case-insensitively: it is the same inbox)."""
        first_with: dict[str, _Row] = {}
        for row, learner in checked:
            if not learner.email or row.failed("email"):
                continue
            first = first_with.setdefault(learner.email.lower(), row)
            if first is not row:
                row.error(
                    "email",
                    _("%(email)s is also the email of row %(row)s.") % {"email": learner.email, "row": first.number},
                )
        for email, row in first_with.items():
            holder = context.found["email"].get(email)
            # A holder that is in the file gets its email from the file, and the file was checked above.
            if holder is not None and holder.external_id not in file_ids:
                row.error(
                    "email",
                    _("%(email)s is already the email of %(learner)s.")
                    % {"email": row.cells["email"], "learner": _described(holder)},
                )


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
        "language",
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
        DeliveryLanguage.EN,
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
        "language",
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
            context.check_provider(row, "external_id", obj.engagement, _("Session %(id)s") % {"id": obj.external_id})
        booked = (obj.starts_at, obj.ends_at, obj.room_id)
        if engagement := engagement_of(row, context):
            obj.engagement = engagement
        if course := context.reference(row, "course_code", "course"):
            obj.course = course
        obj.modality = row.choice("modality", Modality.values)
        # Delivery language: a blank cell keeps the stored one; a new session takes its course's (as on the web).
        if language := row.choice("language", DeliveryLanguage.values, required=False):
            obj.language = language
        elif obj._state.adding and course:
            obj.language = course.language
        starts_at, ends_at = row.moment("starts_at", required=True), row.moment("ends_at", required=True)
        if starts_at and ends_at and ends_at <= starts_at:
            row.error("ends_at", _("ends_at must be after starts_at."))
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
                _(
                    "Session %(id)s is %(status)s: its instructors and room are booked for its current time, so "
                    "change its time or room in MLS (reschedule), not by import."
                )
                % {"id": obj.external_id, "status": obj.status},
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
            row.error(
                "status",
                _("Session %(id)s is %(stored)s: it cannot become %(status)s.")
                % {"id": obj.external_id, "stored": stored_status, "status": obj.status},
            )
            return
        if obj.status in OCCUPYING_STATUSES:
            if not obj.confirmed_at and not row.failed("confirmed_at"):
                row.error(
                    "confirmed_at",
                    _("A %(status)s session needs confirmed_at (when it was confirmed).") % {"status": obj.status},
                )
            elif obj.confirmed_at and obj.requested_at and obj.confirmed_at < obj.requested_at:
                row.error("confirmed_at", _("confirmed_at cannot be before requested_at."))
            if stored_status not in OCCUPYING_STATUSES:
                try:
                    services.check_delivery_setup(obj)
                except ValidationError as error:
                    for field, messages in error.message_dict.items():
                        for message in messages:
                            row.error(field if field in self.all_columns else "", message)
        elif row.text("confirmed_at") and obj.status == SessionStatus.REQUESTED:
            row.error(
                "confirmed_at", _("confirmed_at is for a confirmed, delivered or cancelled session; give status.")
            )
        if obj.status == SessionStatus.DELIVERED and obj.starts_at and obj.starts_at > timezone.now():
            row.error("status", _("A session that has not started yet cannot be delivered."))
        if obj.status == SessionStatus.CANCELLED:
            for column in ("cancelled_at", "cancelled_by", "cancellation_reason"):
                if not getattr(obj, column) and not row.failed(column):
                    row.error(column, _("A cancelled session needs %(column)s.") % {"column": column})
            if obj.cancelled_at and obj.requested_at and obj.cancelled_at < obj.requested_at:
                row.error("cancelled_at", _("cancelled_at cannot be before requested_at."))
        else:
            for column in ("cancelled_at", "cancelled_by", "cancellation_reason"):
                if row.text(column):
                    row.error(
                        column, _("%(column)s is for a cancelled session; give status cancelled.") % {"column": column}
                    )

    def _room(self, row: _Row, context: _Context) -> Room | None:
        venue, room = row.text("venue"), row.text("room")
        if bool(venue) != bool(room):
            row.error("room" if venue else "venue", _("Give both venue and room, or neither."))
            return None
        if not venue or not context.reference(row, "venue", "venue"):
            return None
        missing = _("No room at %(venue)s named '%(value)s' in this organization.")
        return context.reference(row, "room", "room", key=(venue, room), missing=missing, venue=venue)

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

    def after_write(self, written: list[_Written], organization: Organization) -> None:
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
            what = _("Enrollment %(id)s") % {"id": obj.external_id}
            context.check_provider(row, "external_id", obj.session.engagement, what)
        if session := context.reference(row, "session_external_id", "session"):
            what = _("Session %(id)s") % {"id": session.external_id}
            context.check_provider(row, "session_external_id", session.engagement, what)
            obj.session = session
        if learner := context.reference(row, "learner_external_id", "learner"):
            obj.learner = learner
        requested_at = row.moment("requested_at")
        if requested_at or obj._state.adding:
            obj.requested_at = requested_at or timezone.now()
        # When the provider acted on the request (the enrollment-processing SLA clock); blank keeps what is stored.
        processed_at = row.moment("processed_at")
        if processed_at and not row.failed("requested_at") and processed_at < obj.requested_at:
            if row.text("requested_at"):
                row.error("processed_at", _("processed_at cannot be before requested_at."))
            else:
                row.error(
                    "processed_at",
                    _("processed_at cannot be before requested_at (%(stored)s, as requested_at is blank).")
                    % {"stored": obj.requested_at.isoformat()},
                )
        elif processed_at:
            obj.processed_at = processed_at
        # A blank status asks for a place (a new row) or keeps the stored one; `apply_rules` decides the place.
        status = row.choice("status", IMPORTABLE_ENROLLMENT_STATUSES, required=False)
        if status and obj.status in ATTENDANCE_STATUSES and status != obj.status:
            row.error(
                "status",
                _("Attendance is recorded for this enrollment: its status stays %(status)s.") % {"status": obj.status},
            )
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
                row.error(
                    "learner_external_id",
                    _("This learner is already on this session in row %(row)s.") % {"row": first.number},
                )
        live = Enrollment.objects.exclude(status=EnrollmentStatus.CANCELLED)
        for chunk in _chunks(sorted({session_id for session_id, _learner in first_with}), _chunk_size()):
            for holder in live.filter(session__in=chunk).select_related("learner"):
                row = first_with.get((holder.session_id, holder.learner_id))
                if row is not None and holder.external_id not in file_ids:
                    row.error(
                        "learner_external_id",
                        _("%(learner)s is already on this session (enrollment %(enrollment)s).")
                        % {"learner": _described(holder.learner), "enrollment": holder.external_id or holder.pk},
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
        if course := context.reference(row, "course_code", "course"):
            obj.course = course
        obj.completed_at = row.moment("completed_at", required=True) or obj.completed_at
        recorded_at = row.moment("recorded_at")
        if recorded_at or obj._state.adding:
            obj.recorded_at = recorded_at or timezone.now()

    has_rules = True  # the completions and the assignments they close are written together

    def after_write(self, written: list[_Written], organization: Organization) -> None:
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
    fields = (
        "engagement",
        "learner",
        "category",
        "subject",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "status",
    )
    columns = {"learner": "learner_external_id"}
    existing_related = ("engagement",)
    provider_delivery = True

    def load(self, rows: list[_Row]) -> dict[str, dict[Any, Any]]:
        """Stored tickets with what their conversation decides (the first provider reply wins over a recorded
        first response; the last reply says whose turn it is), in the same one query."""
        last_side = TicketReply.objects.filter(ticket=OuterRef("pk")).order_by("-created_at", "-pk").values("side")
        stored = SupportTicket.objects.select_related(*self.existing_related).annotate(
            first_provider_reply_at=Min("replies__created_at", filter=Q(replies__side=Side.PROVIDER)),
            last_reply_side=Subquery(last_side[:1]),
        )
        return {
            "existing": _by(stored, "external_id", _column_values(rows, "external_id")),
            **load_engagements(rows),
            "learner": _by(Learner.objects.all(), "external_id", _column_values(rows, "learner_external_id")),
        }

    def fill(self, obj: SupportTicket, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            context.check_provider(row, "external_id", obj.engagement, _("Ticket %(id)s") % {"id": obj.external_id})
        if engagement := engagement_of(row, context):
            obj.engagement = engagement
        obj.learner = context.reference(row, "learner_external_id", "learner")
        obj.category = row.choice("category", TicketCategory.values)
        obj.subject = row.text("subject", required=True)
        opened_at = row.moment("opened_at", required=True)
        obj.opened_at = opened_at or obj.opened_at
        obj.first_response_at = services.first_response_of(
            row.moment("first_response_at"), getattr(obj, "first_provider_reply_at", None)
        )
        obj.resolved_at = row.moment("resolved_at")
        for column in ("first_response_at", "resolved_at"):
            if opened_at and getattr(obj, column) and getattr(obj, column) < opened_at:
                row.error(column, _("%(column)s cannot be before opened_at.") % {"column": column})
        obj.status = services.status_from_history(
            obj.status,
            first_response_at=obj.first_response_at,
            resolved_at=obj.resolved_at,
            last_reply_side=getattr(obj, "last_reply_side", None),
        )


def _described(learner: Learner) -> str:
    if learner.external_id:
        return _("learner %(name)s (%(id)s)") % {"name": learner.name, "id": learner.external_id}
    return _("learner %(name)s (no external_id)") % {"name": learner.name}
