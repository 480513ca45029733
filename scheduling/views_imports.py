"""CSV import pages: template download, upload with preview, progress polled by htmx, row-numbered errors."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from mls.enums import Permission
from mls.forms import apply_service_error

from . import import_jobs, imports, selectors
from .forms import ImportUploadForm
from .models import ImportJob


def _require_importer(request: HttpRequest) -> None:
    if not request.membership.has_permission(Permission.IMPORT_DATA):
        raise PermissionDenied


def _job_url(request: HttpRequest, job: ImportJob) -> str:
    return reverse("scheduling:import_job", kwargs={"organization_slug": request.organization.slug, "pk": job.pk})


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    _require_importer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            text = import_jobs.decode_upload(form.cleaned_data["file"].read())
            job = import_jobs.upload(
                organization=request.organization,
                membership=request.membership,
                kind=form.cleaned_data["kind"],
                filename=form.cleaned_data["file"].name,
                text=text,
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            return redirect(_job_url(request, job))
    jobs = selectors.import_jobs_for(request.membership).select_related("created_by").defer("content")
    context = {"form": form, "page": Paginator(jobs, 20).get_page(request.GET.get("page")), "kinds": imports.SHEETS}
    return render(request, "scheduling/import_list.html", context, status=400 if form.errors else 200)


def import_template(request: HttpRequest, organization_slug: str, kind: str) -> HttpResponse:
    if kind not in imports.SHEETS:
        raise Http404
    response = HttpResponse(imports.template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mls-{kind}-template.csv"'
    return response


def import_job(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    _require_importer(request)
    job = get_object_or_404(selectors.import_jobs_for(request.membership), pk=pk)
    done, total = import_jobs.progress(job)
    header, rows = import_jobs.preview(job) if job.status == "uploaded" else ([], [])
    context = {
        "job": job,
        "header": header,
        "rows": rows,
        "percent": round(100 * done / total) if total else 0,
    }
    template = "scheduling/_import_status.html" if request.htmx else "scheduling/import_job.html"
    return render(request, template, context)


@require_POST
def import_start(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    _require_importer(request)
    job = get_object_or_404(selectors.import_jobs_for(request.membership), pk=pk)
    try:
        import_jobs.start(job=job, membership=request.membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect(_job_url(request, job))
