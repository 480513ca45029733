"""Reads for the L&D director's dashboard, across the engagements a member sees or for one of them.

Every function takes the engagements to report on (`engagements.selectors.engagements_for`, narrowed to one
engagement on its own dashboard) and answers in a fixed number of queries, whatever the number of engagements,
periods or delivery items: the figures are aggregated in SQL (annotations and correlated subqueries), and Python
only reshapes the few rows that come back. The reads live by subject in the modules beside this one (`sla`,
`overview`, `delivery`); callers import them from here.
"""

from django.db.models import QuerySet

from engagements.models import Engagement
from engagements.selectors import engagements_for
from mls.models import Membership
from reporting.quarters import Quarter, ShownMonth

from .delivery import (
    CONTRACT_DATES,
    UPCOMING_SESSIONS,
    ComplianceStatus,
    ContractDate,
    compliance_status,
    contract_dates,
    member_side,
    pending_change_requests,
    pending_manual_values,
    pending_relief,
    scheduled_sessions,
    upcoming_sessions,
)
from .overview import EngagementOverview, Totals, engagement_overview, spend_chart, totals
from .sla import SlaStatus, SlaTile, escalations_at, open_escalations, sla_status, sla_tiles

__all__ = [
    "CONTRACT_DATES",
    "UPCOMING_SESSIONS",
    "ComplianceStatus",
    "ContractDate",
    "EngagementOverview",
    "Quarter",
    "ShownMonth",
    "SlaStatus",
    "SlaTile",
    "Totals",
    "compliance_status",
    "contract_dates",
    "engagement_overview",
    "engagements_on_dashboard",
    "escalations_at",
    "member_side",
    "open_escalations",
    "pending_change_requests",
    "pending_manual_values",
    "pending_relief",
    "scheduled_sessions",
    "sla_status",
    "sla_tiles",
    "spend_chart",
    "totals",
    "upcoming_sessions",
]


def engagements_on_dashboard(membership: Membership, engagement_id: int | None = None) -> QuerySet[Engagement]:
    """What the member may see (a provider manager: its provider's engagements), or that one engagement."""
    engagements = engagements_for(membership)
    return engagements if engagement_id is None else engagements.filter(pk=engagement_id)
