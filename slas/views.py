"""SLA pages: thin over the selectors and services of the engine."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from . import selectors


def engagement_sla(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = get_object_or_404(selectors.sla_engagements_for(request.membership), pk=pk)
    context = {"engagement": engagement, "scorecard": selectors.scorecard(engagement)}
    return render(request, "slas/engagement_sla.html", context)
