"""Learners, support tickets and compliance pages. Thin over selectors and services."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from engagements.selectors import engagements_for
from mls.actions import may
from mls.decorators import permission_required
from mls.enums import Permission
from mls.sorting import Sorting, by, by_date
from mls.views_support import form_page, saved_redirect, write_and_say, write_or_rerender, write_then

from . import selectors, services
from .enums import TICKET_TRANSITIONS, TicketCategory, TicketStatus
from .forms import (
    AssignLearnerForm,
    AssignRequirementForm,
    AttemptForm,
    CompleteAssignmentForm,
    ContentReviewForm,
    CourseEditForm,
    CourseFilterForm,
    CourseForm,
    OutageForm,
    TicketAssigneeForm,
    TicketForm,
    TicketReplyForm,
    TicketStatusForm,
    TicketTimesForm,
)
from .models import ComplianceAssignment, ComplianceRequirement, Course, Learner, Outage, SupportTicket
from .views import PAGE_SIZE, _writable_engagements

LEARNER_COLUMNS = {
    "name": by("name"),
    "email": by("email"),
    "hr_id": by("external_id"),
    "unit": by("business_unit"),
    "region": by("region"),
    "sessions": by("sessions"),
}
TICKET_COLUMNS = {
    "subject": by("subject"),
    "status": by("status"),
    "assignee": by("assignee__user__last_name", "assignee__user__email"),
    "activity": by_date("last_activity_at"),
    "opened": by_date("opened_at"),
}
OUTAGE_COLUMNS = {"started": by_date("starts_at"), "ended": by_date("ends_at"), "kind": by("planned")}
COURSE_COLUMNS = {
    "code": by("code"),
    "title": by("title"),
    "format": by("modality"),
    "language": by("language"),
    "hours": by("duration_hours"),
    "content": by("ownership"),
    "reviewed": by_date("last_reviewed_on"),
}


def _ticket_status_saved(status: str) -> str:
    """What a status change says, one sentence per status a member sets (TICKET_TRANSITIONS)."""
    said = {
        TicketStatus.RESOLVED: _("Ticket resolved."),
        TicketStatus.CLOSED: _("Ticket closed."),
        TicketStatus.WAITING_ON_PROVIDER: _("Ticket waiting on provider."),
    }
    return said.get(status) or _("Ticket status: %(status)s.") % {"status": TicketStatus(status).label}


def learner_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    sorting = Sorting.from_request(request, LEARNER_COLUMNS, default="name")
    page = Paginator(sorting.apply(selectors.learner_list(search)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "scheduling/learner_list.html", {"page": page, "search": search, "sorting": sorting})


def _learner_page(request: HttpRequest, learner: Learner, status: int = 200, **forms: object) -> HttpResponse:
    """The learner's sessions, assessment attempts and mandatory training, with the forms this member may use."""
    membership = request.membership
    can_log = membership.has_permission(Permission.LOG_DELIVERY)
    can_assign = may(membership, "compliance.assign")
    context = {
        "learner": learner,
        # Only sessions of engagements this member may see (provider managers: their provider's).
        "enrollments": learner.enrollments.filter(session__in=selectors.sessions_for(membership))
        .select_related("session__course")
        .order_by("-session__starts_at"),
        "assignments": learner.compliance_assignments.select_related("requirement").order_by("-due_on", "pk"),
        "attempts": learner.assessment_attempts.select_related("course").order_by("course__code", "attempt_number"),
        "attempt_form": (forms.get("attempt_form") or AttemptForm(courses=selectors.attempt_courses(membership)))
        if can_log
        else None,
        "assign_form": (forms.get("assign_form") or AssignLearnerForm()) if can_assign else None,
        "complete_form": forms.get("complete_form"),
        "completing": forms.get("completing"),
    }
    return render(request, "scheduling/learner_detail.html", context, status=status)


def learner_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _learner_page(request, get_object_or_404(Learner, pk=pk))


def _learner_url(request: HttpRequest, learner_id: int) -> str:
    return reverse("scheduling:learner", kwargs={"organization_slug": request.organization.slug, "pk": learner_id})


