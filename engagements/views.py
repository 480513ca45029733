"""Contract pages: engagements, SoW versions (scope matrix, pricing, diff) and change requests. Thin over services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from mls.decorators import permission_required
from mls.enums import Permission
from mls.forms import apply_service_error
from mls.sorting import Sorting, by, by_date
from mls.views_support import confirm_page, write_and_say

from . import selectors, services
from .enums import EngagementStatus, Side
from .forms import ChangeRequestForm, EngagementForm, ScopeItemForm, ServiceLineForm, SowForm, VersionTermsForm
from .models import ChangeRequest, ScopeItem, ServiceLine, SowVersion

PAGE_SIZE = 25
ENGAGEMENT_COLUMNS = {
    "name": by("name"),
    "provider": by("provider__name"),
    "model": by("engagement_model"),
    "status": by("status"),
    "end": by_date("end_date"),
}


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


# --- Engagements -------------------------------------------------------------------------------


def engagement_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    status = status if status in EngagementStatus.values else ""
    sorting = Sorting.from_request(request, ENGAGEMENT_COLUMNS, default="name")
    engagements = sorting.apply(selectors.engagement_list(request.membership, search=search, status=status))
    context = {
        "page": Paginator(engagements, PAGE_SIZE).get_page(request.GET.get("page")),
        "search": search,
        "status": status,
        "sorting": sorting,
        "statuses": EngagementStatus.choices,
    }
    return render(request, "engagements/engagement_list.html", context)


def engagement_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = get_object_or_404(selectors.engagements_for(request.membership), pk=pk)
    sows = engagement.sows.prefetch_related("versions").order_by("reference")
    change_requests = selectors.change_requests_for(request.membership).filter(sow__engagement=engagement)
    context = {
        "engagement": engagement,
        "sows": sows,
        "change_requests": change_requests,
        "meetings": engagement.meetings.order_by("-scheduled_for")[:10],
        "disputes": engagement.disputes.order_by("-opened_at")[:10],
        "schedule": engagement.sla_schedules.first(),  # the escalation ladder lives on the SLA terms
        "commercials": request.membership.sees_commercials,
    }
    return render(request, "engagements/engagement_detail.html", context)


@permission_required(Permission.MANAGE_CONTRACTS)
@require_http_methods(["GET", "POST"])
def engagement_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = get_object_or_404(selectors.engagements_for(request.membership), pk=pk)
    form = EngagementForm(request.POST or None, instance=engagement)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_engagement(engagement=engagement, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("MSA terms saved."))
            return redirect(engagement)
    context = {
        "form": form,
        "title": _("Edit %(name)s") % {"name": engagement.name},
        "cancel_url": engagement.get_absolute_url(),
    }
    return render(request, "mls/form.html", context, status=400 if form.errors else 200)


@permission_required(Permission.MANAGE_CONTRACTS)
@require_http_methods(["GET", "POST"])
def sow_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = get_object_or_404(selectors.engagements_for(request.membership), pk=pk)
    form = SowForm(request.POST or None, initial={"effective_from": engagement.start_date})
    if request.method == "POST" and form.is_valid():
        try:
            sow = services.create_sow(engagement=engagement, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request, _("%(sow)s created as a draft v1: fill in its scope and pricing.") % {"sow": sow.reference}
            )
            return redirect(_url(request, "engagements:version", pk=sow.versions.get().pk))
    context = {
        "form": form,
        "title": _("New SoW for %(engagement)s") % {"engagement": engagement.name},
        "cancel_url": engagement.get_absolute_url(),
    }
    return render(request, "mls/form.html", context, status=400 if form.errors else 200)


# --- SoW versions ------------------------------------------------------------------------------


def _version(request: HttpRequest, pk: int) -> SowVersion:
    return get_object_or_404(selectors.versions_for(request.membership).select_related("index_series"), pk=pk)


def _editable_version(request: HttpRequest, pk: int) -> SowVersion:
    version = _version(request, pk)
    if not selectors.may_edit_version(request.membership, version):
        raise PermissionDenied
    return version


def _version_page(request: HttpRequest, version: SowVersion, status: int = 200, **forms: object) -> HttpResponse:
    editable = selectors.may_edit_version(request.membership, version)
    change_request = version.change_requests.first()
    context = {
        "version": version,
        "engagement": version.sow.engagement,
        "scope_items": version.scope_items.all(),
        "lines": version.service_lines.prefetch_related("bands"),
        "editable": editable,
        "change_request": change_request,
        "diff": selectors.version_diff(change_request.base_version, version) if change_request else None,
        "other_versions": version.sow.versions.exclude(pk=version.pk).order_by("number"),
        "signing_problems": services.signing_problems(version) if editable and not change_request else [],
        "terms_form": forms.get("terms_form") or (VersionTermsForm(instance=version) if editable else None),
        "scope_form": forms.get("scope_form") or (ScopeItemForm() if editable else None),
        "line_form": forms.get("line_form") or (ServiceLineForm() if editable else None),
    }
    return render(request, "engagements/version_detail.html", context, status=status)


def version_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _version_page(request, _version(request, pk))


def version_diff(request: HttpRequest, organization_slug: str, pk: int, other_pk: int) -> HttpResponse:
    version = _version(request, pk)
    other = get_object_or_404(version.sow.versions.all(), pk=other_pk)
    old, new = sorted([version, other], key=lambda v: v.number)
    context = {"old": old, "new": new, "diff": selectors.version_diff(old, new), "engagement": version.sow.engagement}
    return render(request, "engagements/version_diff.html", context)


def _post_to_version(
    request: HttpRequest, version: SowVersion, form_name: str, form: object, write: object, saved: str
) -> HttpResponse:
    return write_and_say(
        request,
        form,
        write,
        saved=saved,
        url=_url(request, "engagements:version", pk=version.pk),
        rerender=lambda invalid: _version_page(request, version, status=400, **{form_name: invalid}),
    )


@require_POST
def version_terms(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    version = _editable_version(request, pk)
    form = VersionTermsForm(request.POST, instance=SowVersion.objects.get(pk=version.pk))
    return _post_to_version(
        request,
        version,
        "terms_form",
        form,
        lambda f: services.update_draft_version(version=version, actor=request.user, **f.cleaned_data),
        _("Terms saved."),
    )


@require_POST
def scope_item_save(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    version = _editable_version(request, pk)
    return _post_to_version(
        request,
        version,
        "scope_form",
        ScopeItemForm(request.POST),
        lambda f: services.set_scope_item(version=version, actor=request.user, **f.cleaned_data),
        _("Scope matrix row saved."),
    )


@require_POST
def service_line_add(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    version = _editable_version(request, pk)
    return _post_to_version(
        request,
        version,
        "line_form",
        ServiceLineForm(request.POST),
        lambda f: services.add_service_line(version=version, actor=request.user, **f.service_fields()),
        _("Service line added."),
    )


VERSION_ROWS = {
    "scope": (ScopeItem, lambda row, actor: services.remove_scope_item(item=row, actor=actor)),
    "line": (ServiceLine, lambda row, actor: services.remove_service_line(line=row, actor=actor)),
}


@require_http_methods(["GET", "POST"])
def version_row_remove(request: HttpRequest, organization_slug: str, kind: str, pk: int) -> HttpResponse:
    """Remove a scope row or a service line of a draft, after confirmation."""
    if kind not in VERSION_ROWS:
        raise Http404
    model, remove = VERSION_ROWS[kind]
    row = get_object_or_404(model.objects.filter(version__in=selectors.versions_for(request.membership)), pk=pk)
    version = _editable_version(request, row.version_id)
    return confirm_page(
        request,
        lambda: remove(row, request.user),
        title=_("Remove “%(row)s” from %(version)s?") % {"row": row, "version": version},
        body=_("The draft changes at once; signed versions are never affected."),
        action=_("Remove"),
        cancel_url=_url(request, "engagements:version", pk=version.pk),
        done=_("Removed %(row)s.") % {"row": row},
    )


@require_POST
def version_sign(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    version = _editable_version(request, pk)
    try:
        services.sign_version(version=version, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(version)s is signed. From now on it changes only through change requests.") % {"version": version},
        )
    return redirect(_url(request, "engagements:version", pk=version.pk))


# --- Change requests ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def change_request_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    sow = get_object_or_404(selectors.sows_for(request.membership), pk=pk)
    try:
        services.acting_side(request.membership, sow.engagement)
    except ValidationError as error:
        raise PermissionDenied(error.messages[0]) from error
    form = ChangeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change_request = services.propose_change_request(
                sow=sow, membership=request.membership, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Draft change request created: edit the proposed version, then submit it."))
            return redirect(_url(request, "engagements:version", pk=change_request.proposed_version_id))
    context = {
        "form": form,
        "title": _("Propose a change to %(sow)s") % {"sow": sow},
        "cancel_url": sow.engagement.get_absolute_url(),
    }
    return render(request, "mls/form.html", context, status=400 if form.errors else 200)


def change_request_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    change_request = get_object_or_404(selectors.change_requests_for(request.membership), pk=pk)
    return redirect(_url(request, "engagements:version", pk=change_request.proposed_version_id))


CHANGE_REQUEST_ACTIONS = {
    "submit": (
        services.submit_change_request,
        gettext_lazy("%(change_request)s submitted for the other side's response."),
    ),
    "approve": (services.approve_change_request, gettext_lazy("%(change_request)s approved.")),
    "withdraw": (services.withdraw_change_request, gettext_lazy("%(change_request)s withdrawn.")),
}
REJECTED = gettext_lazy("%(change_request)s rejected.")
# The confirmation's title and button of each confirmed action.
CONFIRMATIONS = {
    "approve": (gettext_lazy("Approve %(change_request)s?"), gettext_lazy("Approve")),
    "withdraw": (gettext_lazy("Withdraw %(change_request)s?"), gettext_lazy("Withdraw")),
}
# Deciding for good asks first (GET shows the question, POST acts): approving may sign the proposed version, a
# withdrawn request cannot be reopened. The question says beforehand why the service would refuse, by asking the
# service's own check. Submitting, and rejecting with its typed reason, post at once.
CONFIRMED_ACTIONS = {
    "approve": services.check_approve_change_request,
    "withdraw": services.check_withdraw_change_request,
}


def _approval_question(change_request: ChangeRequest, side: str) -> str:
    version, base = change_request.proposed_version, change_request.base_version
    signs = _("%(version)s is signed and replaces %(base)s from %(effective)s") % {
        "version": version,
        "base": base,
        "effective": date_format(version.effective_from, "j M Y"),
    }
    other = Side.PROVIDER if side == Side.CLIENT else Side.CLIENT
    other_approved = change_request.provider_approved_at if side == Side.CLIENT else change_request.client_approved_at
    words = {"side": Side(other).label.lower(), "signs": signs}
    if other_approved:
        return _("The %(side)s has approved already: with your approval %(signs)s.") % words
    return _("The %(side)s approves too; once both sides have, %(signs)s.") % words


def _confirmed_change_request_action(request: HttpRequest, change_request: ChangeRequest, action: str) -> HttpResponse:
    approving = action == "approve"
    try:
        side = services.acting_side(request.membership, change_request.sow.engagement, approving=approving)
    except ValidationError as error:
        raise PermissionDenied(error.messages[0]) from error
    act, done = CHANGE_REQUEST_ACTIONS[action]
    title, button = CONFIRMATIONS[action]
    named = {"change_request": change_request}
    try:
        CONFIRMED_ACTIONS[action](request.membership, change_request)
    except ValidationError as error:
        refusal = error.messages[0]
    else:
        refusal = ""
    return confirm_page(
        request,
        lambda: act(change_request=change_request, membership=request.membership),
        title=title % named,
        body=_approval_question(change_request, side)
        if approving
        else _("Both sides see it withdrawn; it cannot be reopened, a change then needs a new request."),
        action=str(button),
        cancel_url=_url(request, "engagements:version", pk=change_request.proposed_version_id),
        done=done % named,
        error=refusal,  # the service checks again on POST
    )


@require_http_methods(["GET", "POST"])
def change_request_action(request: HttpRequest, organization_slug: str, pk: int, action: str) -> HttpResponse:
    change_requests = selectors.change_requests_for(request.membership)
    change_request = get_object_or_404(
        change_requests.select_related("proposed_version__sow", "base_version__sow"), pk=pk
    )
    if action not in CHANGE_REQUEST_ACTIONS and action != "reject":
        raise Http404
    if action in CONFIRMED_ACTIONS:
        return _confirmed_change_request_action(request, change_request, action)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        if action == "reject":
            services.reject_change_request(
                change_request=change_request, membership=request.membership, reason=request.POST.get("reason", "")
            )
        else:
            CHANGE_REQUEST_ACTIONS[action][0](change_request=change_request, membership=request.membership)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        done = CHANGE_REQUEST_ACTIONS[action][1] if action in CHANGE_REQUEST_ACTIONS else REJECTED
        messages.success(request, done % {"change_request": change_request})
    return redirect(_url(request, "engagements:version", pk=change_request.proposed_version_id))
