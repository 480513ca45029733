"""Input validation for the delivery pages. Forms validate; services write."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

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
        help_text=_("Organization time."),
        validators=[validate_sane_date],
        **kwargs,
    )


class EndsAfterStartsForm(forms.Form):
    """A form with `starts_at`/`ends_at`: the end must come after the start."""

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        return cleaned


class SessionForm(EndsAfterStartsForm):
    # Choice querysets are set per request: at import time no tenant scope is active.
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), label=_("Engagement"))
    course = forms.ModelChoiceField(queryset=Course.objects.none(), label=_("Course"))
    modality = forms.ChoiceField(choices=Modality.choices, label=_("Modality"))
    language = forms.ChoiceField(
        choices=[("", _("The course's language")), *DeliveryLanguage.choices],
        required=False,
        label=_("Delivery language"),
        help_text=_("Empty: the language the course is delivered in."),
    )
    starts_at = _datetime(_("Starts"))
    ends_at = _datetime(_("Ends"))
    capacity = forms.IntegerField(min_value=MIN_SEATS, max_value=MAX_SEATS, label=_("Capacity"))
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(),
        required=False,
        label=_("Room"),
        help_text=_("Classroom sessions; needed before the session is confirmed."),
        widget=forms.Select(attrs={"data-modalities": " ".join(ROOM_MODALITIES)}),
    )
    join_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label=_("Join URL"),
        help_text=_("Virtual sessions; needed before the session is confirmed."),
        widget=forms.URLInput(attrs={"data-modalities": " ".join(JOIN_URL_MODALITIES)}),
    )
    instructors = forms.ModelMultipleChoiceField(
        queryset=Instructor.objects.none(), required=False, label=_("Instructors")
    )
    requested_at = _datetime(_("Requested by the client at"), required=False)

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
        choices=[("", _("Choose a side")), *Side.choices],
        label=_("Cancelled by"),
        help_text=_("Decides whether the cancellation counts against the provider's SLA."),
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Reason"))


class RescheduleForm(EndsAfterStartsForm):
    starts_at = _datetime(_("New start"))
    ends_at = _datetime(_("New end"))
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), required=False, help_text=_("Empty: same room."), label=_("Room")
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.select_related("venue").order_by("venue__name", "name")


class EnrollForm(forms.Form):
    """Learners ticked in the picker and/or emails pasted; `services.enroll_many` enrolls them one by one."""

    learner = forms.ModelMultipleChoiceField(queryset=Learner.objects.none(), required=False, label=_("Learners"))
    emails = forms.CharField(
        required=False,
        label=_("Or paste emails"),
        help_text=_("One a line, or separated by commas."),
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
            raise forms.ValidationError(_("Pick at least one learner or paste their emails."))
        return cleaned


class SessionFilterForm(forms.Form):
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), required=False, empty_label=_("Any"))
    status = forms.ChoiceField(choices=[("", _("Any")), *SessionStatus.choices], required=False, label=_("Status"))
    course = forms.CharField(required=False, label=_("Course"))
    language = forms.ChoiceField(
        choices=[("", _("Any")), *DeliveryLanguage.choices], required=False, label=_("Language")
    )
    starts_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("From"), validators=[validate_sane_date]
    )
    starts_until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label=_("Until"),
        validators=[validate_sane_date],
    )

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements


class CourseFilterForm(forms.Form):
    language = forms.ChoiceField(
        choices=[("", _("Any")), *DeliveryLanguage.choices], required=False, label=_("Language")
    )


class SessionCalendarForm(forms.Form):
    """The calendar's month (`?month=2026-11`, the current month when absent) and its engagement filter."""

    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), required=False, empty_label=_("All"))
    month = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "month"}), label=_("Month"))

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
        choices=[("", _("Detect from the columns")), *IMPORT_KINDS.items()],
        required=False,
        label=_("The file contains"),
        help_text=_("Detected: each file is the sheet whose required columns its first line holds."),
    )
    file = MultipleFileField(
        label=_("Files"),
        help_text=_(
            "One or more CSVs, UTF-8, first line the column names (download a template below). Files chosen "
            "together are imported together: courses, learners, sessions, enrollments, completions, then tickets."
        ),
    )

    def clean_file(self) -> list:
        uploads = self.cleaned_data["file"]
        problems = []
        for upload in uploads:
            found = []
            if upload.size > 20 * 1024 * 1024:
                found.append(_("The file is larger than 20 MB; split it."))
            if not upload.name.lower().endswith(".csv"):
                found.append(_("Upload a .csv file."))
            if len(uploads) > 1:
                found = [_("%(file)s: %(problem)s") % {"file": upload.name, "problem": problem} for problem in found]
            problems += found
        if problems:
            raise forms.ValidationError(problems)
        return uploads


class TicketForm(forms.Form):
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), label=_("Engagement"))
    category = forms.ChoiceField(choices=TicketCategory.choices, label=_("Category"))
    subject = forms.CharField(max_length=200, label=_("Subject"))
    opened_at = _datetime(_("Opened at"))
    learner = forms.ModelChoiceField(queryset=Learner.objects.none(), required=False, label=_("Learner"))

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements
        self.fields["learner"].queryset = Learner.objects.order_by("name")


class TicketTimesForm(forms.Form):
    first_response_at = _datetime(_("First response at"), required=False)
    resolved_at = _datetime(_("Resolved at"), required=False)


class TicketReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("The other side is notified. Replies are kept with the ticket and cannot be edited."),
    )


class TicketStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))

    def __init__(self, *args: object, statuses: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        labels = {TicketStatus.WAITING_ON_PROVIDER: _("Reopen (waiting on provider)")}
        self.fields["status"].choices = [(s, labels.get(s, TicketStatus(s).label)) for s in statuses]


class TicketAssigneeForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label=_("Nobody"), label=_("Assigned to")
    )

    def __init__(self, *args: object, members: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = members
        self.fields["assignee"].label_from_instance = _member_label


def _member_label(membership: Membership) -> str:
    return f"{membership.user.get_full_name() or membership.user.email} ({membership.get_role_display()})"


class CompletionsForm(forms.Form):
    completed_at = _datetime(_("Completed at"))


class OutageForm(EndsAfterStartsForm):
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), label=_("Engagement"))
    starts_at = _datetime(_("Started"))
    ends_at = _datetime(_("Ended"))
    planned = forms.BooleanField(
        required=False, help_text=_("Planned maintenance does not count against uptime."), label=_("Planned")
    )
    description = forms.CharField(max_length=300, label=_("Description"))

    def __init__(self, *args: object, engagements: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _delivery_language(form: forms.ModelForm) -> str:
    """A course form left without a language (a client that does not send it) keeps the course's, else English."""
    return form.cleaned_data["language"] or form.initial.get("language") or DeliveryLanguage.EN


COURSE_LABELS = {
    "code": _("Code"),
    "title": _("Title"),
    "modality": _("Format"),
    "language": _("Delivery language"),
    "duration_hours": _("Duration (hours)"),
    "ownership": _("Content"),
    "regulated": _("Regulated"),
    "last_reviewed_on": _("Last reviewed on"),
    "review_interval_days": _("Review every (days)"),
    "external_id": _("External id"),
}


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
        labels = COURSE_LABELS

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["review_interval_days"].required = False
        self.fields["review_interval_days"].help_text = _("Empty: every 365 days.")
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
        labels = COURSE_LABELS
        help_texts = {"external_id": _("The course's id in your LMS, for imports and the API.")}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].required = False

    def clean_language(self) -> str:
        return _delivery_language(self)


class ContentReviewForm(forms.Form):
    reviewed_on = forms.DateField(widget=DATE, label=_("Reviewed on"))
    reviewer_name = forms.CharField(max_length=200, label=_("Reviewer"), help_text=_("Who reviewed the content."))
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Notes"))


class VenueForm(forms.ModelForm):
    class Meta:
        model = Venue
        fields = ["name", "address", "timezone"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
        labels = {"name": _("Name"), "address": _("Address"), "timezone": _("Timezone")}
        help_texts = {"timezone": _("IANA name, e.g. Europe/London: session times at this venue are shown in it.")}


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "capacity", "resources"]
        labels = {"name": _("Name"), "capacity": _("Seats"), "resources": _("Resources")}


def _comma_separated(value: str) -> str:
    return ", ".join(part.strip() for part in value.split(",") if part.strip())


class RequirementForm(forms.ModelForm):
    courses = forms.ModelMultipleChoiceField(
        queryset=Course.objects.none(),
        label=_("Courses"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Completing any one of them satisfies the requirement. Ctrl (⌘ on a Mac) chooses several."),
    )

    class Meta:
        model = ComplianceRequirement
        fields = ["name", "audience_business_units", "audience_regions", "recertification_interval_days"]
        labels = {
            "name": _("Name"),
            "audience_business_units": _("Business units"),
            "audience_regions": _("Regions"),
            "recertification_interval_days": _("Recertify every (days)"),
        }
        help_texts = {"recertification_interval_days": _("Empty: a one-off requirement.")}

    field_order = ["name", "courses"]

    def __init__(self, *args: object, business_units: list[str], regions: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["courses"].queryset = Course.objects.order_by("code")
        for name, known in (("audience_business_units", business_units), ("audience_regions", regions)):
            help_text = _("Comma-separated; empty = everyone.")
            if known:
                hint = _("On learner records: %(known)s.") % {"known": ", ".join(known)}
                help_text = f"{help_text} {hint}"
            self.fields[name].help_text = help_text

    def clean_audience_business_units(self) -> str:
        return _comma_separated(self.cleaned_data["audience_business_units"])

    def clean_audience_regions(self) -> str:
        return _comma_separated(self.cleaned_data["audience_regions"])


class AssignRequirementForm(forms.Form):
    due_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label=_("Due on"),
        validators=[validate_sane_date],
    )


SCORES = [(n, str(n)) for n in range(1, 6)]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FeedbackForm(forms.Form):
    """A learner's feedback on this session, entered by the provider (e.g. from paper forms or a survey tool)."""

    enrollment = forms.ModelChoiceField(queryset=Enrollment.objects.none(), label=_("Learner"))
    instructor_score = forms.TypedChoiceField(choices=SCORES, coerce=int, label=_("Instructor score (1–5)"))
    overall_score = forms.TypedChoiceField(choices=SCORES, coerce=int, label=_("Overall score (1–5)"))
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Comment"))
    submitted_at = _datetime(_("Submitted at"))

    def __init__(self, *args: object, enrollments: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].queryset = enrollments
        self.fields["enrollment"].label_from_instance = lambda enrollment: enrollment.learner.name


class AttemptForm(forms.Form):
    course = forms.ModelChoiceField(queryset=Course.objects.none(), label=_("Course"))
    attempted_at = _datetime(_("Attempted at"))
    score = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, label=_("Score"))
    pass_mark = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, label=_("Pass mark"))

    def __init__(self, *args: object, courses: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses


class AssignLearnerForm(forms.Form):
    requirement = forms.ModelChoiceField(queryset=ComplianceRequirement.objects.none(), label=_("Requirement"))
    due_on = forms.DateField(widget=DATE, label=_("Due on"), validators=[validate_sane_date])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requirement"].queryset = ComplianceRequirement.objects.order_by("name")


class CompleteAssignmentForm(forms.Form):
    completed_at = _datetime(_("Completed at"))
