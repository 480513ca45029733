"""Delivery pages for provider account managers (and read-only for the client). Thin over services."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from engagements.models import Engagement
from engagements.selectors import engagements_for
from mls.actions import may
from mls.enums import Permission
from mls.sorting import Sorting, by, by_date
from mls.views_support import saved_redirect, write_and_say, write_then
from surveys import selectors as survey_selectors

from . import calendars, selectors, services
from .enums import SEATED_STATUSES, EnrollmentStatus, SessionStatus
from .forms import (
    CancelSessionForm,
    CompletionsForm,
    EnrollForm,
    FeedbackForm,
    RescheduleForm,
    SessionFilterForm,
    SessionForm,
)
from .models import Enrollment, Learner, Session

PAGE_SIZE = 25
SESSION_COLUMNS = {
    "when": by_date("starts_at"),
    "course": by("course__code"),
    "engagement": by("engagement__name"),
    "language": by("language"),
    "status": by("status"),
    "seats": by("seats_taken"),
}


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


def _writable_engagements(request: HttpRequest) -> QuerySet[Engagement]:
    """Engagements whose delivery this member may log: the provider's own for its managers; all for owners."""
    if request.membership.has_permission(Permission.LOG_DELIVERY):
        return engagements_for(request.membership).order_by("name")
    return Engagement.objects.none()


def _may_write(request: HttpRequest, session: Session) -> bool:
    """The service's own check (`require_delivery_writer`), asked as the page's buttons ask it."""
    return may(request.membership, "delivery.log", session.engagement)


def session_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    engagements = engagements_for(request.membership).order_by("name")
    filters = SessionFilterForm(request.GET or None, engagements=engagements)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    sessions = selectors.session_list(
        request.membership,
        engagement_id=criteria.get("engagement") and criteria["engagement"].pk,
        status=criteria.get("status", ""),
        course=criteria.get("course", ""),
        language=criteria.get("language", ""),
        starts_from=criteria.get("starts_from"),
        starts_until=criteria.get("starts_until"),
    )
    sorting = Sorting.from_request(request, SESSION_COLUMNS, default="when")
    context = {
        "filters": filters,
        "sorting": sorting,
        "page": Paginator(sorting.apply(sessions), PAGE_SIZE).get_page(request.GET.get("page")),
        "can_create": _writable_engagements(request).exists(),
    }
    return render(request, "scheduling/session_list.html", context)


@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, organization_slug: str) -> HttpResponse:
    engagements = _writable_engagements(request)
    if not engagements.exists():
        raise PermissionDenied

    def page(form: SessionForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "title": _("New session"), "cancel_url": _url(request, "scheduling:sessions")}
        return render(request, "mls/form.html", context, status=status)

    if request.method == "GET":
        return page(SessionForm(engagements=engagements))

    def write(form: SessionForm) -> Session:
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        return services.request_session(membership=request.membership, **data)

    return write_then(
        SessionForm(request.POST, engagements=engagements),
        write,
        lambda session: redirect(_url(request, "scheduling:session", pk=session.pk)),
        lambda invalid: page(invalid, status=400),
    )


def _session(request: HttpRequest, pk: int) -> Session:
    return get_object_or_404(selectors.sessions_for(request.membership), pk=pk)


def _feedback_form(session: Session, data: object = None) -> FeedbackForm:
    """Learners who may rate the session are those seated on it (services.feedback_refusals decides)."""
    raters = session.enrollments.filter(status__in=services.FEEDBACK_STATUSES).select_related("learner")
    return FeedbackForm(data, enrollments=raters.order_by("learner__name"), initial={"submitted_at": timezone.now()})


