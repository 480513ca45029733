"""QBR pages: the list of stored revisions (with a row that polls while one is generating), downloads through a
permission check, a new revision on request and an on-demand draft of the running quarter. Thin over
reporting.qbr and reporting.services."""

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from engagements.models import Engagement
from engagements.selectors import engagements_for
from mls.decorators import permission_required
from mls.enums import Permission
from mls.sorting import Sorting, by, by_date
from mls.views_support import confirm_page

from . import pdf, qbr, services
from .enums import QbrStatus
from .models import QuarterlyReview

PAGE_SIZE = 25


def _review(request: HttpRequest, pk: int) -> QuarterlyReview:
    return get_object_or_404(qbr.qbrs_for(request.membership), pk=pk)


def _list_url(request: HttpRequest) -> str:
    return reverse("reporting:qbrs", kwargs={"organization_slug": request.organization.slug})


# A quarter's revisions run newest first so the current one leads.
QBR_COLUMNS = {
    "quarter": by_date("quarter", "engagement__name", "-revision"),
    "engagement": by("engagement__name", "quarter", "-revision"),
    "status": by("status"),
    "generated": by_date("generated_at"),
}


@require_GET
@permission_required(Permission.VIEW_COMMERCIALS)
def qbr_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    sorting = Sorting.from_request(request, QBR_COLUMNS, default="-quarter")
    reviews = sorting.apply(qbr.qbrs_for(request.membership))
    context = {
        "sorting": sorting,
        "page": Paginator(reviews, PAGE_SIZE).get_page(request.GET.get("page")),
        "engagements": engagements_for(request.membership).order_by("name", "pk"),
    }
    return render(request, "reporting/qbr/list.html", context)


@require_GET
@permission_required(Permission.VIEW_COMMERCIALS)
def qbr_row(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """One row of the list: htmx polls it while the revision is generating."""
    context = {
        "review": _review(request, pk),
    }
    return render(request, "reporting/qbr/_row.html", context)


@require_GET
@permission_required(Permission.VIEW_COMMERCIALS)
def qbr_download(request: HttpRequest, organization_slug: str, pk: int) -> FileResponse:
    """The stored PDF, for members allowed to read it (never a public media URL), with its SHA-256."""
    review = _review(request, pk)
    if review.status != QbrStatus.READY:
        raise Http404(_("This QBR revision has no PDF."))
    try:
        handle = review.file.open("rb")
    except FileNotFoundError as error:
        raise Http404(_("The QBR file is missing.")) from error
    response = FileResponse(handle, as_attachment=True, filename=review.file.name.rsplit("/", 1)[-1])
    response["X-Content-SHA256"] = review.sha256
    return response


@permission_required(Permission.MANAGE_CONTRACTS)
def qbr_regenerate(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    review = _review(request, pk)
    engagement = review.engagement
    quarter = qbr.Quarter(review.quarter, engagement.timezone)
    return confirm_page(
        request,
        lambda: services.regenerate_qbr(engagement=engagement, quarter=quarter, actor=request.user),
        title=_("Regenerate the %(quarter)s QBR of %(engagement)s?")
        % {"quarter": quarter.label, "engagement": engagement.name},
        body=_(
            "A new revision is rendered from the data as it is now. Earlier revisions stay stored, unchanged, "
            "and can still be downloaded."
        ),
        action=_("Generate a new revision"),
        cancel_url=_list_url(request),
        done=_("A new revision of the %(quarter)s QBR is being generated.") % {"quarter": quarter.label},
    )


@require_GET
@permission_required(Permission.VIEW_COMMERCIALS)
def qbr_draft(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """The running quarter's QBR as it stands, marked DRAFT on every page; rendered now, never stored."""
    engagement: Engagement = get_object_or_404(engagements_for(request.membership), pk=pk)
    now = timezone.now()
    # "The running quarter" is the dashboard's: today in the organization's timezone (the request's). The quarter's
    # SLA periods stay in the engagement's timezone.
    quarter = qbr.Quarter.containing(timezone.localdate(now), engagement.timezone)
    document = pdf.html_to_pdf(qbr.render_html(qbr.qbr_content(engagement, quarter, as_of=now, draft=True)))
    name = f"qbr-{quarter.label.replace(' ', '-')}-DRAFT.pdf"
    response = HttpResponse(document.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
