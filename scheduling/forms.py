"""Input validation for the delivery pages. Forms validate; services write."""

from datetime import date

from django import forms

from engagements.enums import Side
from engagements.models import Engagement
from mls.models import Membership
from mls.months import parse_month
from mls.validators import validate_sane_date
from vendors.models import Instructor

from .enums import IMPORT_KINDS, DeliveryLanguage, Modality, SessionStatus, TicketCategory, TicketStatus
from .models import MAX_SEATS, MIN_SEATS, ComplianceRequirement, Course, Enrollment, Learner, Room, Venue
from .services import JOIN_URL_MODALITIES, ROOM_MODALITIES, modality_field_errors, parse_emails

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M"]


def _datetime(label: str, **kwargs: object) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=DATETIME,
        input_formats=DATETIME_FORMATS,
        help_text="Organization time.",
        validators=[validate_sane_date],
        **kwargs,
    )


class EndsAfterStartsForm(forms.Form):
    """A form with `starts_at`/`ends_at`: the end must come after the start."""

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The end must come after the start.")
        return cleaned


class SessionForm(EndsAfterStartsForm):
    # Choice querysets are set per request: at import time no tenant scope is active.
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none())
    course = forms.ModelChoiceField(queryset=Course.objects.none())
    modality = forms.ChoiceField(choices=Modality.choices)
    language = forms.ChoiceField(
        choices=[("", "The course's language"), *DeliveryLanguage.choices],
        required=False,
        label="Delivery language",
        help_text="Empty: the language the course is delivered in.",
    )
    starts_at = _datetime("Starts")
    ends_at = _datetime("Ends")
    capacity = forms.IntegerField(min_value=MIN_SEATS, max_value=MAX_SEATS)
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(),
        required=False,
        help_text="Classroom sessions; needed before the session is confirmed.",
        widget=forms.Select(attrs={"data-modalities": " ".join(ROOM_MODALITIES)}),
    )
    join_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Join URL",
        help_text="Virtual sessions; needed before the session is confirmed.",
        widget=forms.URLInput(attrs={"data-modalities": " ".join(JOIN_URL_MODALITIES)}),
    )
    instructors = forms.ModelMultipleChoiceField(queryset=Instructor.objects.none(), required=False)
    requested_at = _datetime("Requested by the client at", required=False)

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements
        self.fields["course"].queryset = Course.objects.order_by("code")
        self.fields["room"].queryset = Room.objects.select_related("venue").order_by("venue__name", "name")
        self.fields["instructors"].queryset = Instructor.objects.filter(
            provider__in=engagements.values("provider")
        ).order_by("name")

    def clean(self) -> dict:
        cleaned = super().clean()
        errors = modality_field_errors(cleaned.get("modality", ""), cleaned.get("room"), cleaned.get("join_url", ""))
        for name, message in errors.items():
            self.add_error(name, message)
        return cleaned


class CancelSessionForm(forms.Form):
    # No default side: who cancelled decides whether the SLA excuses the session (SPEC-SLA), so it is always asked.
    cancelled_by = forms.ChoiceField(
        choices=[("", "Choose a side"), *Side.choices],
        label="Cancelled by",
        help_text="Decides whether the cancellation counts against the provider's SLA.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class RescheduleForm(EndsAfterStartsForm):
    starts_at = _datetime("New start")
    ends_at = _datetime("New end")
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, help_text="Empty: same room.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.select_related("venue").order_by("venue__name", "name")


class EnrollForm(forms.Form):
    """Learners ticked in the picker and/or emails pasted; `services.enroll_many` enrolls them one by one."""

    learner = forms.ModelMultipleChoiceField(queryset=Learner.objects.none(), required=False, label="Learners")
    emails = forms.CharField(
        required=False,
        label="Or paste emails",
        help_text="One a line, or separated by commas.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["learner"].queryset = Learner.objects.order_by("name")

    def clean_emails(self) -> list[str]:
        return parse_emails(self.cleaned_data.get("emails", ""))

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("learner") and not cleaned.get("emails"):
            raise forms.ValidationError("Pick at least one learner or paste their emails.")
        return cleaned


class SessionFilterForm(forms.Form):
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), required=False, empty_label="Any")
    status = forms.ChoiceField(choices=[("", "Any"), *SessionStatus.choices], required=False)
    course = forms.CharField(required=False, label="Course")
    language = forms.ChoiceField(choices=[("", "Any"), *DeliveryLanguage.choices], required=False, label="Language")
    starts_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From", validators=[validate_sane_date]
    )
    starts_until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Until", validators=[validate_sane_date]
    )

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements


class CourseFilterForm(forms.Form):
    language = forms.ChoiceField(choices=[("", "Any"), *DeliveryLanguage.choices], required=False, label="Language")


class SessionCalendarForm(forms.Form):
    """The calendar's month (`?month=2026-11`, the current month when absent) and its engagement filter."""

    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), required=False, empty_label="All")
    month = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "month"}), label="Month")

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements

    def clean_month(self) -> date | None:
        text = self.cleaned_data["month"]
        if not text:
            return None
        try:
            return parse_month(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One or more files from one input (Django's documented pattern); cleans to a list."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".csv,text/csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: object, initial: object = None) -> list:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data] or [super().clean(None)]
        return [super().clean(data, initial)]


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "Detect from the columns"), *IMPORT_KINDS.items()],
        required=False,
        label="The file contains",
        help_text="Detected: each file is the sheet whose required columns its first line holds.",
    )
    file = MultipleFileField(
        label="Files",
        help_text="One or more CSVs, UTF-8, first line the column names (download a template below). Files chosen "
        "together are imported together: courses, learners, sessions, enrollments, completions, then tickets.",
    )

    def clean_file(self) -> list:
        uploads = self.cleaned_data["file"]
        problems = []
        for upload in uploads:
            named = f"{upload.name}: " if len(uploads) > 1 else ""
            if upload.size > 20 * 1024 * 1024:
                problems.append(f"{named}The file is larger than 20 MB; split it.")
            if not upload.name.lower().endswith(".csv"):
                problems.append(f"{named}Upload a .csv file.")
        if problems:
            raise forms.ValidationError(problems)
        return uploads


class TicketForm(forms.Form):
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none())
    category = forms.ChoiceField(choices=TicketCategory.choices)
    subject = forms.CharField(max_length=200)
    opened_at = _datetime("Opened at")
    learner = forms.ModelChoiceField(queryset=Learner.objects.none(), required=False)

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements
        self.fields["learner"].queryset = Learner.objects.order_by("name")


class TicketTimesForm(forms.Form):
    first_response_at = _datetime("First response at", required=False)
    resolved_at = _datetime("Resolved at", required=False)


class TicketReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The other side is notified. Replies are kept with the ticket and cannot be edited.",
    )


class TicketStatusForm(forms.Form):
    status = forms.ChoiceField(label="New status")

    def __init__(self, *args: object, statuses: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        labels = {TicketStatus.WAITING_ON_PROVIDER: "Reopen (waiting on provider)"}
        self.fields["status"].choices = [(s, labels.get(s, TicketStatus(s).label)) for s in statuses]


class TicketAssigneeForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="Nobody", label="Assigned to"
    )

    def __init__(self, *args: object, members: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = members
        self.fields["assignee"].label_from_instance = _member_label


def _member_label(membership: Membership) -> str:
    return f"{membership.user.get_full_name() or membership.user.email} ({membership.get_role_display()})"


class CompletionsForm(forms.Form):
    completed_at = _datetime("Completed at")


class OutageForm(EndsAfterStartsForm):
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none())
    starts_at = _datetime("Started")
    ends_at = _datetime("Ended")
    planned = forms.BooleanField(required=False, help_text="Planned maintenance does not count against uptime.")
    description = forms.CharField(max_length=300)

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _delivery_language(form: forms.ModelForm) -> str:
    """A course form left without a language (a client that does not send it) keeps the course's, else English."""
    return form.cleaned_data["language"] or form.initial.get("language") or DeliveryLanguage.EN


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = [
            "code",
            "title",
            "modality",
            "language",
            "duration_hours",
            "ownership",
            "regulated",
            "last_reviewed_on",
            "review_interval_days",
        ]
        widgets = {"last_reviewed_on": DATE}
        labels = {"review_interval_days": "Review every (days)"}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["review_interval_days"].required = False
        self.fields["review_interval_days"].help_text = "Empty: every 365 days."
        self.fields["language"].required = False

    def clean_language(self) -> str:
        return _delivery_language(self)

    def clean_review_interval_days(self) -> int:
        return self.cleaned_data["review_interval_days"] or Course._meta.get_field("review_interval_days").default


