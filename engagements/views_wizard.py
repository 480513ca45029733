"""The new-engagement wizard and saving an engagement as a template. HTTP only: forms validate, services write.

The wizard is one URL. Each POST carries the step shown and the earlier steps' input as a signed token (bound to
the organization and the user, valid for a day), so no step state lives on the server and a tampered token is
simply a fresh start. Nothing is written before the last step, and then everything in one service call.
"""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from mls import formatting
from mls.decorators import permission_required
from mls.enums import Permission
from mls.forms import apply_service_error
from mls.views_support import form_page
from slas.catalog import METRICS, Kind

from . import selectors
from .enums import MeetingKind, PricingModel
from .forms import TemplateNameForm
from .forms_wizard import BasicsForm, MoneyForm, TargetsForm
from .services.templates import (
    FIRST_SOW_REFERENCE,
    EngagementPlan,
    check_create_from_template,
    check_save_as_template,
    create_engagement_from_template,
    save_engagement_as_template,
)
from .template_content import TargetSpec

STEPS = (
    (1, gettext_lazy("Template and dates"), BasicsForm, "basics"),
    (2, gettext_lazy("Money"), MoneyForm, "money"),
    (3, gettext_lazy("SLA targets"), TargetsForm, "slas"),
    (4, gettext_lazy("Review and create"), None, ""),
)
STATE_MAX_AGE = 24 * 3600


def _salt(request: HttpRequest) -> str:
    return f"engagements.wizard:{request.organization.pk}:{request.user.pk}"