def _session_page(request: HttpRequest, session: Session, status: int = 200, **forms: object) -> HttpResponse:
    can_write = _may_write(request, session)  # the feedback form; the buttons ask {% may "delivery.log" %}
    enrollments = list(selectors.roster(session))
    started = session.starts_at <= timezone.now()
    context = {
        "session": session,
        "instructors": [slot.instructor for slot in session.session_instructors.select_related("instructor")],
        "seated": [e for e in enrollments if e.status not in (EnrollmentStatus.WAITLISTED, EnrollmentStatus.CANCELLED)],
        "waitlist": [e for e in enrollments if e.status == EnrollmentStatus.WAITLISTED],
        "cancelled": [e for e in enrollments if e.status == EnrollmentStatus.CANCELLED],
        "replacement": session.replacements.first(),
        "cancel_form": forms.get("cancel_form") or CancelSessionForm(),
        "reschedule_form": forms.get("reschedule_form") or RescheduleForm(),
        "enroll_form": forms.get("enroll_form") or EnrollForm(),
        # Attendance (and with it delivery) can only be recorded once the session has started.
        "attendance_open": session.status in (SessionStatus.CONFIRMED, SessionStatus.DELIVERED) and started,
        "feedback": session.feedback.select_related("learner").order_by("submitted_at", "pk"),
        "feedback_form": (forms.get("feedback_form") or _feedback_form(session))
        if can_write and started and session.status in (SessionStatus.CONFIRMED, SessionStatus.DELIVERED)
        else None,
        "completed_learners": set(session.completions.values_list("learner", flat=True)),
        "survey_rates": survey_selectors.session_response_rate(session),
    }
    template = "scheduling/_roster.html" if request.htmx and not forms else "scheduling/session_detail.html"
    return render(request, template, context, status=status)


def session_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _session_page(request, _session(request, pk))


def _session_write(
    request: HttpRequest,
    pk: int,
    form_name: str,
    form: object,
    write: object,
    saved: str | Callable[[object], str],
    *,
    goes_to: Callable[[object], Session] | None = None,
) -> HttpResponse:
    """Write to the session through `write(session, cleaned_data)`, then show the session `goes_to(what write
    returned)` (default: this one) saying what was saved; or this session's page with the form's errors (400)."""
    session = _session(request, pk)
    if not _may_write(request, session):
        raise PermissionDenied

    def then(written: object) -> HttpResponse:
        shown = goes_to(written) if goes_to else session
        message = saved(written) if callable(saved) else saved
        return saved_redirect(request, message, _url(request, "scheduling:session", pk=shown.pk))

    return write_then(
        form,
        lambda valid: write(session, valid.cleaned_data),
        then,
        lambda invalid: _session_page(request, session, status=400, **{form_name: invalid}),
    )


def _enrolled(summary: services.EnrollmentSummary) -> str:
    """One learner: a sentence about them; several: what happened to each, grouped."""
    if len(summary.enrolled) + len(summary.waitlisted) == 1 and not (summary.already or summary.unknown):
        if summary.waitlisted:
            return _("No seat is free: %(learner)s is on the waitlist, and gets the next seat that frees up.") % {
                "learner": summary.waitlisted[0]
            }
        return _("%(learner)s is enrolled.") % {"learner": summary.enrolled[0]}
    groups = [
        (_("Enrolled"), [str(learner) for learner in summary.enrolled]),
        (_("On the waitlist (no seat free)"), [str(learner) for learner in summary.waitlisted]),
        (_("Already on this session"), [str(learner) for learner in summary.already]),
        (_("No learner has these emails, nothing written"), summary.unknown),
    ]
    return " ".join(
        _("%(group)s: %(names)s.") % {"group": label, "names": ", ".join(names)} for label, names in groups if names
    )


