"""Reads behind the CSV exports of delivery and SLA data: what each export holds, the rows a member may see (a
provider manager: its provider's engagements only), filtered by engagement and by dates of the organization's
timezone. Each export is one query, streamed by reporting.exports."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from engagements.models import Engagement
from mls.models import Membership
from scheduling.selectors import completions_for, delivered_under, enrollments_for, sessions_for, tickets_for
from slas.selectors import credits_for, measurements_for


def _of_engagements(engagements: Iterable[Engagement]) -> Q:
    return Q(engagement__in=engagements)


def _of_sessions_of(engagements: Iterable[Engagement]) -> Q:
    return Q(session__engagement__in=engagements)


@dataclass(frozen=True)
class CsvExport:
    title: str
    description: str
    rows: Callable[[Membership], QuerySet]  # what the member may see
    # (header, lookup): headers for people, as the cells are (choices by their labels, see reporting.exports).
    # Not the import's column keys: these files are read, not imported back (the import templates carry the keys).
    columns: tuple[tuple[str, str], ...]
    dated_by: str  # the datetime (or month) the date range applies to
    of_engagements: Callable[[Iterable[Engagement]], Q] = _of_engagements
    monthly: bool = False  # `dated_by` is the first day of a month: a month is in range if it overlaps it

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(header for header, _ in self.columns)

    @property
    def lookups(self) -> tuple[str, ...]:
        return tuple(lookup for _, lookup in self.columns)


CSV_EXPORTS: dict[str, CsvExport] = {
    "sessions": CsvExport(
        _("Sessions"),
        _("Every scheduled delivery: course, place, status, and when it was requested, confirmed, held or cancelled."),
        sessions_for,
        (
            ("ID", "id"),
            ("External ID", "external_id"),
            ("Engagement", "engagement__name"),
            ("Course code", "course__code"),
            ("Course title", "course__title"),
            ("Modality", "modality"),
            ("Status", "status"),
            ("Capacity", "capacity"),
            ("Venue", "room__venue__name"),
            ("Room", "room__name"),
            ("Join URL", "join_url"),
            ("Requested at", "requested_at"),
            ("Confirmed at", "confirmed_at"),
            ("Starts at", "starts_at"),
            ("Ends at", "ends_at"),
            ("Cancelled at", "cancelled_at"),
            ("Cancelled by", "cancelled_by"),
            ("Cancellation reason", "cancellation_reason"),
            ("Replaces session ID", "replaces_id"),
        ),
        dated_by="starts_at",
    ),
    "enrollments": CsvExport(
        _("Enrollments"),
        _("Each learner's place on a session or its waitlist, with when it was requested and processed."),
        enrollments_for,
        (
            ("ID", "id"),
            ("External ID", "external_id"),
            ("Engagement", "session__engagement__name"),
            ("Session ID", "session_id"),
            ("Course code", "session__course__code"),
            ("Session starts at", "session__starts_at"),
            ("Learner HR ID", "learner__external_id"),
            ("Learner", "learner__name"),
            ("Learner email", "learner__email"),
            ("Status", "status"),
            ("Requested at", "requested_at"),
            ("Processed at", "processed_at"),
            ("Cancelled at", "cancelled_at"),
        ),
        dated_by="requested_at",
        of_engagements=_of_sessions_of,
    ),
    "completions": CsvExport(
        _("Completions"),
        _("Who completed which course when, and when it was recorded (self-paced completions included)."),
        completions_for,
        (
            ("ID", "id"),
            ("External ID", "external_id"),
            ("Learner HR ID", "learner__external_id"),
            ("Learner", "learner__name"),
            ("Learner email", "learner__email"),
            ("Course code", "course__code"),
            ("Course title", "course__title"),
            ("Engagement", "session__engagement__name"),
            ("Session ID", "session_id"),
            ("Completed at", "completed_at"),
            ("Recorded at", "recorded_at"),
            ("Source", "source"),
        ),
        dated_by="completed_at",
        of_engagements=delivered_under,
    ),
    "tickets": CsvExport(
        _("Support tickets"),
        _("Tickets with their category, status and assignee, and when they were opened, first answered and resolved."),
        tickets_for,
        (
            ("ID", "id"),
            ("External ID", "external_id"),
            ("Engagement", "engagement__name"),
            ("Category", "category"),
            ("Subject", "subject"),
            ("Learner", "learner__name"),
            ("Learner email", "learner__email"),
            ("Opened at", "opened_at"),
            ("First response at", "first_response_at"),
            ("Resolved at", "resolved_at"),
            ("Status", "status"),
            ("Assignee email", "assignee__user__email"),
        ),
        dated_by="opened_at",
    ),
    "measurements": CsvExport(
        _("SLA measurements"),
        _("Each metric's value per month against its target, with the counts it was computed from."),
        measurements_for,
        (
            ("ID", "id"),
            ("Engagement", "engagement__name"),
            ("Month", "period__month"),
            ("Metric", "metric"),
            ("Status", "status"),
            ("Target", "target_value"),
            ("Value", "value"),
            ("Meets target", "meets_target"),
            ("Numerator", "numerator"),
            ("Denominator", "denominator"),
            ("Pending items", "pending"),
            ("As of", "as_of"),
            ("Finalized", "finalized"),
            ("Computed at", "computed_at"),
        ),
        dated_by="period__month",
        monthly=True,
    ),
    "credits": CsvExport(
        _("Service credits"),
        _("Credits for breached targets: amount, allocation, cap, and whether they were earned back."),
        credits_for,
        (
            ("ID", "id"),
            ("Engagement", "engagement__name"),
            ("Month", "period__month"),
            ("Metric", "metric"),
            ("Allocation (%)", "allocation_percent"),
            ("Amount", "amount"),
            ("Currency", "currency"),
            ("Capped", "capped"),
            ("Status", "status"),
            ("Issued at", "issued_at"),
            ("Earned back in month", "earned_back_period__month"),
            ("Earned back at", "earned_back_at"),
        ),
        dated_by="period__month",
        monthly=True,
    ),
}


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def export_rows(
    export: CsvExport,
    membership: Membership,
    *,
    zone: tzinfo,
    engagement: Engagement | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> QuerySet:
    """The export's rows (read them with queryset_rows and its lookups): those the member sees, of `engagement` if
    given, dated from `starts_on` to `ends_on` inclusive (local days of `zone`)."""
    rows = export.rows(membership)
    if engagement is not None:
        rows = rows.filter(export.of_engagements([engagement]))
    if starts_on:
        since = starts_on.replace(day=1) if export.monthly else _local_midnight(starts_on, zone)
        rows = rows.filter(**{f"{export.dated_by}__gte": since})
    if ends_on:
        if export.monthly:
            rows = rows.filter(**{f"{export.dated_by}__lte": ends_on})
        else:
            rows = rows.filter(**{f"{export.dated_by}__lt": _local_midnight(ends_on + timedelta(days=1), zone)})
    return rows.order_by(export.dated_by, "pk")
