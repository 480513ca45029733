"""Reads behind the CSV exports of delivery and SLA data: what each export holds, the rows a member may see (a
provider manager: its provider's engagements only), filtered by engagement and by dates of the organization's
timezone. Each export is one query, streamed by reporting.exports."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Q, QuerySet

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
    columns: tuple[tuple[str, str], ...]  # (header, lookup)
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
        "Sessions",
        "Every scheduled delivery: course, place, status, and when it was requested, confirmed, held or cancelled.",
        sessions_for,
        (
            ("id", "id"),
            ("external_id", "external_id"),
            ("engagement", "engagement__name"),
            ("course_code", "course__code"),
            ("course_title", "course__title"),
            ("modality", "modality"),
            ("status", "status"),
            ("capacity", "capacity"),
            ("venue", "room__venue__name"),
            ("room", "room__name"),
            ("join_url", "join_url"),
            ("requested_at", "requested_at"),
            ("confirmed_at", "confirmed_at"),
            ("starts_at", "starts_at"),
            ("ends_at", "ends_at"),
            ("cancelled_at", "cancelled_at"),
            ("cancelled_by", "cancelled_by"),
            ("cancellation_reason", "cancellation_reason"),
            ("replaces_session_id", "replaces_id"),
        ),
        dated_by="starts_at",
    ),
    "enrollments": CsvExport(
        "Enrollments",
        "Each learner's place on a session or its waitlist, with when it was requested and processed.",
        enrollments_for,
        (
            ("id", "id"),
            ("external_id", "external_id"),
            ("engagement", "session__engagement__name"),
            ("session_id", "session_id"),
            ("course_code", "session__course__code"),
            ("session_starts_at", "session__starts_at"),
            ("learner_external_id", "learner__external_id"),
            ("learner_name", "learner__name"),
            ("learner_email", "learner__email"),
            ("status", "status"),
            ("requested_at", "requested_at"),
            ("processed_at", "processed_at"),
            ("cancelled_at", "cancelled_at"),
        ),
        dated_by="requested_at",
        of_engagements=_of_sessions_of,
    ),
    "completions": CsvExport(
        "Completions",
        "Who completed which course when, and when it was recorded (self-paced completions included).",
        completions_for,
        (
            ("id", "id"),
            ("external_id", "external_id"),
            ("learner_external_id", "learner__external_id"),
            ("learner_name", "learner__name"),
            ("learner_email", "learner__email"),
            ("course_code", "course__code"),
            ("course_title", "course__title"),
            ("engagement", "session__engagement__name"),
            ("session_id", "session_id"),
            ("completed_at", "completed_at"),
            ("recorded_at", "recorded_at"),
            ("source", "source"),
        ),
        dated_by="completed_at",
        of_engagements=delivered_under,
    ),
    "tickets": CsvExport(
        "Support tickets",
        "Tickets with their category, status and assignee, and when they were opened, first answered and resolved.",
        tickets_for,
        (
            ("id", "id"),
            ("external_id", "external_id"),
            ("engagement", "engagement__name"),
            ("category", "category"),
            ("subject", "subject"),
            ("learner_name", "learner__name"),
            ("learner_email", "learner__email"),
            ("opened_at", "opened_at"),
            ("first_response_at", "first_response_at"),
            ("resolved_at", "resolved_at"),
            ("status", "status"),
            ("assignee_email", "assignee__user__email"),
        ),
        dated_by="opened_at",
    ),
    "measurements": CsvExport(
        "SLA measurements",
        "Each metric's value per month against its target, with the counts it was computed from.",
        measurements_for,
        (
            ("id", "id"),
            ("engagement", "engagement__name"),
            ("month", "period__month"),
            ("metric", "metric"),
            ("status", "status"),
            ("target", "target_value"),
            ("value", "value"),
            ("meets_target", "meets_target"),
            ("numerator", "numerator"),
            ("denominator", "denominator"),
            ("pending_items", "pending"),
            ("as_of", "as_of"),
            ("finalized", "finalized"),
            ("computed_at", "computed_at"),
        ),
        dated_by="period__month",
        monthly=True,
    ),
    "credits": CsvExport(
        "Service credits",
        "Credits for breached targets: amount, allocation, cap, and whether they were earned back.",
        credits_for,
        (
            ("id", "id"),
            ("engagement", "engagement__name"),
            ("month", "period__month"),
            ("metric", "metric"),
            ("allocation_percent", "allocation_percent"),
            ("amount", "amount"),
            ("currency", "currency"),
            ("capped", "capped"),
            ("status", "status"),
            ("issued_at", "issued_at"),
            ("earned_back_month", "earned_back_period__month"),
            ("earned_back_at", "earned_back_at"),
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