class CourseEditForm(forms.ModelForm):
    """The catalogue data; the review date moves by recording a content review (ContentReviewForm)."""

    class Meta:
        model = Course
        fields = [
            "code",
            "title",
            "modality",
            "language",
            "duration_hours",
            "ownership",
            "regulated",
            "review_interval_days",
            "external_id",
        ]
        labels = {"review_interval_days": "Review every (days)", "external_id": "External id"}
        help_texts = {"external_id": "The course's id in your LMS, for imports and the API."}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].required = False

    def clean_language(self) -> str:
        return _delivery_language(self)


class ContentReviewForm(forms.Form):
    reviewed_on = forms.DateField(widget=DATE, label="Reviewed on")
    reviewer_name = forms.CharField(max_length=200, label="Reviewer", help_text="Who reviewed the content.")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class VenueForm(forms.ModelForm):
    class Meta:
        model = Venue
        fields = ["name", "address", "timezone"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"timezone": "IANA name, e.g. Europe/London: session times at this venue are shown in it."}


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "capacity", "resources"]
        labels = {"capacity": "Seats"}


def _comma_separated(value: str) -> str:
    return ", ".join(part.strip() for part in value.split(",") if part.strip())


class RequirementForm(forms.ModelForm):
    courses = forms.ModelMultipleChoiceField(
        queryset=Course.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Completing any one of them satisfies the requirement. Ctrl (⌘ on a Mac) chooses several.",
    )

    class Meta:
        model = ComplianceRequirement
        fields = ["name", "audience_business_units", "audience_regions", "recertification_interval_days"]
        labels = {
            "audience_business_units": "Business units",
            "audience_regions": "Regions",
            "recertification_interval_days": "Recertify every (days)",
        }
        help_texts = {"recertification_interval_days": "Empty: a one-off requirement."}

    field_order = ["name", "courses"]

    def __init__(self, *args: object, business_units: list[str], regions: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["courses"].queryset = Course.objects.order_by("code")
        for name, known in (("audience_business_units", business_units), ("audience_regions", regions)):
            hint = f" On learner records: {', '.join(known)}." if known else ""
            self.fields[name].help_text = f"Comma-separated; empty = everyone.{hint}"

    def clean_audience_business_units(self) -> str:
        return _comma_separated(self.cleaned_data["audience_business_units"])

    def clean_audience_regions(self) -> str:
        return _comma_separated(self.cleaned_data["audience_regions"])


class AssignRequirementForm(forms.Form):
    due_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label="Due on",
        validators=[validate_sane_date],
    )


SCORES = [(n, str(n)) for n in range(1, 6)]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FeedbackForm(forms.Form):
    """A learner's feedback on this session, entered by the provider (e.g. from paper forms or a survey tool)."""

    enrollment = forms.ModelChoiceField(queryset=Enrollment.objects.none(), label="Learner")
    instructor_score = forms.TypedChoiceField(choices=SCORES, coerce=int, label="Instructor score (1–5)")
    overall_score = forms.TypedChoiceField(choices=SCORES, coerce=int, label="Overall score (1–5)")
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    submitted_at = _datetime("Submitted at")

    def __init__(self, *args: object, enrollments: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].queryset = enrollments
        self.fields["enrollment"].label_from_instance = lambda enrollment: enrollment.learner.name


class AttemptForm(forms.Form):
    course = forms.ModelChoiceField(queryset=Course.objects.none())
    attempted_at = _datetime("Attempted at")
    score = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0)
    pass_mark = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0)

    def __init__(self, *args: object, courses: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses


class AssignLearnerForm(forms.Form):
    requirement = forms.ModelChoiceField(queryset=ComplianceRequirement.objects.none())
    due_on = forms.DateField(widget=DATE, label="Due on", validators=[validate_sane_date])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requirement"].queryset = ComplianceRequirement.objects.order_by("name")


class CompleteAssignmentForm(forms.Form):
    completed_at = _datetime("Completed at")
