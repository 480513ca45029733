"""Delivery data every SLA is computed from (SPEC-SLA §3). Timestamps are stored in UTC.

Double booking is refused by the database on PostgreSQL: exclusion constraints over tstzrange on
SessionInstructor (instructor) and Session (room), added by migration 0002 (PostgreSQL only), with the same check
in services for a friendly message and for SQLite.
"""

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from engagements.enums import Side
from mls.enums import Language
from mls.models import Lease, LeasedWork, Organization, TenantModel, TracksUpdates
from mls.validators import validate_timezone

from .enums import (
    IMPORT_KINDS,
    CompletionSource,
    ContentOwnership,
    DeliveryLanguage,
    EnrollmentStatus,
    Modality,
    SessionStatus,
    TicketCategory,
    TicketStatus,
)

SCORE = [MinValueValidator(1), MaxValueValidator(5)]
# A session seats 1 to 1,000 learners, however it is written: the model validates it (services, CSV and API call
# full_clean) and the web form shows the same bounds.
MIN_SEATS, MAX_SEATS = 1, 1000
SEATS = [MinValueValidator(MIN_SEATS), MaxValueValidator(MAX_SEATS)]


def _unique_external_id(model: str) -> models.UniqueConstraint:
    """Integrators upsert by external_id, unique per organization when given."""
    return models.UniqueConstraint(
        fields=["organization", "external_id"], condition=~Q(external_id=""), name=f"scheduling_{model}_external_id"
    )


class Course(TracksUpdates, TenantModel):
    audited_fields = (
        "external_id",
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

    external_id = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    modality = models.CharField(max_length=20, choices=Modality.choices, default=Modality.ILT)
    language = models.CharField(max_length=8, choices=DeliveryLanguage.choices, default=DeliveryLanguage.EN)
    duration_hours = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])
    ownership = models.CharField(max_length=20, choices=ContentOwnership.choices, default=ContentOwnership.BESPOKE)
    regulated = models.BooleanField(default=False)
    last_reviewed_on = models.DateField(null=True, blank=True)
    # How often the content must be reviewed; content_freshness judges the course by it (never by more than the
    # SLA target's R days, so a longer interval cannot loosen the contract).
    review_interval_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )

    class Meta(TenantModel.Meta):
        ordering = ["code"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "code"], name="scheduling_course_code"),
            _unique_external_id("course"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class ContentReview(TenantModel):
    """A review of a course's content (regulated content must be re-reviewed every review_interval_days): the
    history behind Course.last_reviewed_on, with who reviewed it and who recorded it."""

    audited_fields = ("course", "reviewed_on", "reviewer_name", "notes")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    reviewer_name = models.CharField(max_length=200, help_text=_("Who reviewed the content (e.g. the subject expert)."))
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey("mls.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.course.code} reviewed {self.reviewed_on}"


class Venue(TracksUpdates, TenantModel):
    audited_fields = ("name", "address", "timezone")

    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "name"], name="scheduling_venue_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Room(TenantModel):
    audited_fields = ("venue", "name", "capacity", "resources")

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100)
    capacity = models.PositiveIntegerField()
    resources = models.CharField(max_length=300, blank=True, help_text=_("e.g. projector, 12 laptops"))

    class Meta(TenantModel.Meta):
        ordering = ["venue", "name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "venue", "name"], name="scheduling_room_name"),
        ]

    def __str__(self) -> str:
        return f"{self.venue} · {self.name}"


