"""Procurement tools: the contract red-flag review and index series for annual price adjustments."""

import subprocess

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mls.enums import Permission
from mls.views_support import write_or_rerender

from . import services
from .forms import ContractReviewForm, IndexSeriesForm, IndexValueForm
from .models import IndexSeries
from .red_flags import review_contract

PDFTOTEXT_TIMEOUT_SECONDS = 30


class UnreadableDocument(ValueError):
    pass


def _document_text(document: object) -> str:
    """Text of an uploaded .txt or .pdf; pdftotext runs with a timeout and never touches the network."""
    data = document.read()
    if document.name.lower().endswith(".txt"):
        return data.decode("utf-8", errors="replace")
    try:
        result = subprocess.run(
            ["pdftotext", "-layout", "-", "-"],  # noqa: S607 - poppler-utils on PATH, fixed arguments
            input=data,
            capture_output=True,
            timeout=PDFTOTEXT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UnreadableDocument(_("The PDF could not be read; paste its text instead.")) from error
    if result.returncode != 0:
        raise UnreadableDocument(_("The file is not a readable PDF; paste its text instead."))
    return result.stdout.decode("utf-8", errors="replace")


@require_http_methods(["GET", "POST"])
def contract_review(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """Paste or upload SoW/SLA text; list the red flags the seeds warn about, with the matching text."""
    if request.membership.is_provider_side:
        raise PermissionDenied  # a client-side negotiation aid
    form = ContractReviewForm(request.POST or None, request.FILES or None)
    findings = None
    if request.method == "POST" and form.is_valid():
        try:
            document = form.cleaned_data["document"]
            text = _document_text(document) if document else form.cleaned_data["text"]
            findings = review_contract(text)
        except ValueError as error:  # unreadable file, empty or oversized text
            form.add_error(None, str(error))
    status = 400 if form.errors else 200
    return render(request, "engagements/contract_review.html", {"form": form, "findings": findings}, status=status)


def _require_contract_manager(request: HttpRequest) -> None:
    if not request.membership.has_permission(Permission.MANAGE_CONTRACTS):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def index_series_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    if request.method == "POST":
        _require_contract_manager(request)

    def page(form: IndexSeriesForm, status: int = 200) -> HttpResponse:
        context = {
            "series_list": IndexSeries.objects.order_by("name"),
            "form": form,
        }
        return render(request, "engagements/index_series_list.html", context, status=status)

    if request.method == "GET":
        return page(IndexSeriesForm())
    return write_or_rerender(
        IndexSeriesForm(request.POST),
        lambda valid: services.create_index_series(
            organization=request.organization, actor=request.user, **valid.cleaned_data
        ),
        lambda: redirect(reverse("engagements:index_series", kwargs={"organization_slug": organization_slug})),
        lambda invalid: page(invalid, status=400),
    )


@require_http_methods(["GET", "POST"])
def index_series_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    series = get_object_or_404(IndexSeries, pk=pk)
    if request.method == "POST":
        _require_contract_manager(request)

    def page(form: IndexValueForm, status: int = 200) -> HttpResponse:
        context = {
            "series": series,
            "values": series.values.order_by("-month"),
            "form": form,
        }
        return render(request, "engagements/index_series_detail.html", context, status=status)

    if request.method == "GET":
        return page(IndexValueForm())

    def saved() -> HttpResponse:
        messages.success(request, _("Index value saved."))
        kwargs = {"organization_slug": organization_slug, "pk": pk}
        return redirect(reverse("engagements:index_series_detail", kwargs=kwargs))

    return write_or_rerender(
        IndexValueForm(request.POST),
        lambda valid: services.record_index_value(series=series, actor=request.user, **valid.cleaned_data),
        saved,
        lambda invalid: page(invalid, status=400),
    )
