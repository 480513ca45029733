"""The sheets of feedback, assessment attempts and compliance assignments (their rules: scheduling.services),
the course catalogue and outages."""

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from mls.enums import Permission
from scheduling import services
from scheduling.enums import ContentOwnership, DeliveryLanguage, EnrollmentStatus, Modality
from scheduling.models import (
    AssessmentAttempt,
    ComplianceAssignment,
    ComplianceRequirement,
    Course,
    Enrollment,
    Feedback,
    Learner,
    Outage,
    Session,
)

from .lookups import _by, _column_values
from .references import ENGAGEMENT_COLUMNS, engagement_of, load_engagements
from .rows import EXAMPLE_MOMENT, NOT_FOUND, _Context, _Row
from .sheets import _Sheet


def _score(row: _Row, column: str) -> Decimal | None:
    """A decimal number such as 72.5 (a score or a pass mark)."""
    value = row.text(column, required=True)
    try:
        number = Decimal(value) if value else None
    except InvalidOperation:
        number = None
    if value and (number is None or not number.is_finite()):
        row.error(column, _("'%(value)s' is not a number; write it like 72.5.") % {"value": value})
        return None
    return number


def _day(row: _Row, column: str, *, required: bool = False) -> date | None:
    """An ISO 8601 date (2026-06-30); None when blank."""
    value = row.text(column, required=required)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        row.error(column, _("'%(value)s' is not a date; use ISO 8601, e.g. 2026-06-30.") % {"value": value})
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
    one gets `in_file` (with %(row)s, the earlier row's number); a row repeating a stored row that the file does not
    also rewrite gets `in_store(key, holder)`."""
    first_with: dict[tuple, _Row] = {}
    for row, obj in checked:
        value = key(obj)
        if value is None or row.failed(column):
            continue
        first = first_with.setdefault(value, row)
        if first is not row:
            row.error(column, in_file % {"row": first.number})
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
            what = _("Feedback %(id)s") % {"id": obj.external_id}
            context.check_provider(row, "external_id", obj.session.engagement, what)
        if session := context.reference(row, "session_external_id", "session"):
            what = _("Session %(id)s") % {"id": session.external_id}
            context.check_provider(row, "session_external_id", session.engagement, what)
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
            in_file=_("This learner already rates this session in row %(row)s."),
            in_store=lambda key, holder: (
                _("This learner has already rated this session (feedback %(feedback)s).")
                % {"feedback": holder.external_id or holder.pk}
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
            row.error(column, _("Your provider delivers no session of %(code)s.") % {"code": course.code})

    def fill(self, obj: AssessmentAttempt, row: _Row, context: _Context) -> None:
        if not obj._state.adding:
            self._check_course_provider(row, "external_id", obj.course, context)
        if learner := context.reference(row, "learner_external_id", "learner"):
            obj.learner = learner
        if course := context.reference(row, "course_code", "course"):
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
            in_file=_("Row %(row)s has the same attempt of this learner and course."),
            in_store=lambda key, holder: (
                _("This learner already has attempt %(number)s at this course (attempt %(attempt)s).")
                % {"number": key[2], "attempt": holder.external_id or holder.pk}
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
            row.error("requirement", _("Give the requirement by its name (requirement) or its id (requirement_id)."))
        elif requirement := context.reference(row, named[0], named[0], missing=NOT_FOUND["requirement"]):
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
            in_file=_("Row %(row)s assigns this requirement to this learner on the same day."),
            in_store=lambda key, holder: (
                _("This learner already has this requirement due that day (assignment %(assignment)s).")
                % {"assignment": holder.external_id or holder.pk}
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
    row.error(column, _("'%(value)s' is not yes or no; use true or false.") % {"value": row.cells[column]})
    return None


class _CourseSheet(_Sheet):
    """The course catalogue. Blank optional cells keep what is stored (a course's review date included: an
    integration that does not send it must not make regulated content look unreviewed)."""

    model = Course
    permission = Permission.MANAGE_COURSES
    required = ("external_id", "code", "title", "modality", "duration_hours")
    optional = ("ownership", "regulated", "last_reviewed_on", "review_interval_days", "language")
    example = ("CRS-7001", "C001", "Data protection essentials", Modality.SELF_PACED, "1.5", ContentOwnership.BESPOKE,
               "true", "2026-01-15", "365", DeliveryLanguage.EN)  # fmt: skip
    fields = (
        "code",
        "title",
        "modality",
        "language",
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
        if language := row.choice("language", DeliveryLanguage.values, required=False):
            obj.language = language  # blank: the stored one (a new course: English)
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
                row.error("review_interval_days", _("'%(value)s' is not a whole number of days.") % {"value": interval})

    def check_across_rows(self, checked: list[tuple[_Row, Course]], file_ids: set[str], context: _Context) -> None:
        """One course per code in an organization."""
        first_with: dict[str, _Row] = {}
        for row, course in checked:
            if not course.code or row.failed("code"):
                continue
            first = first_with.setdefault(course.code, row)
            if first is not row:
                row.error(
                    "code",
                    _("Course code %(code)s is also the code of row %(row)s.")
                    % {"code": course.code, "row": first.number},
                )
        for code, row in first_with.items():
            holder = context.found["code"].get(code)
            if holder is None or holder.external_id == row.text("external_id") or holder.external_id in file_ids:
                continue  # a holder in the file gets its code from the file, checked above
            if holder.external_id:
                row.error(
                    "code",
                    _("Course code %(code)s is already the code of course %(course)s.")
                    % {"code": code, "course": holder.external_id},
                )
            else:
                row.error(
                    "code",
                    _(
                        "Course %(code)s already exists without an external_id: give it this external_id on its "
                        "page (Edit course) to update it from here."
                    )
                    % {"code": code},
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
            context.check_provider(row, "external_id", obj.engagement, _("Outage %(id)s") % {"id": obj.external_id})
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