@require_POST
def session_cancel(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _session_write(
        request,
        pk,
        "cancel_form",
        CancelSessionForm(request.POST),
        lambda session, data: services.cancel_session(session=session, membership=request.membership, **data),
        _("Session cancelled; its enrolled learners were told by email."),
    )


@require_POST
def session_reschedule(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """The replacement session's page says the learners moved to it."""
    return _session_write(
        request,
        pk,
        "reschedule_form",
        RescheduleForm(request.POST),
        lambda session, data: services.reschedule_session(session=session, membership=request.membership, **data),
        _("Rescheduled: the enrolled learners moved to this session."),
        goes_to=lambda replacement: replacement,
    )


@require_POST
def session_enroll(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _session_write(
        request,
        pk,
        "enroll_form",
        EnrollForm(request.POST),
        lambda session, data: services.enroll_many(
            session=session, membership=request.membership, learners=data["learner"], emails=data["emails"]
        ),
        _enrolled,
    )


def session_learners(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """The learner picker: learners matching `q` who are not on the session yet. With htmx only the list of
    options; without JavaScript the whole enrolment page, so the search form works as a plain GET."""
    session = _session(request, pk)
    if not _may_write(request, session):
        raise PermissionDenied
    search = request.GET.get("q", "").strip()
    chosen = [int(value) for value in request.GET.getlist("learner") if value.isdigit()]
    picked, learners, more = selectors.enrollable_learners(session, search, chosen=chosen)
    context = {
        "session": session,
        "picked": picked,
        "learners": learners,
        "more": more,
        "search": search,
        "picker_open": True,
        "enroll_form": EnrollForm(),
    }
    template = "scheduling/_learner_options.html" if request.htmx else "scheduling/session_enroll.html"
    return render(request, template, context)


SESSION_ACTIONS = {
    "confirm": (services.confirm_session, gettext_lazy("Session confirmed.")),
    "deliver": (services.mark_delivered, gettext_lazy("Session marked delivered.")),
}


@require_POST
def session_action(request: HttpRequest, organization_slug: str, pk: int, action: str) -> HttpResponse:
    session = _session(request, pk)
    if action not in SESSION_ACTIONS:
        raise Http404
    if not _may_write(request, session):
        raise PermissionDenied
    act, done = SESSION_ACTIONS[action]
    try:
        act(session=session, membership=request.membership)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect(_url(request, "scheduling:session", pk=session.pk))


@require_POST
def session_attendance(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Checkbox per seated learner; with htmx only the roster is swapped."""
    session = _session(request, pk)
    if not _may_write(request, session):
        raise PermissionDenied
    try:
        present = [int(value) for value in request.POST.getlist("present")]
        count = services.record_attendance(session=session, membership=request.membership, present_ids=present)
    except (ValueError, ValidationError) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else _("Invalid attendance data.")
        messages.error(request, message)
        status = 400
    else:
        messages.success(request, _("Attendance saved: %(count)s present.") % {"count": count})
        status = 200
    if request.htmx:
        return _session_page(request, Session.objects.get(pk=session.pk), status=status)
    return redirect(_url(request, "scheduling:session", pk=session.pk))


@require_POST
def enrollment_cancel(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    enrollment = get_object_or_404(
        Enrollment.objects.filter(session__in=selectors.sessions_for(request.membership)), pk=pk
    )
    if not _may_write(request, enrollment.session):
        raise PermissionDenied
    try:
        promoted = services.cancel_enrollment(enrollment=enrollment, membership=request.membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        said = _("Enrollment of %(learner)s cancelled.") % {"learner": enrollment.learner}
        if promoted:
            said += " " + _("%(learner)s moved up from the waitlist.") % {"learner": promoted.learner}
        messages.success(request, said)
    return redirect(_url(request, "scheduling:session", pk=enrollment.session_id))


def _ics_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def session_ics(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    session = _session(request, pk)
    return _ics_response(calendars.session_calendar(session), f"session-{session.pk}.ics")


def learner_ics(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """A learner's live sessions, limited to the engagements this member may see."""
    learner = get_object_or_404(Learner, pk=pk)
    sessions = (
        selectors.sessions_for(request.membership)
        .filter(enrollments__learner=learner, enrollments__status__in=SEATED_STATUSES)
        .exclude(status=SessionStatus.CANCELLED)
        .distinct()
    )
    return _ics_response(calendars.learner_calendar(learner, list(sessions)), f"learner-{learner.pk}.ics")


@require_POST
def session_feedback(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """One learner's feedback on the session (instructor and overall score), entered by the provider."""
    session = _session(request, pk)
    if not _may_write(request, session):
        raise PermissionDenied
    return write_and_say(
        request,
        _feedback_form(session, request.POST),
        lambda valid: services.submit_feedback(membership=request.membership, **valid.cleaned_data),
        saved=lambda feedback: _("Feedback of %(learner)s recorded.") % {"learner": feedback.learner},
        url=_url(request, "scheduling:session", pk=session.pk),
        rerender=lambda invalid: _session_page(request, session, status=400, feedback_form=invalid),
    )


@require_POST
def session_completions(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Bulk completion entry for a delivered session's attendees."""
    session = _session(request, pk)
    if not _may_write(request, session):
        raise PermissionDenied
    form = CompletionsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date and time the learners completed the course."))
        return redirect(_url(request, "scheduling:session", pk=session.pk))
    try:
        ids = [int(value) for value in request.POST.getlist("enrollment")]
        count = services.record_session_completions(
            session=session, membership=request.membership, enrollment_ids=ids, **form.cleaned_data
        )
    except ValueError:
        messages.error(request, _("Invalid selection."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            ngettext("%(count)s completion recorded.", "%(count)s completions recorded.", count) % {"count": count},
        )
    return redirect(_url(request, "scheduling:session", pk=session.pk))
