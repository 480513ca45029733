"""The L&D director's dashboard: across the engagements a member sees, and for one engagement.

Both pages show the same panels (quarter results, spend against budget, volume, escalations, sessions, contract
dates, what waits for the member's side) from the same selectors; the organization page summarizes the SLAs per
engagement, the engagement page shows every target as a tile.
"""

from datetime import date

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.models import Engagement
from mls import selectors as mls_selectors
from mls.enums import Permission
from surveys import selectors as survey_selectors
from vendors.selectors import providers_for

from . import selectors
from .onboarding import checklist_for

RECENT_ACTIVITY = 8


def _quarter(request: HttpRequest, today: date) -> tuple[selectors.Quarter, str]:
    """The quarter `?quarter=2026-Q3` asks for, or this one (with why, when the ask was not a past quarter)."""
    current = selectors.Quarter.containing(today, request.organization.timezone)
    key = request.GET.get("quarter")
    if key is None:
        return current, ""
    try:
        asked = selectors.Quarter.named(key, request.organization.timezone)
    except ValueError:
        message = _("“%(key)s” is not a quarter: write it like %(example)s. Showing %(quarter)s.")
        return current, message % {"key": key, "example": current.key, "quarter": current.label}
    if asked.start > today:
        message = _("%(asked)s has not started yet. Showing %(quarter)s.")
        return current, message % {"asked": asked.label, "quarter": current.label}
    return asked, ""


def _panels(request: HttpRequest, engagements: QuerySet[Engagement], currency: str) -> dict[str, object]:
    """Dates in the organization's timezone (the middleware made it current); money in `currency`. The quarter's
    results and volume are of `?quarter=` (default: this quarter); the rest is as of today. Spend against budget
    only for a member who sees the client's commercials (`commercials`): a provider manager's page has no spend
    column, card or chart."""
    today, now = timezone.localdate(), timezone.now()
    quarter, quarter_error = _quarter(request, today)
    shown = selectors.ShownMonth.of(quarter, today)
    overview = selectors.engagement_overview(engagements, quarter, today)
    membership = request.membership
    totals = selectors.totals(overview, currency)
    commercials = membership.sees_commercials
    return {
        "today": today,
        "now": now,
        "quarter": quarter,
        "shown": shown,
        "quarter_error": quarter_error,
        "quarter_is_current": quarter.start <= today < quarter.end,
        "following_quarter": quarter.following if quarter.following.start <= today else None,
        "this_quarter_link": quarter.following.end <= today,  # "next" is not already this quarter
        "currency": currency,
        "overview": overview,
        "totals": totals,
        "commercials": commercials,
        "spend_chart": selectors.spend_chart(engagements, currency, today, totals.budget) if commercials else None,
        "escalations": selectors.escalations_at(engagements, shown),
        "upcoming": selectors.upcoming_sessions(membership, engagements, now)[: selectors.UPCOMING_SESSIONS],
        "change_requests": selectors.pending_change_requests(membership, engagements),
        "manual_values": selectors.pending_manual_values(membership, engagements),
        "relief_requests": selectors.pending_relief(engagements),
    }


def dashboard(request: HttpRequest, organization_slug: str) -> HttpResponse:
    engagements = selectors.engagements_on_dashboard(request.membership)
    can_see_activity = request.membership.has_permission(Permission.VIEW_AUDIT_LOG)
    panels = _panels(request, engagements, request.organization.currency)
    statuses = selectors.sla_status(engagements, panels["shown"], panels["escalations"])
    status_of = {status.engagement_id: status for status in statuses}
    context = {
        **panels,
        "engagement_rows": [(row, status_of.get(row.engagement.pk)) for row in panels["overview"]],
        "compliance": selectors.compliance_status(timezone.localdate()),
        "contract_dates": selectors.contract_dates(engagements, timezone.localdate())[: selectors.CONTRACT_DATES],
        "providers": providers_for(request.membership),
        "member_count": mls_selectors.members().count(),
        "recent_events": mls_selectors.audit_events()[:RECENT_ACTIVITY] if can_see_activity else None,
        "onboarding": checklist_for(request.membership, request.organization),
    }
    return render(request, "reporting/dashboard.html", context)


def engagement_dashboard(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    engagement = get_object_or_404(selectors.engagements_on_dashboard(request.membership), pk=pk)
    engagements = selectors.engagements_on_dashboard(request.membership, engagement.pk)
    panels = _panels(request, engagements, engagement.currency)
    context = {
        **panels,
        "engagement": engagement,
        "tiles": selectors.sla_tiles(engagements, timezone.localdate(), panels["shown"], panels["escalations"]),
        "contract_dates": selectors.contract_dates(engagements, timezone.localdate()),
        "survey_rates": survey_selectors.engagement_response_rates(engagement, timezone.now()),
    }
    return render(request, "reporting/dashboard_engagement.html", context)
