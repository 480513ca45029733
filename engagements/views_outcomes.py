"""Outcome measures of gain-share lines: the values per month, and the forms that submit one with its evidence and
let the other side verify or reject it. Thin over engagements.services; the fee statement prices the verified
value (engagements.selectors.fee_for_period)."""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mls.views_support import confirm_page, form_page
from slas.periods import Period

from . import selectors, services
from .forms import OutcomeMeasurementForm, RejectReasonForm
from .models import Engagement, OutcomeMeasurement
from .views import PAGE_SIZE


def _engagement(request: HttpRequest, pk: int) -> Engagement:
    return get_object_or_404(selectors.engagements_for(request.membership), pk=pk)


def _outcomes_url(request: HttpRequest, engagement_id: int) -> str:
    return reverse("engagements:outcomes", kwargs={"organization_slug": request.organization.slug, "pk": engagement_id})


def _month_filter(text: str, engagement: Engagement) -> tuple[date | None, str]:
    """`?month=YYYY-MM`: the month, or no filter and the reason when the text is not a month."""
    if not text.strip():
        return None, ""
    try:
        return Period.parse(text, engagement.timezone).month, ""
    except ValueError as error:
        return None, str(error)


def outcome_list(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Which outcome values each month has, and which of them count for the gain share (verified only)."""
    engagement = _engagement(request, pk)
    month, month_error = _month_filter(request.GET.get("month", ""), engagement)
    measurements = selectors.outcome_measurements_for(request.membership).filter(engagement=engagement)
    if month is not None:
        measurements = measurements.filter(month=month)
    side = selectors.outcome_side_or_none(request.membership, engagement)
    context = {
        "engagement": engagement,
        "page": Paginator(measurements, PAGE_SIZE).get_page(request.GET.get("page")),
        "month": month,
        "month_error": month_error,
        "review_side": side,
    }
    return render(request, "engagements/outcome_list.html", context)


@require_http_methods(["GET", "POST"])
def outcome_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    if selectors.outcome_side_or_none(request.membership, engagement) is None:
        raise PermissionDenied
    # An outcome is measured once its month is over: offer last month.
    last_month = (timezone.localdate(timezone=engagement.calendar.zone).replace(day=1) - timedelta(days=1)).replace(
        day=1
    )
    form = OutcomeMeasurementForm(
        request.POST or None, lines=selectors.outcome_lines_of(engagement), initial={"month": last_month}
    )
    return form_page(
        request,
        form,
        lambda data: services.submit_outcome_measurement(membership=request.membership, **data),
        title=_("Submit an outcome value for %(engagement)s") % {"engagement": engagement.name},
        cancel_url=_outcomes_url(request, engagement.pk),
        saved=_("Outcome value submitted; the gain share counts it once the other side verifies it."),
    )


def _reviewable(request: HttpRequest, pk: int) -> OutcomeMeasurement:
    measurement = get_object_or_404(selectors.outcome_measurements_for(request.membership), pk=pk)
    if not selectors.may_review_outcome(request.membership, measurement):
        raise PermissionDenied(_("The other side verifies or rejects a submitted value."))
    return measurement


def _summary(measurement: OutcomeMeasurement) -> str:
    return _("%(line)s of %(month)s") % {
        "line": measurement.service_line.name,
        "month": date_format(measurement.month, "F Y"),
    }


@require_http_methods(["GET", "POST"])
def outcome_verify(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    measurement = _reviewable(request, pk)
    return confirm_page(
        request,
        lambda: services.verify_outcome_measurement(measurement=measurement, membership=request.membership),
        title=_("Verify the outcome value %(summary)s?") % {"summary": _summary(measurement)},
        body=_(
            "%(value)s, submitted by the %(side)s with this evidence: “%(evidence)s”. Once verified, the month's gain "
            "share is computed from it."
        )
        % {
            "value": measurement.value,
            "side": measurement.get_submitted_side_display().lower(),
            "evidence": measurement.evidence,
        },
        action=_("Verify"),
        cancel_url=_outcomes_url(request, measurement.engagement_id),
        done=_("Outcome value verified."),
    )


@require_http_methods(["GET", "POST"])
def outcome_reject(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    measurement = _reviewable(request, pk)
    return form_page(
        request,
        RejectReasonForm(request.POST or None),
        lambda data: services.reject_outcome_measurement(
            measurement=measurement, membership=request.membership, **data
        ),
        title=_("Reject the outcome value %(summary)s") % {"summary": _summary(measurement)},
        cancel_url=_outcomes_url(request, measurement.engagement_id),
        saved=_("Outcome value rejected: it does not count, and the submitter may send a corrected one."),
    )
