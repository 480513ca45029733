"""Fee statements per SoW and month: the index (with the SLA credit ledgers), a statement page, its PDF and CSV.
Thin over reporting.statements."""

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from engagements.models import Sow
from mls.decorators import permission_required
from mls.enums import Permission

from . import pdf, statements
from .exports import csv_response


def _statement(request: HttpRequest, pk: int, month: str) -> statements.FeeStatement:
    sow: Sow = get_object_or_404(statements.statement_index(request.membership), pk=pk)
    first_day = statements.parse_month(month)
    if first_day is None:
        raise Http404(_("Not a month (YYYY-MM)."))
    return statements.fee_statement(sow, first_day)


def _file_name(statement: statements.FeeStatement, extension: str) -> str:
    return f"statement-{statement.sow.reference}-{statement.period.label}.{extension}"


@require_GET
@permission_required(Permission.VIEW_COMMERCIALS)
def statement_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    today = timezone.localdate()
    sows = list(statements.statement_index(request.membership))
    rows = [(sow, statements.recent_months(sow.engagement, today)) for sow in sows]
    return render(request, "reporting/statements/list.html", {"rows": rows})


@require_GET
@permission_required(Permission.VIEW_COMMERCIALS)
def statement_detail(request: HttpRequest, organization_slug: str, pk: int, month: str) -> HttpResponse:
    statement = _statement(request, pk, month)
    return render(request, "reporting/statements/detail.html", {"statement": statement})


@require_GET
@permission_required(Permission.VIEW_COMMERCIALS)
def statement_pdf(request: HttpRequest, organization_slug: str, pk: int, month: str) -> HttpResponse:
    statement = _statement(request, pk, month)
    document = pdf.render_pdf(
        "reporting/statements/document.html", {"statement": statement, "generated_on": timezone.localdate()}
    )
    response = HttpResponse(document.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(statement, "pdf")}"'
    return response


@require_GET
@permission_required(Permission.VIEW_COMMERCIALS)
def statement_csv(request: HttpRequest, organization_slug: str, pk: int, month: str) -> StreamingHttpResponse:
    statement = _statement(request, pk, month)
    rows = statements.statement_rows(statement)
    return csv_response(_file_name(statement, "csv"), statements.STATEMENT_CSV_HEADER, rows)
