"""Governance pages: meetings with minutes and actions, and tiered disputes. Thin over services."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mls.forms import apply_service_error
from mls.sorting import Sorting, by, by_date
from mls.views_support import write_and_say

from . import selectors, services
from .enums import DisputeTier
from .forms import DisputeCloseForm, DisputeForm, DisputeNoteForm, MeetingActionForm, MeetingForm, MinutesForm
from .models import Engagement
from .views import PAGE_SIZE


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


def _can_act(request: HttpRequest, engagement: Engagement) -> bool:
    try:
        services.acting_side(request.membership, engagement)
    except ValidationError:
        return False
    return True


def _engagement_for_acting(request: HttpRequest, pk: int) -> Engagement:
    engagement = get_object_or_404(selectors.engagements_for(request.membership), pk=pk)
    if not _can_act(request, engagement):
        raise PermissionDenied
    return engagement


# --- Meetings ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = _engagement_for_acting(request, pk)
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.schedule_meeting(
                engagement=engagement, membership=request.membership, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(meeting)s scheduled.") % {"meeting": meeting})
            return redirect(_url(request, "engagements:meeting", pk=meeting.pk))
    context = {
        "form": form,
        "title": _("Schedule a meeting for %(engagement)s") % {"engagement": engagement},
        "cancel_url": engagement.get_absolute_url(),
    }
    return render(request, "mls/form.html", context, status=400 if form.errors else 200)


def _meeting_page(request: HttpRequest, meeting: object, status: int = 200, **forms: object) -> HttpResponse:
    context = {
        "meeting": meeting,
        "engagement": meeting.engagement,
        "actions": meeting.actions.all(),
        "minutes_form": forms.get("minutes_form") or MinutesForm(initial={"minutes": meeting.minutes}),
        "action_form": forms.get("action_form") or MeetingActionForm(),
        "today": timezone.localdate(),
    }
    return render(request, "engagements/meeting_detail.html", context, status=status)


def meeting_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _meeting_page(request, get_object_or_404(selectors.meetings_for(request.membership), pk=pk))


def _write_on_page(
    request: HttpRequest,
    obj: Any,
    page: Callable[..., HttpResponse],
    url_name: str,
    form_name: str,
    form: Any,
    write: Callable[[Any, dict], object],
    saved: str,
) -> HttpResponse:
    """A form posted on a meeting's or a dispute's page (`page`, the form under `form_name`): the member must act for
    a side of its engagement; a refusal shows the page again with the form's errors."""
    if not _can_act(request, obj.engagement):
        raise PermissionDenied
    return write_and_say(
        request,
        form,
        lambda valid: write(obj, valid.cleaned_data),
        saved=saved,
        url=_url(request, url_name, pk=obj.pk),
        rerender=lambda invalid: page(request, obj, status=400, **{form_name: invalid}),
    )


def _meeting_write(request: HttpRequest, pk: int, *posted: Any) -> HttpResponse:
    """`posted`: the form's name on the page, the form, the write and what to say once saved."""
    meeting = get_object_or_404(selectors.meetings_for(request.membership), pk=pk)
    return _write_on_page(request, meeting, _meeting_page, "engagements:meeting", *posted)


@require_POST
def meeting_minutes(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _meeting_write(
        request,
        pk,
        "minutes_form",
        MinutesForm(request.POST),
        lambda meeting, data: services.record_minutes(meeting=meeting, membership=request.membership, **data),
        _("Minutes saved."),
    )


@require_POST
def meeting_action_add(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _meeting_write(
        request,
        pk,
        "action_form",
        MeetingActionForm(request.POST),
        lambda meeting, data: services.add_meeting_action(meeting=meeting, membership=request.membership, **data),
        _("Action added."),
    )


@require_POST
def meeting_action_done(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    action = get_object_or_404(selectors.meeting_actions_for(request.membership), pk=pk)
    if not _can_act(request, action.meeting.engagement):
        raise PermissionDenied
    try:
        services.complete_meeting_action(action=action, membership=request.membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect(_url(request, "engagements:meeting", pk=action.meeting_id))


# --- Disputes ----------------------------------------------------------------------------------


DISPUTE_COLUMNS = {
    "title": by("title"),
    "engagement": by("engagement__name"),
    "tier": by("tier"),
    "opened": by_date("opened_at"),
    "executives_by": by_date("executive_due_on"),
}


def dispute_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    show = request.GET.get("show", "open")
    disputes = selectors.disputes_for(request.membership)
    if show == "open":
        disputes = disputes.exclude(tier=DisputeTier.CLOSED)
    sorting = Sorting.from_request(request, DISPUTE_COLUMNS, default="-opened")
    context = {
        "page": Paginator(sorting.apply(disputes), PAGE_SIZE).get_page(request.GET.get("page")),
        "sorting": sorting,
        "show": show,
        "today": timezone.localdate(),
    }
    return render(request, "engagements/dispute_list.html", context)


@require_http_methods(["GET", "POST"])
def dispute_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = _engagement_for_acting(request, pk)
    form = DisputeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = services.open_dispute(engagement=engagement, membership=request.membership, **form.cleaned_data)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("Dispute opened at account management; executives by %(due_on)s.")
                % {"due_on": dispute.executive_due_on},
            )
            return redirect(_url(request, "engagements:dispute", pk=dispute.pk))
    title = _("Raise a dispute on %(engagement)s") % {"engagement": engagement}
    context = {"form": form, "title": title, "cancel_url": engagement.get_absolute_url()}
    return render(request, "mls/form.html", context, status=400 if form.errors else 200)


def _dispute_page(request: HttpRequest, dispute: object, status: int = 200, **forms: object) -> HttpResponse:
    context = {
        "dispute": dispute,
        "steps": dispute.steps.select_related("actor"),
        "escalate_form": forms.get("escalate_form") or DisputeNoteForm(),
        "close_form": forms.get("close_form") or DisputeCloseForm(),
        "overdue": dispute.is_overdue_for_executives(timezone.localdate()),
    }
    return render(request, "engagements/dispute_detail.html", context, status=status)


def dispute_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _dispute_page(request, get_object_or_404(selectors.disputes_for(request.membership), pk=pk))


def _dispute_write(request: HttpRequest, pk: int, *posted: Any) -> HttpResponse:
    """As `_meeting_write`, on a dispute's page."""
    dispute = get_object_or_404(selectors.disputes_for(request.membership), pk=pk)
    return _write_on_page(request, dispute, _dispute_page, "engagements:dispute", *posted)


@require_POST
def dispute_escalate(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _dispute_write(
        request,
        pk,
        "escalate_form",
        DisputeNoteForm(request.POST),
        lambda dispute, data: services.escalate_dispute(dispute=dispute, membership=request.membership, **data),
        _("Dispute escalated to the next tier."),
    )


@require_POST
def dispute_close(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _dispute_write(
        request,
        pk,
        "close_form",
        DisputeCloseForm(request.POST),
        lambda dispute, data: services.close_dispute(dispute=dispute, membership=request.membership, **data),
        _("Dispute closed."),
    )