def _load_state(request: HttpRequest) -> dict[str, dict]:
    try:
        state = signing.loads(request.POST.get("state", ""), salt=_salt(request), max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        return {}
    return state if isinstance(state, dict) else {}


def _raw(form: object, data: object) -> dict[str, str]:
    """The step's own fields as typed (a checkbox left unticked is absent, as in a POST)."""
    raw = {}
    for name in form.fields:
        key = form.add_prefix(name)
        if key in data:
            raw[key] = data.get(key)
    return raw


def _form(request: HttpRequest, step: int, state: dict[str, dict], data: object = None) -> object:
    """The step's form: bound to `data`, else to what the user typed earlier, else unbound with the defaults."""
    _, _, form_class, prefix = STEPS[step - 1]
    kwargs = {"prefix": prefix}
    if step > 1:
        kwargs["template"] = _valid(request, 1, state).cleaned_data["chosen"]
    if step == 2:
        kwargs["initial"] = {"currency": request.organization.currency}
    if data is None and str(step) in state:
        data = state[str(step)]
    return form_class(data, **kwargs) if data is not None else form_class(**kwargs)


def _valid(request: HttpRequest, step: int, state: dict[str, dict]) -> object:
    form = _form(request, step, state)
    if not form.is_bound or not form.is_valid():
        raise _StepInvalid(step)
    return form


class _StepInvalid(Exception):
    """An earlier step's kept input no longer validates (e.g. the provider was removed): show that step again."""

    def __init__(self, step: int) -> None:
        self.step = step


def _page(request: HttpRequest, step: int, state: dict, form: object = None, status: int = 200) -> HttpResponse:
    context = {
        "title": gettext("New engagement"),
        "steps": [(number, label) for number, label, _, _ in STEPS],
        "step": step,
        "form": form,
        "state": signing.dumps(state, salt=_salt(request)),
        "cancel_url": reverse("engagements:list", kwargs={"organization_slug": request.organization.slug}),
    }
    if step == len(STEPS):
        context["review"] = {str(number): _valid(request, number, state) for number in (1, 2, 3)}
        content = context["review"]["1"].cleaned_data["chosen"].content
        context["pricing_label"] = PricingModel(content.pricing_model).label
        context["sow_reference"] = FIRST_SOW_REFERENCE
        context["cadences"] = [
            ngettext("%(kind)s every month", "%(kind)s every %(months)s months", c.every_months)
            % {"kind": MeetingKind(c.kind).label, "months": c.every_months}
            for c in content.meetings
        ]
        context["target_lines"] = [_target_line(t) for t in context["review"]["3"].cleaned_data["targets"]]
    return render(request, "engagements/wizard.html", context, status=status)


def _target_line(target: TargetSpec) -> str:
    """ "Support first response ≥ 90 % within 8 hours (20 % of the at-risk amount)", for the review."""
    metric = METRICS[target.metric]
    figure = f"{target.target.normalize():f}"
    value = gettext("%(value)s of 5") % {"value": figure} if metric.kind == Kind.MEAN else f"{figure} %"
    share = formatting.percent(target.allocation_percent)
    words = {"metric": metric.name, "value": value, "share": share}
    if target.threshold:
        message = gettext("%(metric)s ≥ %(value)s within %(threshold)s %(unit)s (%(share)s of the at-risk amount)")
        return message % {**words, "threshold": target.threshold, "unit": metric.threshold_unit_label}
    return gettext("%(metric)s ≥ %(value)s (%(share)s of the at-risk amount)") % words


def _plan(request: HttpRequest, state: dict) -> EngagementPlan:
    basics, money, targets = (_valid(request, number, state).cleaned_data for number in (1, 2, 3))
    return EngagementPlan(
        template=basics["chosen"],
        provider=basics["provider"],
        name=basics["name"],
        start_date=basics["start_date"],
        end_date=basics["end_date"],
        currency=money["currency"].upper(),
        annual_value=money["annual_value"],
        annual_budget=money["annual_budget"],
        forecast_learners=money["forecast_learners"],
        lines=money["lines"],
        at_risk_percent=targets["at_risk_percent"],
        targets=targets["targets"],
    )


@permission_required(Permission.MANAGE_CONTRACTS)
@require_http_methods(["GET", "POST"])
def engagement_create(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """Four short steps from a template to a whole engagement; see the module docstring for the step state."""
    check_create_from_template(request.membership)
    if request.method != "POST":
        return _page(request, 1, {}, _form(request, 1, {}))
    state = _load_state(request)
    try:
        step = min(max(int(request.POST.get("step", "1")), 1), len(STEPS))
    except ValueError:
        step = 1
    try:
        return _post(request, step, state, request.POST.get("go", "next"))
    except _StepInvalid as invalid:
        return _page(request, invalid.step, state, _form(request, invalid.step, state), status=400)


def _post(request: HttpRequest, step: int, state: dict, go: str) -> HttpResponse:
    if step > 1 and "1" not in state:
        return _page(request, 1, {}, _form(request, 1, {}))  # a lost or tampered state: start again
    if go == "back" and step > 1:
        if step < len(STEPS):
            state[str(step)] = _raw(_form(request, step, state, request.POST), request.POST)  # keep what was typed
        return _page(request, step - 1, state, _form(request, step - 1, state))
    if step < len(STEPS):
        form = _form(request, step, state, request.POST)
        if not form.is_valid():
            return _page(request, step, state, form, status=400)
        state[str(step)] = _raw(form, request.POST)
        if step == 1:  # another template has other lines and targets: the next steps start from its defaults
            for later in ("2", "3"):
                if state.get(later, {}).get("_template") != form.cleaned_data["template"]:
                    state.pop(later, None)
            state["1"]["_template"] = form.cleaned_data["template"]
        else:
            state[str(step)]["_template"] = state["1"]["_template"]
        following = step + 1
        return _page(request, following, state, None if following == len(STEPS) else _form(request, following, state))
    plan = _plan(request, state)
    try:
        engagement = create_engagement_from_template(
            organization=request.organization, membership=request.membership, plan=plan
        )
    except ValidationError as error:
        basics = _form(request, 1, state)
        apply_service_error(basics, error)
        return _page(request, 1, state, basics, status=400)
    messages.success(
        request,
        gettext(
            "Engagement %(engagement)s created with its SoW (a draft to review and sign), %(targets)s SLA targets and "
            "its first governance meetings."
        )
        % {"engagement": engagement.name, "targets": len(plan.targets)},
    )
    return redirect(engagement)


@require_http_methods(["GET", "POST"])
def save_as_template(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = get_object_or_404(selectors.engagements_for(request.membership), pk=pk)
    try:
        check_save_as_template(request.membership, engagement)  # PermissionDenied: 403
    except ValidationError as refused:
        messages.error(request, refused.messages[0])
        return redirect(engagement)
    return form_page(
        request,
        TemplateNameForm(
            request.POST or None, initial={"name": gettext("%(engagement)s template") % {"engagement": engagement.name}}
        ),
        lambda data: save_engagement_as_template(engagement=engagement, membership=request.membership, **data),
        title=gettext("Save %(engagement)s as a template") % {"engagement": engagement.name},
        cancel_url=engagement.get_absolute_url(),
        saved=gettext("Template saved: choose it in step 1 of a new engagement."),
    )
