"""CSV import pages: template download, upload (one file, or several as a batch) with preview, progress polled by
htmx, row-numbered errors."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mls.enums import Permission
from mls.forms import apply_service_error

from . import import_jobs, imports, selectors
from .enums import IMPORT_KINDS
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
            return redirect(_upload(request, form.cleaned_data["kind"], form.cleaned_data["file"]))
        except ValidationError as error:
            apply_service_error(form, error)
    jobs = selectors.import_jobs_for(request.membership).select_related("created_by").defer("content")
    context = {
        "form": form,
        "page": Paginator(jobs, 20).get_page(request.GET.get("page")),
        "kinds": [(kind, IMPORT_KINDS.get(kind, kind)) for kind in imports.SHEETS],
    }
    return render(request, "scheduling/import_list.html", context, status=400 if form.errors else 200)


def _upload(request: HttpRequest, kind: str, uploads: list) -> str:
    """Store the upload (one job, or a batch of several files) and say where its preview is."""
    if len(uploads) == 1:
        text = import_jobs.decode_upload(uploads[0].read())
        job = import_jobs.upload(
            organization=request.organization,
            membership=request.membership,
            kind=kind,
            filename=uploads[0].name,
            text=text,
        )
        return _job_url(request, job)
    files, unreadable = [], []
    for item in uploads:
        try:
            files.append(import_jobs.UploadedFile(item.name, import_jobs.decode_upload(item.read())))
        except ValidationError as error:
            unreadable += [_("%(file)s: %(problem)s") % {"file": item.name, "problem": m} for m in error.messages]
    if unreadable:
        raise ValidationError({"file": unreadable})
    batch = import_jobs.upload_batch(
        organization=request.organization, membership=request.membership, kind=kind, files=files
    )
    return _batch_url(request, batch)


def _batch_url(request: HttpRequest, batch: uuid.UUID) -> str:
    return reverse("scheduling:import_batch", kwargs={"organization_slug": request.organization.slug, "batch": batch})


def _batch_jobs(request: HttpRequest, batch: uuid.UUID) -> list[ImportJob]:
    """The batch's jobs in import order; 404 when none is the member's side's (or the batch does not exist)."""
    jobs = import_jobs.in_order(selectors.import_jobs_for(request.membership).filter(batch=batch))
    if not jobs:
        raise Http404
    return jobs


def import_batch(request: HttpRequest, organization_slug: str, batch: uuid.UUID) -> HttpResponse:
    _require_importer(request)
    jobs = _batch_jobs(request, batch)
    files = []
    for job in jobs:
        done, total = import_jobs.progress(job)
        header, rows = import_jobs.preview(job) if job.status == "uploaded" else ([], [])
        files.append({"job": job, "header": header, "rows": rows, "percent": round(100 * done / total) if total else 0})
    context = {
        "batch": batch,
        "files": files,
        "uploaded": all(job.status == "uploaded" for job in jobs),
        "working": any(job.status in ("queued", "running") for job in jobs),
        "total_rows": sum(job.total_rows for job in jobs),
    }
    template = "scheduling/_import_batch_status.html" if request.htmx else "scheduling/import_batch.html"
    return render(request, template, context)


@require_POST
def import_batch_start(request: HttpRequest, organization_slug: str, batch: uuid.UUID) -> HttpResponse:
    _require_importer(request)
    jobs = _batch_jobs(request, batch)
    try:
        import_jobs.start_batch(jobs=jobs, membership=request.membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect(_batch_url(request, batch))


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
