"""Reads for the organization dashboard: the SLA status of each engagement the member may see."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from engagements.selectors import engagements_for
from mls.models import Membership
from slas.enums import MeasurementStatus, PeriodStatus
from slas.models import Escalation, Measurement, SlaPeriod

RECENT_ESCALATIONS = 6


@dataclass(frozen=True)
class SlaStatus:
    """The latest measured month of one engagement: how many targets meet, fail or cannot be judged yet."""

    engagement_id: int
    engagement_name: str
    month: date
    finalized: bool
    meeting: int
    failing: int
    unjudged: int

    @property
    def rag(self) -> tuple[str, str]:
        """Colour (a badge modifier, blank for grey) and the words that say the same without colour."""
        if self.failing:
            return ("red", "Breached") if self.finalized else ("amber", "At risk")
        return ("green", "On target") if self.meeting else ("", "Not judged yet")


def sla_status(membership: Membership) -> list[SlaStatus]:
    """One row per visible engagement with SLA results, from its latest period (two queries in all)."""
    engagements = engagements_for(membership)
    latest = SlaPeriod.objects.filter(engagement=OuterRef("engagement")).order_by("-month").values("pk")[:1]
    meeting = Q(status=MeasurementStatus.MET) | Q(status=MeasurementStatus.PROVISIONAL, meets_target=True)
    failing = Q(status=MeasurementStatus.BREACHED) | Q(status=MeasurementStatus.PROVISIONAL, meets_target=False)
    rows = (
        Measurement.objects.filter(engagement__in=engagements, period=Subquery(latest))
        .values("engagement", "engagement__name", "period__month", "period__status")
        .annotate(meeting=Count("pk", filter=meeting), failing=Count("pk", filter=failing), total=Count("pk"))
        .order_by("engagement__name")
    )
    return [
        SlaStatus(
            engagement_id=row["engagement"],
            engagement_name=row["engagement__name"],
            month=row["period__month"],
            finalized=row["period__status"] == PeriodStatus.FINALIZED,
            meeting=row["meeting"],
            failing=row["failing"],
            unjudged=row["total"] - row["meeting"] - row["failing"],
        )
        for row in rows
    ]


def recent_escalations(membership: Membership) -> QuerySet[Escalation]:
    """The latest escalations of visible engagements; an exit right is what the client most needs to see."""
    return (
        Escalation.objects.filter(engagement__in=engagements_for(membership))
        .select_related("engagement", "period")
        .order_by("-period__month", "-created_at")[:RECENT_ESCALATIONS]
    )
