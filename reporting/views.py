"""The organization dashboard: SLA status per engagement, recent escalations, who is here and what happened."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mls import selectors as mls_selectors
from mls.enums import Permission
from vendors.models import Provider

from . import selectors

RECENT_ACTIVITY = 8


def dashboard(request: HttpRequest, organization_slug: str) -> HttpResponse:
    can_see_activity = request.membership.has_permission(Permission.VIEW_AUDIT_LOG)
    context = {
        "sla_status": selectors.sla_status(request.membership),
        "escalations": selectors.recent_escalations(request.membership),
        "providers": Provider.objects.order_by("name"),
        "member_count": mls_selectors.members().count(),
        "recent_events": mls_selectors.audit_events()[:RECENT_ACTIVITY] if can_see_activity else None,
    }
    return render(request, "reporting/dashboard.html", context)
