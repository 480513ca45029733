"""SLA pages: each engagement's results with credits, escalations, relief and manual values; the drill-down to the
items behind a value; the forms that set the terms and targets, ask for relief and submit or review manual values.
Thin over slas.selectors, slas.drilldown and slas.services."""

from datetime import date
from pathlib import PurePath

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from engagements.enums import Side
from engagements.models import Engagement
from engagements.selectors import engagements_for
from mls.actions import may
from mls.decorators import permission_required
from mls.enums import Permission
from mls.sorting import Sorting, by, by_date
from mls.views_support import confirm_page, form_page

from . import drilldown, escalations, selectors, services
from .catalog import METRICS, in_sentence
from .enums import ReliefStatus
from .forms import (
    DisputeReasonForm,
    EscalationFilterForm,
    EscalationResponseForm,
    ManualMeasurementForm,
    ReliefForm,
    RemediationPlanForm,
    ScheduleForm,
    TargetForm,
)
from .models import Escalation, ManualMeasurement, ReliefEvent, SlaSchedule, SlaTarget

PAGE_SIZE = 25
SCORECARD_MONTHS = 6


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


def _engagement(request: HttpRequest, pk: int) -> Engagement:
    return get_object_or_404(engagements_for(request.membership), pk=pk)


def _sla_url(request: HttpRequest, engagement_id: int) -> str:
    return _url(request, "slas:engagement", pk=engagement_id)


def _today(engagement: Engagement) -> date:
    return timezone.localdate(timezone=engagement.calendar.zone)


# --- Reading ---------------------------------------------------------------------------------------------------


SLA_COLUMNS = {
    "engagement": by("name"),
    "provider": by("provider__name"),
    "breaches": by("breach_count"),
    "credits": by("credits_issued"),
}
ESCALATION_COLUMNS = {
    "engagement": by("engagement__name"),
    "metric": by("metric"),
    "level": by("level"),
    "since": by_date("period__month"),
    "status": by("status"),
}