class Session(TracksUpdates, TenantModel):
    """A scheduled delivery of a course. Cancelled sessions are kept, with who cancelled and why."""

    audited_fields = (
        "engagement",
        "course",
        "modality",
        "language",
        "room",
        "join_url",
        "capacity",
        "status",
        "requested_at",
        "confirmed_at",
        "starts_at",
        "ends_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
        "replaces",
    )

    external_id = models.CharField(max_length=100, blank=True)
    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="sessions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    modality = models.CharField(max_length=20, choices=Modality.choices)
    # Delivery language: the course's unless this run is taught in another.
    language = models.CharField(max_length=8, choices=DeliveryLanguage.choices, default=DeliveryLanguage.EN)
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions")
    join_url = models.URLField(blank=True)
    capacity = models.PositiveIntegerField(validators=SEATS)
    status = models.CharField(max_length=20, choices=SessionStatus.choices, default=SessionStatus.REQUESTED)
    requested_at = models.DateTimeField(default=now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, choices=Side.choices, blank=True)
    cancellation_reason = models.TextField(blank=True)
    replaces = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="replacements")

    class Meta(TenantModel.Meta):
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["organization", "engagement", "starts_at"], name="scheduling_session_start")]
        constraints = [
            *TenantModel.Meta.constraints,
            _unique_external_id("session"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="scheduling_session_ends_after"
            ),
            models.CheckConstraint(
                condition=~Q(status=SessionStatus.CANCELLED)
                | (Q(cancelled_at__isnull=False) & ~Q(cancelled_by="") & ~Q(cancellation_reason="")),
                name="scheduling_session_cancellation_recorded",
            ),
            models.CheckConstraint(
                condition=Q(status=SessionStatus.REQUESTED)
                | Q(status=SessionStatus.CANCELLED)
                | Q(confirmed_at__isnull=False),
                name="scheduling_session_confirmed_at_set",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course.code} {self.starts_at:%Y-%m-%d %H:%M}"


class SessionInstructor(TenantModel):
    """An instructor on a session. The session's times and whether it occupies the instructor are copied here
    so a PostgreSQL exclusion constraint can refuse double booking within one table."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="session_instructors")
    instructor = models.ForeignKey("vendors.Instructor", on_delete=models.PROTECT, related_name="session_slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    occupies = models.BooleanField(default=False)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "session", "instructor"], name="scheduling_sessioninstructor_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instructor} on {self.session_id}"


def default_learner_language() -> str:
    """A new learner reads the installation's language (settings.LANGUAGE_CODE) until told otherwise."""
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in Language.values else Language.EN_GB


class Learner(TracksUpdates, TenantModel):
    # No index of its own: every index here starts with the organization. With one, PostgreSQL planned a tenant it
    # had no statistics for yet (a new one, before ANALYZE) as "a few rows", and filtered all of its learners
    # through that index instead of looking one up by external_id or email (3 ms instead of 0.03 ms at 10,000).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)s_set",
        related_query_name="%(app_label)s_%(class)s",
        db_index=False,
    )
    external_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200)
    email = models.EmailField()
    business_unit = models.CharField(max_length=120, blank=True)
    manager_email = models.EmailField(blank=True)
    region = models.CharField(max_length=60, blank=True)
    # What the learner's emails, portal and certificates are written in, and the zone their times are shown in
    # (blank: the session venue's, then the engagement's).
    language = models.CharField(max_length=8, choices=Language.choices, default=default_learner_language)
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone])
    # Stops the messages a learner may refuse (reminders, joining instructions, survey invitations); notices about
    # their own places (confirmation, change, cancellation, completion) are sent regardless
    # (communications.enums.OPTIONAL_KINDS).
    optional_messages_opted_out = models.BooleanField(
        default=False, help_text=_("The learner asked for no reminders, joining instructions or survey invitations.")
    )

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "email"], name="scheduling_learner_email"),
            _unique_external_id("learner"),
        ]
        # Imports refuse an email another learner has in any case: found by this index, not a scan of the table.
        indexes = [models.Index(F("organization"), Lower("email"), name="scheduling_learner_email_ci")]

    def __str__(self) -> str:
        return self.name


class Enrollment(TracksUpdates, TenantModel):
    """A learner's place on a session, or in its waitlist (FIFO by requested_at)."""

    audited_fields = ("session", "learner", "status", "requested_at", "processed_at", "cancelled_at")

    external_id = models.CharField(max_length=100, blank=True)
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="enrollments")
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=20, choices=EnrollmentStatus.choices)
    requested_at = models.DateTimeField(default=now)
    processed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["requested_at", "id"]
        constraints = [
            *TenantModel.Meta.constraints,
            _unique_external_id("enrollment"),
            models.UniqueConstraint(
                fields=["organization", "session", "learner"],
                condition=~Q(status=EnrollmentStatus.CANCELLED),
                name="scheduling_enrollment_one_live_per_learner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.session_id} ({self.status})"


class Attendance(TracksUpdates, TenantModel):
    """Recorded by the provider for delivered sessions; `present` makes the learner billable (SPEC-SLA §6)."""

    audited_fields = ("enrollment", "present")

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="attendances")
    present = models.BooleanField()
    recorded_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "enrollment"], name="scheduling_attendance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {'present' if self.present else 'absent'}"