@require_POST
def learner_attempt(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Record an assessment attempt (the learner's next one; passed follows from the score and pass mark)."""
    learner = get_object_or_404(Learner, pk=pk)
    if not request.membership.has_permission(Permission.LOG_DELIVERY):
        raise PermissionDenied
    return write_and_say(
        request,
        AttemptForm(request.POST, courses=selectors.attempt_courses(request.membership)),
        lambda valid: services.record_assessment_attempt(
            learner=learner, membership=request.membership, **valid.cleaned_data
        ),
        saved=lambda attempt: (
            (
                _("Attempt %(number)s at %(code)s recorded: passed.")
                if attempt.passed
                else _("Attempt %(number)s at %(code)s recorded: not passed.")
            )
            % {"number": attempt.attempt_number, "code": attempt.course.code}
        ),
        url=_learner_url(request, learner.pk),
        rerender=lambda invalid: _learner_page(request, learner, status=400, attempt_form=invalid),
    )


@require_POST
def learner_assign(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Assign one learner a mandatory training requirement with its due date."""
    learner = get_object_or_404(Learner, pk=pk)
    if not _can_assign(request):
        raise PermissionDenied
    return write_and_say(
        request,
        AssignLearnerForm(request.POST),
        lambda valid: services.assign_learner(learner=learner, membership=request.membership, **valid.cleaned_data),
        saved=lambda assignment: (
            _("%(requirement)s assigned, due %(due_on)s.")
            % {"requirement": assignment.requirement, "due_on": date_format(assignment.due_on, "DATE_FORMAT")}
        ),
        url=_learner_url(request, learner.pk),
        rerender=lambda invalid: _learner_page(request, learner, status=400, assign_form=invalid),
    )


@require_POST
def assignment_complete(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Record when the learner completed an assignment."""
    assignment = get_object_or_404(ComplianceAssignment.objects.select_related("learner"), pk=pk)
    if not _can_assign(request):
        raise PermissionDenied
    return write_and_say(
        request,
        CompleteAssignmentForm(request.POST),
        lambda valid: services.complete_assignment(
            assignment=assignment, membership=request.membership, **valid.cleaned_data
        ),
        saved=_("Completion recorded."),
        url=_learner_url(request, assignment.learner_id),
        rerender=lambda invalid: _learner_page(
            request, assignment.learner, status=400, complete_form=invalid, completing=assignment.pk
        ),
    )


@require_http_methods(["GET", "POST"])
def ticket_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """Tickets by latest activity, with whose turn it is and who has them; filters by status and category."""
    engagements = _writable_engagements(request)
    if request.method == "POST" and not engagements.exists():
        raise PermissionDenied
    category = request.GET.get("category", "")
    status = request.GET.get("status", "")
    tickets = selectors.ticket_list(request.membership, status=status)
    if category in TicketCategory.values:
        tickets = tickets.filter(category=category)
    sorting = Sorting.from_request(request, TICKET_COLUMNS, default="-activity")

    def page(form: TicketForm, status_code: int = 200) -> HttpResponse:
        context = {
            "page": Paginator(sorting.apply(tickets), PAGE_SIZE).get_page(request.GET.get("page")),
            "sorting": sorting,
            "form": form if engagements.exists() else None,
            "categories": TicketCategory.choices,
            "category": category,
            "statuses": [("unresolved", _("Not resolved yet")), *TicketStatus.choices],
            "status": status,
        }
        return render(request, "scheduling/ticket_list.html", context, status=status_code)

    if request.method == "GET":
        return page(TicketForm(engagements=engagements, initial={"opened_at": timezone.localtime()}))
    return write_then(
        TicketForm(request.POST, engagements=engagements),
        lambda valid: services.log_ticket(membership=request.membership, **valid.cleaned_data),
        lambda ticket: saved_redirect(request, _("Ticket logged."), _ticket_url(request, ticket.pk)),
        lambda invalid: page(invalid, status_code=400),
    )


def _ticket_url(request: HttpRequest, pk: int) -> str:
    return reverse("scheduling:ticket", kwargs={"organization_slug": request.organization.slug, "pk": pk})


def _ticket_page(request: HttpRequest, pk: int, status: int = 200, **forms: object) -> HttpResponse:
    """The ticket as stored (re-read, so a refused value is never shown as saved), its conversation, and the forms
    this member may use; `forms` are the ones a refused post brings back with their errors."""
    ticket = get_object_or_404(selectors.tickets_for(request.membership).select_related("assignee__user"), pk=pk)
    membership = request.membership
    writes_history = _writable_engagements(request).filter(pk=ticket.engagement_id).exists()
    statuses = services.allowed_statuses(membership, ticket)
    context = {
        "ticket": ticket,
        "replies": selectors.ticket_thread(ticket),
        "reply_form": forms.get("reply_form") or TicketReplyForm(),
        "status_form": forms.get("status_form") or (TicketStatusForm(statuses=statuses) if statuses else None),
        "assignee_form": forms.get("assignee_form")
        or TicketAssigneeForm(members=selectors.ticket_assignees(ticket), initial={"assignee": ticket.assignee_id}),
        "form": (forms.get("form") or TicketTimesForm()) if writes_history else None,
    }
    return render(request, "scheduling/ticket_detail.html", context, status=status)


def _ticket(request: HttpRequest, pk: int) -> SupportTicket:
    return get_object_or_404(selectors.tickets_for(request.membership), pk=pk)


@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """The conversation; a POST here records response times kept outside MLS (history), as the import does."""
    if request.method == "GET":
        return _ticket_page(request, pk)
    ticket = _ticket(request, pk)
    if not _writable_engagements(request).filter(pk=ticket.engagement_id).exists():
        raise PermissionDenied
    return write_and_say(
        request,
        TicketTimesForm(request.POST),
        lambda valid: services.update_ticket_times(ticket=ticket, membership=request.membership, **valid.cleaned_data),
        saved=_("Ticket times saved."),
        url=_ticket_url(request, pk),
        rerender=lambda invalid: _ticket_page(request, pk, status=400, form=invalid),
    )


def _answering_ticket(request: HttpRequest, pk: int) -> SupportTicket:
    """The ticket, for a member who takes part in its conversation: 403 for one the services refuse whatever the
    input (a viewer), 404 for a ticket the member cannot see (another provider's)."""
    ticket = _ticket(request, pk)
    try:
        services.answering_side(request.membership, ticket)
    except ValidationError as error:
        raise PermissionDenied from error
    return ticket


@require_POST
def ticket_reply(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    ticket = _answering_ticket(request, pk)
    return write_and_say(
        request,
        TicketReplyForm(request.POST),
        lambda valid: services.post_reply(ticket=ticket, membership=request.membership, **valid.cleaned_data),
        saved=_("Reply posted."),
        url=_ticket_url(request, pk),
        rerender=lambda invalid: _ticket_page(request, pk, status=400, reply_form=invalid),
    )


@require_POST
def ticket_status(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    ticket = _answering_ticket(request, pk)
    form = TicketStatusForm(request.POST, statuses=list(TICKET_TRANSITIONS))
    return write_and_say(
        request,
        form,
        lambda valid: services.set_ticket_status(ticket=ticket, membership=request.membership, **valid.cleaned_data),
        saved=lambda saved: _ticket_status_saved(saved.status),
        url=_ticket_url(request, pk),
        rerender=lambda invalid: _ticket_page(request, pk, status=400, status_form=invalid),
    )


@require_POST
def ticket_assign(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    ticket = _answering_ticket(request, pk)
    return write_and_say(
        request,
        TicketAssigneeForm(request.POST, members=selectors.ticket_assignees(ticket)),
        lambda valid: services.assign_ticket(ticket=ticket, membership=request.membership, **valid.cleaned_data),
        saved=lambda saved: (
            _("Assigned to %(member)s.") % {"member": saved.assignee.user}
            if saved.assignee
            else _("Ticket unassigned.")
        ),
        url=_ticket_url(request, pk),
        rerender=lambda invalid: _ticket_page(request, pk, status=400, assignee_form=invalid),
    )


def _can_assign(request: HttpRequest) -> bool:
    """The service's own check (`require_compliance_assigner`): it decides the form and the POST."""
    return may(request.membership, "compliance.assign")


def compliance_overview(request: HttpRequest, organization_slug: str) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "requirements": selectors.compliance_overview(today),
        "overdue": Paginator(selectors.overdue_assignments(today), PAGE_SIZE).get_page(request.GET.get("page")),
        "today": today,
    }
    return render(request, "scheduling/compliance.html", context)


@require_http_methods(["GET", "POST"])
def compliance_report(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    requirement = get_object_or_404(ComplianceRequirement, pk=pk)
    can_assign = _can_assign(request)
    if request.method == "POST" and not can_assign:
        raise PermissionDenied

    def page(form: AssignRequirementForm, status: int = 200) -> HttpResponse:
        context = {
            "requirement": requirement,
            "assignments": selectors.compliance_report(requirement),
            "courses": [rc.course for rc in requirement.requirement_courses.select_related("course")],
            "today": timezone.localdate(),
            "form": form if can_assign else None,
        }
        return render(request, "scheduling/compliance_report.html", context, status=status)

    if request.method == "GET":
        return page(AssignRequirementForm())
    return write_and_say(
        request,
        AssignRequirementForm(request.POST),
        lambda valid: services.assign_requirement(
            requirement=requirement, membership=request.membership, **valid.cleaned_data
        ),
        saved=lambda count: (
            ngettext("Assigned to %(count)s learner.", "Assigned to %(count)s learners.", count) % {"count": count}
        ),
        url=reverse("scheduling:compliance_report", kwargs={"organization_slug": organization_slug, "pk": pk}),
        rerender=lambda invalid: page(invalid, 400),
    )


def _outages(request: HttpRequest) -> QuerySet[Outage]:
    return Outage.objects.filter(engagement__in=engagements_for(request.membership)).select_related("engagement")


@require_http_methods(["GET", "POST"])
def outage_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    engagements = _writable_engagements(request)
    if request.method == "POST" and not engagements.exists():
        raise PermissionDenied
    sorting = Sorting.from_request(request, OUTAGE_COLUMNS, default="-started")

    def page(form: OutageForm, status: int = 200) -> HttpResponse:
        context = {
            "page": Paginator(sorting.apply(_outages(request)), PAGE_SIZE).get_page(request.GET.get("page")),
            "sorting": sorting,
            "form": form if engagements.exists() else None,
            "writable": set(engagements.values_list("pk", flat=True)),
        }
        return render(request, "scheduling/outage_list.html", context, status=status)

    if request.method == "GET":
        return page(OutageForm(engagements=engagements))
    return write_or_rerender(
        OutageForm(request.POST, engagements=engagements),
        lambda valid: services.log_outage(membership=request.membership, **valid.cleaned_data),
        lambda: saved_redirect(
            request, "Outage logged.", reverse("scheduling:outages", kwargs={"organization_slug": organization_slug})
        ),
        lambda invalid: page(invalid, status=400),
    )


@require_http_methods(["GET", "POST"])
def outage_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Correct an outage of an engagement whose delivery this member logs (another provider's is not found)."""
    outage = get_object_or_404(_outages(request), pk=pk)
    engagements = _writable_engagements(request)
    if not engagements.filter(pk=outage.engagement_id).exists():
        raise PermissionDenied
    fields = ("engagement", "starts_at", "ends_at", "planned", "description")
    initial = {name: getattr(outage, name) for name in fields}
    return form_page(
        request,
        OutageForm(request.POST or None, engagements=engagements, initial=initial),
        lambda data: services.update_outage(outage=outage, membership=request.membership, **data),
        title=_("Edit outage: %(description)s") % {"description": outage.description},
        cancel_url=reverse("scheduling:outages", kwargs={"organization_slug": organization_slug}),
        saved=_("Outage saved."),
    )


# --- Courses ---------------------------------------------------------------------------------------


def _course_url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


@require_http_methods(["GET", "POST"])
def course_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    can_add = may(request.membership, "course.manage")  # the service's require_course_keeper
    if request.method == "POST" and not can_add:
        raise PermissionDenied
    sorting = Sorting.from_request(request, COURSE_COLUMNS, default="code")
    filters = CourseFilterForm(request.GET or None)
    courses = selectors.course_list(language=filters.cleaned_data["language"] if filters.is_valid() else "")

    def page(form: CourseForm, status: int = 200) -> HttpResponse:
        context = {
            "page": Paginator(sorting.apply(courses), PAGE_SIZE).get_page(request.GET.get("page")),
            "sorting": sorting,
            "filters": filters,
            "form": form if can_add else None,
        }
        return render(request, "scheduling/course_list.html", context, status=status)

    if request.method == "GET":
        return page(CourseForm())
    return write_or_rerender(
        CourseForm(request.POST),
        lambda valid: services.add_course(
            organization=request.organization, membership=request.membership, **valid.cleaned_data
        ),
        lambda: saved_redirect(request, _("Course added."), _course_url(request, "scheduling:courses")),
        lambda invalid: page(invalid, status=400),
    )


@require_http_methods(["GET", "POST"])
def course_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """A course with its content-review history; course keepers record a review here."""
    course = get_object_or_404(Course, pk=pk)
    can_manage = may(request.membership, "course.manage")
    if request.method == "POST" and not can_manage:
        raise PermissionDenied

    def page(form: ContentReviewForm, status: int = 200) -> HttpResponse:
        context = {
            "course": course,
            "reviews": selectors.content_reviews(course),
            "form": form if can_manage else None,
        }
        return render(request, "scheduling/course_detail.html", context, status=status)

    if request.method == "GET":
        reviewer = request.user.get_full_name() or request.user.email
        return page(ContentReviewForm(initial={"reviewed_on": timezone.localdate(), "reviewer_name": reviewer}))
    return write_and_say(
        request,
        ContentReviewForm(request.POST),
        lambda valid: services.record_content_review(
            course=course, membership=request.membership, **valid.cleaned_data
        ),
        saved=_("Content review recorded."),
        url=_course_url(request, "scheduling:course", pk=pk),
        rerender=lambda invalid: page(invalid, status=400),
    )


@permission_required(Permission.MANAGE_COURSES)
@require_http_methods(["GET", "POST"])
def course_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    return form_page(
        request,
        CourseEditForm(request.POST or None, initial=model_to_dict(course)),
        lambda data: services.update_course(course=course, membership=request.membership, **data),
        title=_("Edit %(name)s") % {"name": course.code},
        cancel_url=_course_url(request, "scheduling:course", pk=pk),
        saved=_("Course saved."),
    )