def sla_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    sorting = Sorting.from_request(request, SLA_COLUMNS, default="engagement")
    engagements = sorting.apply(selectors.sla_engagement_list(request.membership))
    context = {
        "sorting": sorting,
        "page": Paginator(engagements, PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "slas/sla_list.html", context)


def engagement_sla(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    schedule = selectors.schedule_of(engagement)
    targets = selectors.targets_of(schedule) if schedule else []
    membership = request.membership
    context = {
        "engagement": engagement,
        "schedule": schedule,
        "targets": targets,
        "allocation_total": sum(t.allocation_percent for t in targets),
        "target_warning": selectors.target_count_warning(schedule, _today(engagement)) if schedule else "",
        "scorecard": selectors.scorecard(engagement, SCORECARD_MONTHS),
        "credit_statement": selectors.credit_statement(engagement),
        "escalations": selectors.escalations_of(engagement),
        "relief_events": selectors.relief_of(engagement),
        "manual_measurements": selectors.manual_measurements_of(engagement),
        "review_side": selectors.side_of(membership, engagement, approving=True),
    }
    return render(request, "slas/engagement_sla.html", context)


def measurement_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    measurement = get_object_or_404(selectors.measurements_for(request.membership), pk=pk)
    manual_pk = (measurement.inputs or {}).get("manual_measurement")
    context = {
        "measurement": measurement,
        "engagement": measurement.engagement,
        "metric": METRICS[measurement.metric],
        "formula": drilldown.formula_of(measurement),
        "items": drilldown.item_page(measurement, request.GET.get("show"), request.GET.get("page")),
        "manual": selectors.manual_measurements_of(measurement.engagement).filter(pk=manual_pk).first()
        if manual_pk
        else None,
    }
    return render(request, "slas/measurement_detail.html", context)


def manual_evidence(request: HttpRequest, organization_slug: str, pk: int) -> FileResponse:
    """The evidence file, for members who see the engagement: never a public media URL."""
    manual = get_object_or_404(selectors.manual_for(request.membership), pk=pk)
    try:
        handle = manual.evidence.open("rb")
    except FileNotFoundError as error:
        raise Http404(_("The evidence file is missing.")) from error
    return FileResponse(handle, as_attachment=True, filename=PurePath(manual.evidence.name).name)


# --- Terms and targets -----------------------------------------------------------------------------------------


@permission_required(Permission.MANAGE_SLAS)
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Create the engagement's SLA schedule, or edit it; a new one starts from the usual terms (the model's)."""
    engagement = _engagement(request, pk)
    schedule = selectors.schedule_of(engagement)
    initial = model_to_dict(schedule, fields=SlaSchedule.EDITABLE_FIELDS) if schedule else {}

    def write(data: dict) -> SlaSchedule:
        if schedule:
            return services.update_schedule(schedule=schedule, actor=request.user, **data)
        return services.create_schedule(engagement=engagement, actor=request.user, **data)

    return form_page(
        request,
        ScheduleForm(request.POST or None, initial=initial),
        write,
        title=(_("Edit the SLA schedule of %(engagement)s") if schedule else _("New SLA schedule of %(engagement)s"))
        % {"engagement": engagement.name},
        cancel_url=_sla_url(request, engagement.pk),
        saved=_("SLA terms saved.") if schedule else _("SLA schedule created: now add its targets."),
    )


def _target_page(request: HttpRequest, form: TargetForm, write: object, *, title: str, engagement_id: int):
    return form_page(
        request,
        form,
        write,
        title=title,
        cancel_url=_sla_url(request, engagement_id),
        saved=_("Target saved."),
        template="slas/target_form.html",
        extra_context={"metrics": METRICS.values()},
    )


@permission_required(Permission.MANAGE_SLAS)
@require_http_methods(["GET", "POST"])
def target_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    schedule = selectors.schedule_of(engagement)
    if schedule is None:
        messages.info(request, _("Set the SLA terms first; then add targets."))
        return redirect(_url(request, "slas:schedule", pk=engagement.pk))
    initial = {"active_from": _today(engagement).replace(day=1), "min_sample": 5}
    return _target_page(
        request,
        TargetForm(request.POST or None, initial=initial),
        lambda data: services.save_target(schedule=schedule, actor=request.user, **data),
        title=_("New SLA target for %(engagement)s") % {"engagement": engagement.name},
        engagement_id=engagement.pk,
    )


@permission_required(Permission.MANAGE_SLAS)
@require_http_methods(["GET", "POST"])
def target_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    target = get_object_or_404(selectors.targets_for(request.membership), pk=pk)
    return _target_page(
        request,
        TargetForm(request.POST or None, initial=model_to_dict(target, fields=SlaTarget.EDITABLE_FIELDS)),
        lambda data: services.save_target(schedule=target.schedule, actor=request.user, existing=target, **data),
        title=_("Edit the %(metric)s target") % {"metric": target.definition.name_in_sentence},
        engagement_id=target.schedule.engagement_id,
    )


@require_POST
@permission_required(Permission.MANAGE_SLAS)
def compute(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Recompute the open (provisional) periods now instead of waiting for the hourly job."""
    engagement = _engagement(request, pk)
    try:
        periods = services.recompute_open_periods(engagement=engagement)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        recomputed = ngettext("Recomputed %(count)s open period.", "Recomputed %(count)s open periods.", len(periods))
        messages.success(request, recomputed % {"count": len(periods)})
    return redirect(_sla_url(request, engagement.pk))


# --- Relief ----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def relief_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    if selectors.side_of(request.membership, engagement) is None:
        raise PermissionDenied
    return form_page(
        request,
        ReliefForm(request.POST or None),
        lambda data: services.request_relief(engagement=engagement, membership=request.membership, **data),
        title=_("Ask for SLA relief on %(engagement)s") % {"engagement": engagement.name},
        cancel_url=_sla_url(request, engagement.pk),
        saved=_("Relief requested; it counts once the client's L&D director approves it."),
    )


RELIEF_DECISIONS = {"approve": True, "reject": False}


def _relief_summary(relief: ReliefEvent) -> str:
    metrics = ", ".join(str(METRICS[key].name) for key in relief.metrics) if relief.metrics else _("every metric")
    return _("%(kind)s relief %(starts)s–%(ends)s for %(metrics)s") % {
        "kind": relief.get_kind_display(),
        "starts": date_format(relief.starts_on, "d M Y"),
        "ends": date_format(relief.ends_on, "d M Y"),
        "metrics": metrics,
    }


@require_http_methods(["GET", "POST"])
def relief_decide(request: HttpRequest, organization_slug: str, pk: int, decision: str) -> HttpResponse:
    """Approve or reject a relief request, after confirmation; only the client's approvers decide."""
    if decision not in RELIEF_DECISIONS:
        raise Http404
    relief = get_object_or_404(selectors.relief_for(request.membership), pk=pk)
    if not may(request.membership, "relief.decide", relief.engagement):
        raise PermissionDenied(_("Only the client's L&D director or an owner decides on relief."))
    approve = RELIEF_DECISIONS[decision]
    already = relief.status != ReliefStatus.REQUESTED
    return confirm_page(
        request,
        lambda: services.decide_relief(relief=relief, membership=request.membership, approve=approve),
        title=_("Approve this relief request?") if approve else _("Reject this relief request?"),
        body=_("%(summary)s: “%(reason)s”.") % {"summary": _relief_summary(relief), "reason": relief.reason}
        + " "
        + (
            _("Items of those days are left out of periods not yet final; finalized periods are not reopened.")
            if approve
            else _("The provider is measured on those days as usual.")
        ),
        action=_("Approve") if approve else _("Reject"),
        cancel_url=_sla_url(request, relief.engagement_id),
        done=_("Relief approved.") if approve else _("Relief rejected."),
        error=_("This relief request is already %(status)s.") % {"status": relief.get_status_display().lower()}
        if already
        else "",
    )


# --- Manual measurements ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def manual_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    if selectors.side_of(request.membership, engagement) is None:
        raise PermissionDenied
    form = ManualMeasurementForm(
        request.POST or None, request.FILES or None, initial={"month": _today(engagement).replace(day=1)}
    )
    return form_page(
        request,
        form,
        lambda data: services.submit_manual_measurement(engagement=engagement, membership=request.membership, **data),
        title=_("Submit a manual SLA value for %(engagement)s") % {"engagement": engagement.name},
        cancel_url=_sla_url(request, engagement.pk),
        saved=_("Value submitted; it counts once the other side verifies it."),
    )


def _manual_subject(manual: ManualMeasurement) -> dict[str, str]:
    return {"metric": METRICS[manual.metric].name_in_sentence, "month": date_format(manual.month, "F Y")}


def _reviewable_manual(request: HttpRequest, pk: int) -> ManualMeasurement:
    manual = get_object_or_404(selectors.manual_for(request.membership), pk=pk)
    if not selectors.may_review_manual(request.membership, manual):
        raise PermissionDenied(_("The other side verifies or disputes a submitted value."))
    return manual


@require_http_methods(["GET", "POST"])
def manual_verify(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    manual = _reviewable_manual(request, pk)
    return confirm_page(
        request,
        lambda: services.verify_manual_measurement(manual=manual, membership=request.membership),
        title=_("Verify %(metric)s of %(month)s?") % _manual_subject(manual),
        body=_(
            "%(value)s %% on a sample of %(sample)s records. Once verified it counts for the period, including any "
            "breach and service credit."
        )
        % {"value": manual.value, "sample": manual.sample_size},
        action=_("Verify"),
        cancel_url=_sla_url(request, manual.engagement_id),
        done=_("Value verified."),
    )


@require_http_methods(["GET", "POST"])
def manual_dispute(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    manual = _reviewable_manual(request, pk)
    return form_page(
        request,
        DisputeReasonForm(request.POST or None),
        lambda data: services.dispute_manual_measurement(manual=manual, membership=request.membership, **data),
        title=_("Dispute %(metric)s of %(month)s") % _manual_subject(manual),
        cancel_url=_sla_url(request, manual.engagement_id),
        saved=_("Value disputed: a dispute is open at account management, and the value does not count."),
        done_url=lambda disputed: _url(request, "engagements:dispute", pk=disputed.dispute_id),
    )


# --- Escalations -----------------------------------------------------------------------------------------------


def escalation_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """Every escalation the member may see, filtered by status and engagement, with the actions their side has."""
    engagements = engagements_for(request.membership).order_by("name")
    filters = EscalationFilterForm(request.GET or None, engagements=engagements)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    engagement = chosen.get("engagement")
    rows = selectors.escalations_for(
        request.membership, status=chosen.get("status", ""), engagement_id=engagement.pk if engagement else None
    )
    sorting = Sorting.from_request(request, ESCALATION_COLUMNS, default="-since")
    page = Paginator(sorting.apply(rows), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "sorting": sorting,
        "page": page,
    }
    return render(request, "slas/escalation_list.html", context)


def _escalation(request: HttpRequest, pk: int, *, provider: bool) -> Escalation:
    """The escalation if the member's side may act on it: the provider answers, the client's approvers close."""
    escalation = get_object_or_404(selectors.escalations_for(request.membership), pk=pk)
    side = selectors.side_of(request.membership, escalation.engagement, approving=not provider)
    if side != (Side.PROVIDER if provider else Side.CLIENT):
        raise PermissionDenied(
            _("The provider answers an escalation; the client's L&D director or an owner closes it.")
        )
    return escalation


def _escalation_name(escalation: Escalation) -> str:
    metric = METRICS[escalation.metric].name_in_sentence if escalation.metric else _("the engagement")
    return _("%(level)s on %(subject)s (%(month)s)") % {
        "level": in_sentence(escalation.get_level_display()),
        "subject": metric,
        "month": date_format(escalation.period.month, "F Y"),
    }


@require_http_methods(["GET", "POST"])
def escalation_respond(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    escalation = _escalation(request, pk, provider=True)
    return form_page(
        request,
        EscalationResponseForm(request.POST or None),
        lambda data: escalations.respond_to_notice(escalation=escalation, membership=request.membership, **data),
        title=_("Respond to the %(escalation)s") % {"escalation": _escalation_name(escalation)},
        cancel_url=_url(request, "slas:escalations"),
        saved=_("Response recorded."),
    )


@require_http_methods(["GET", "POST"])
def escalation_plan(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    escalation = _escalation(request, pk, provider=True)
    form = RemediationPlanForm(
        request.POST or None, initial={"plan": escalation.remediation_plan, "due_on": escalation.remediation_due_on}
    )
    return form_page(
        request,
        form,
        lambda data: escalations.record_remediation_plan(escalation=escalation, membership=request.membership, **data),
        title=_("Remediation plan for the %(escalation)s") % {"escalation": _escalation_name(escalation)},
        cancel_url=_url(request, "slas:escalations"),
        saved=_("Remediation plan recorded."),
    )


@require_http_methods(["GET", "POST"])
def escalation_close(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    escalation = _escalation(request, pk, provider=False)
    return confirm_page(
        request,
        lambda: escalations.close_escalation(escalation=escalation, membership=request.membership),
        title=_("Close the %(escalation)s?") % {"escalation": _escalation_name(escalation)},
        body=_(
            "%(engagement)s. A closed escalation takes no further response or plan from the provider; a new breach "
            "streak raises a new one."
        )
        % {"engagement": escalation.engagement.name},
        action=_("Close escalation"),
        cancel_url=_url(request, "slas:escalations"),
        done=_("Escalation closed."),
        error="" if escalation.is_open else _("This escalation is already closed."),
    )
