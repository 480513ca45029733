"""Export pages: CSV downloads of delivery and SLA data (every role, its own rows) and the owners' data-portability
export (confirm, progress polled by htmx, permission-checked download). Thin over reporting.delivery_exports,
reporting.exports and reporting.services."""

from pathlib import PurePath
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from engagements.selectors import engagements_for
from mls.decorators import permission_required
from mls.enums import Permission
from mls.views_support import confirm_page

from . import services
from .delivery_exports import CSV_EXPORTS, export_rows
from .enums import ExportStatus
from .exports import queryset_csv_response
from .forms import ExportFilterForm
from .models import DataExport

PAGE_SIZE = 10


def _filter_form(request: HttpRequest) -> ExportFilterForm:
    return ExportFilterForm(request.GET or None, engagements=engagements_for(request.membership).order_by("name"))


def _exports_page(request: HttpRequest, form: ExportFilterForm, status: int = 200) -> HttpResponse:
    can_export_all = request.membership.has_permission(Permission.EXPORT_ALL_DATA)
    data_exports = DataExport.objects.select_related("requested_by") if can_export_all else DataExport.objects.none()
    context = {
        "form": form,
        "exports": CSV_EXPORTS,
        # Download links carry the filters only once they are valid.
        "query": request.GET.urlencode() if form.is_bound and form.is_valid() else "",
        "can_export_all": can_export_all,
        "page": Paginator(data_exports, PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "reporting/exports.html", context, status=status)


@require_GET
def exports(request: HttpRequest, organization_slug: str) -> HttpResponse:
    return _exports_page(request, _filter_form(request))


@require_GET
def export_csv(request: HttpRequest, organization_slug: str, kind: str) -> HttpResponse | StreamingHttpResponse:
    """Stream one export; filters that do not validate show the exports page with their errors instead."""
    export = CSV_EXPORTS.get(kind)
    if export is None:
        raise Http404
    form = ExportFilterForm(request.GET, engagements=engagements_for(request.membership))
    if not form.is_valid():
        return _exports_page(request, form, status=400)
    zone = ZoneInfo(request.organization.timezone)
    rows = export_rows(export, request.membership, zone=zone, **form.cleaned_data)
    filename = f"mls-{request.organization.slug}-{kind}-{timezone.localdate(timezone=zone):%Y-%m-%d}.csv"
    return queryset_csv_response(filename, export.header, rows, export.lookups, zone)


@permission_required(Permission.EXPORT_ALL_DATA)
@require_http_methods(["GET", "POST"])
def data_export_request(request: HttpRequest, organization_slug: str) -> HttpResponse:
    return confirm_page(
        request,
        lambda: services.request_portability_export(organization=request.organization, membership=request.membership),
        title=_("Export all of the organization's data?"),
        body=_(
            "Every table of the organization (engagements, delivery, SLA results, credits, members, the audit log) "
            "as CSV and JSON files in one ZIP, with a manifest of row counts and SHA-256 checksums. Passwords and "
            "other credentials are not included. It is built in the background; only owners can download it."
        ),
        action=_("Start the export"),
        cancel_url=reverse("reporting:exports", kwargs={"organization_slug": organization_slug}),
        done=_("Export started: its progress shows below."),
    )


@permission_required(Permission.EXPORT_ALL_DATA)
@require_GET
def data_export(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    export = get_object_or_404(DataExport.objects.select_related("requested_by"), pk=pk)
    done, total = services.progress(export)
    context = {"export": export, "percent": round(100 * done / total) if total else 0}
    template = "reporting/_export_status.html" if request.htmx else "reporting/data_export.html"
    return render(request, template, context)


@permission_required(Permission.EXPORT_ALL_DATA)
@require_GET
def data_export_download(request: HttpRequest, organization_slug: str, pk: int) -> FileResponse:
    """The ZIP, for owners only: never a public media URL."""
    export = get_object_or_404(DataExport, pk=pk, status=ExportStatus.SUCCEEDED)
    try:
        handle = export.file.open("rb")
    except FileNotFoundError as error:
        raise Http404(_("The export file is missing.")) from error
    return FileResponse(handle, as_attachment=True, filename=PurePath(export.file.name).name)