class Completion(TracksUpdates, TenantModel):
    audited_fields = ("learner", "course", "completed_at", "source")

    external_id = models.CharField(max_length=100, blank=True)
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="completions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="completions")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, null=True, blank=True, related_name="completions")
    completed_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=now)
    source = models.CharField(max_length=20, choices=CompletionSource.choices, default=CompletionSource.PROVIDER_LOG)

    class Meta(TenantModel.Meta):
        ordering = ["-completed_at"]
        constraints = [*TenantModel.Meta.constraints, _unique_external_id("completion")]

    def __str__(self) -> str:
        return f"{self.learner} completed {self.course.code}"


class AssessmentAttempt(TracksUpdates, TenantModel):
    audited_fields = ("learner", "course", "attempt_number", "attempted_at", "score", "pass_mark", "passed")

    external_id = models.CharField(max_length=100, blank=True)
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="assessment_attempts")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="assessment_attempts")
    attempt_number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    attempted_at = models.DateTimeField()
    score = models.DecimalField(max_digits=5, decimal_places=2)
    pass_mark = models.DecimalField(max_digits=5, decimal_places=2)
    passed = models.BooleanField()

    class Meta(TenantModel.Meta):
        ordering = ["learner", "course", "attempt_number"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "learner", "course", "attempt_number"], name="scheduling_attempt_number"
            ),
            _unique_external_id("attempt"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} {self.course.code} attempt {self.attempt_number}"


class Feedback(TracksUpdates, TenantModel):
    """A learner's rating of a session they attended (SPEC-SLA instructor_rating, learner_satisfaction)."""

    audited_fields = ("session", "learner", "instructor_score", "overall_score", "comment", "submitted_at")

    external_id = models.CharField(max_length=100, blank=True)
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="feedback")
    learner = models.ForeignKey(Learner, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback")
    instructor_score = models.PositiveSmallIntegerField(validators=SCORE)
    overall_score = models.PositiveSmallIntegerField(validators=SCORE)
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        verbose_name_plural = _("feedback")
        constraints = [
            *TenantModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(
                    instructor_score__gte=1, instructor_score__lte=5, overall_score__gte=1, overall_score__lte=5
                ),
                name="scheduling_feedback_scores_1_5",
            ),
            # Feedback is per enrollment: a learner rates a session once (anonymous feedback has no learner).
            models.UniqueConstraint(
                fields=["organization", "session", "learner"],
                condition=Q(learner__isnull=False),
                name="scheduling_feedback_once_per_learner",
            ),
            _unique_external_id("feedback"),
        ]

    def __str__(self) -> str:
        return f"Feedback {self.overall_score}/5 on {self.session_id}"


class ComplianceRequirement(TenantModel):
    """Mandatory training: who must complete which course(s), and how often to recertify."""

    audited_fields = ("name", "audience_business_units", "audience_regions", "recertification_interval_days")

    name = models.CharField(max_length=200)
    audience_business_units = models.CharField(max_length=300, blank=True, help_text=_("Comma-separated; empty = all."))
    audience_regions = models.CharField(max_length=300, blank=True, help_text=_("Comma-separated; empty = all."))
    recertification_interval_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "name"], name="scheduling_requirement_name"),
        ]

    def __str__(self) -> str:
        return self.name


class RequirementCourse(TenantModel):
    """A course that satisfies a requirement (explicit through-table so it carries the tenant)."""

    requirement = models.ForeignKey(ComplianceRequirement, on_delete=models.CASCADE, related_name="requirement_courses")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "requirement", "course"], name="scheduling_reqcourse_once"),
        ]

    def __str__(self) -> str:
        return f"{self.requirement_id} ← {self.course_id}"


class ComplianceAssignment(TracksUpdates, TenantModel):
    audited_fields = ("requirement", "learner", "due_on", "completed_at")

    external_id = models.CharField(max_length=100, blank=True)
    requirement = models.ForeignKey(ComplianceRequirement, on_delete=models.PROTECT, related_name="assignments")
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="compliance_assignments")
    due_on = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completion = models.ForeignKey(Completion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta(TenantModel.Meta):
        ordering = ["due_on", "id"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "requirement", "learner", "due_on"], name="scheduling_assignment_cycle"
            ),
            _unique_external_id("assignment"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} · {self.requirement} due {self.due_on}"


class SupportTicket(TracksUpdates, TenantModel):
    """A learner's support request and its conversation. `first_response_at` is what the SLA measures: the time of
    the first provider reply once there is one, a recorded time for history loaded without replies."""

    audited_fields = (
        "engagement",
        "learner",
        "category",
        "subject",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "status",
        "assignee",
    )

    external_id = models.CharField(max_length=100, blank=True)
    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="tickets")
    learner = models.ForeignKey(Learner, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    category = models.CharField(max_length=20, choices=TicketCategory.choices)
    subject = models.CharField(max_length=200)
    opened_at = models.DateTimeField(default=now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    assignee = models.ForeignKey(
        "mls.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_tickets"
    )

    class Meta(TenantModel.Meta):
        ordering = ["-opened_at"]
        constraints = [
            *TenantModel.Meta.constraints,
            _unique_external_id("ticket"),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True) | Q(first_response_at__gte=models.F("opened_at")),
                name="scheduling_ticket_response_after_open",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("opened_at")),
                name="scheduling_ticket_resolved_after_open",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class TicketReply(TracksUpdates, TenantModel):
    """One message of a ticket's conversation. `side` is the author's side when writing (a member's role may change
    later); `created_at` is the system's clock, never typed, because the first provider reply is an SLA input."""

    audited_fields = ("ticket", "author", "side", "body")

    ticket = models.ForeignKey(SupportTicket, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey("mls.User", on_delete=models.SET_NULL, null=True, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "ticket", "created_at"], name="scheduling_reply_thread")]

    def __str__(self) -> str:
        return f"Reply to {self.ticket_id} ({self.get_side_display()})"


class Outage(TracksUpdates, TenantModel):
    audited_fields = ("external_id", "engagement", "starts_at", "ends_at", "planned", "description")

    external_id = models.CharField(max_length=100, blank=True)
    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.PROTECT, related_name="outages")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    planned = models.BooleanField(default=False, help_text=_("Planned maintenance is excluded from uptime minutes."))
    description = models.CharField(max_length=300)

    class Meta(TenantModel.Meta):
        ordering = ["-starts_at"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="scheduling_outage_ends_after"),
            _unique_external_id("outage"),
        ]

    def __str__(self) -> str:
        return self.description


class ComplianceReminder(TenantModel):
    """Ledger of recertification reminders sent: unique, so the daily task sends each one once."""

    assignment = models.ForeignKey(ComplianceAssignment, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "assignment", "days_before"], name="scheduling_compliancereminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} (−{self.days_before} days)"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded, awaiting confirmation")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Imported")
    FAILED = "failed", _("Not imported (errors)")


class ImportJob(LeasedWork, TenantModel):
    """A CSV upload and its all-or-nothing import, run by Celery. Errors are kept with their row numbers; `error`
    says why a job stopped when no row was to blame (its worker kept dying)."""

    audited_fields = ("kind", "filename", "total_rows", "provider", "status")

    kind = models.CharField(max_length=40)  # a key of scheduling.imports.SHEETS
    batch = models.UUIDField(
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Files uploaded together: imported together, in dependency order, all or none (blank: alone)."),
    )
    filename = models.CharField(max_length=200)
    content = models.TextField()
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey("mls.User", on_delete=models.SET_NULL, null=True, related_name="+")
    provider = models.ForeignKey(
        "mls.Provider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The uploader's provider (blank: the client's side). A job is seen and started by its side only."),
    )
    created_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The uploader's language (settings.LANGUAGES): the worker writes the import's errors in it.
    language = models.CharField(max_length=8, blank=True)

    lease: ClassVar[Lease] = Lease(queued=ImportStatus.QUEUED, running=ImportStatus.RUNNING)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["organization", "locked_until", "enqueued_at"],
                condition=Q(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]),
                name="scheduling_importjob_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} import {self.filename}"

    @property
    def kind_label(self) -> str:
        """What the file holds, in words ("Support tickets" for kind "tickets")."""
        return IMPORT_KINDS.get(self.kind, self.kind)

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)


class XapiStatement(TenantModel):
    """An xAPI statement MLS accepted, kept by its id (re-sent: no-op; same id, other content: refused) with the
    delivery record it became."""

    statement_id = models.UUIDField()
    verb = models.CharField(max_length=20)
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="+")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="+")
    statement = models.JSONField()
    completion = models.ForeignKey(Completion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    attempt = models.ForeignKey(AssessmentAttempt, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    attendance = models.ForeignKey(Attendance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    stored_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        verbose_name = _("xAPI statement")
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "statement_id"], name="scheduling_xapi_statement_id"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.statement_id}"
