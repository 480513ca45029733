"""The measurement drill-down (DESIGN.md §8: "per metric drill-down to the items that failed"): which rows a
measurement's stored inputs name, and the columns that show why each item met, failed or is still pending.

The outcome of every item is the engine's, taken from the ids in `Measurement.inputs`; this module only fetches
those rows (one paginated query per list) and shows each item's deadline derived from the target's threshold the
way the metric derives it, so a reader can check the verdict against the timestamps.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from engagements.models import ChangeRequest
from mls.business_days import END_OF_DAY, BusinessCalendar
from scheduling.models import (
    AssessmentAttempt,
    Attendance,
    Completion,
    ComplianceAssignment,
    Course,
    Enrollment,
    Feedback,
    Outage,
    Session,
    SupportTicket,
)

from .catalog import METRICS, Kind
from .models import Measurement
from .periods import Period

ITEMS_PER_PAGE = 50


@dataclass(frozen=True)
class Cell:
    """One value of an item row; `kind` tells the template how to show it (times in the engagement's zone)."""

    value: object
    kind: str = "text"  # text, datetime, date, bool, link
    url_name: str = ""  # link: an organization route that takes the row's pk
    pk: int | None = None


@dataclass(frozen=True)
class ItemContext:
    """What a deadline needs: the target's H/D/N/R parameter, the engagement's business calendar, the period."""

    threshold: int | None
    calendar: BusinessCalendar
    period: Period


@dataclass(frozen=True)
class Column:
    label: str
    cell: Callable[[Any, ItemContext], Cell]


@dataclass(frozen=True)
class ItemList:
    rows: Callable[[], QuerySet]
    order: tuple[str, ...]
    columns: tuple[Column, ...]


def _value(label: str, path: str, kind: str = "text") -> Column:
    """A column of `path` (dotted; a method such as `get_status_display` is called)."""
    get = attrgetter(path)

    def cell(obj: object, context: ItemContext) -> Cell:
        value = get(obj)
        return Cell(value() if callable(value) else value, kind)

    return Column(label, cell)


def _time(label: str, path: str) -> Column:
    return _value(label, path, "datetime")


def _link(label: str, url_name: str, text: Callable[[Any], object], pk: str = "pk") -> Column:
    get_pk = attrgetter(pk)
    return Column(label, lambda obj, ctx: Cell(text(obj), "link", url_name, get_pk(obj)))


def _deadline(deadline: Callable[[Any, ItemContext], datetime | date | None], kind: str = "datetime") -> Column:
    return Column("Deadline", lambda obj, ctx: Cell(deadline(obj, ctx), kind))


def _hours_after(anchor: str) -> Callable[[Any, ItemContext], datetime]:
    get = attrgetter(anchor)
    return lambda obj, ctx: get(obj) + timedelta(hours=ctx.threshold)


def _days_after(anchor: str) -> Callable[[Any, ItemContext], datetime]:
    get = attrgetter(anchor)
    return lambda obj, ctx: get(obj) + timedelta(days=ctx.threshold)


def _business_days_after(anchor: str) -> Callable[[Any, ItemContext], datetime | None]:
    get = attrgetter(anchor)
    return lambda obj, ctx: ctx.calendar.deadline_after(get(obj), ctx.threshold) if get(obj) else None


def _end_of_due_day(obj: ComplianceAssignment, ctx: ItemContext) -> datetime:
    return datetime.combine(obj.due_on, END_OF_DAY, tzinfo=ctx.period.zone)


def _reviewed_since(obj: Course, ctx: ItemContext) -> date:
    """The course's own review interval, never longer than the target's R (slas.metrics.content_freshness)."""
    return ctx.period.next_month - timedelta(days=min(ctx.threshold, obj.review_interval_days))


def _session_text(session: Session) -> str:
    return f"{session.course.code} {session.course.title}"


def _sessions() -> QuerySet:
    return Session.objects.select_related("course")


def _sessions_with_replacement() -> QuerySet:
    """Sessions with the start of their first replacement (what scheduling lead time and rescheduling count)."""
    first = Session.objects.filter(replaces=OuterRef("pk")).order_by("starts_at").values("starts_at")[:1]
    return _sessions().annotate(replacement_starts_at=Subquery(first))


def _sessions_with_attendance() -> QuerySet:
    present = (
        Attendance.objects.filter(enrollment__session=OuterRef("pk"), present=True)
        .values("enrollment__session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return _sessions().annotate(attended=Coalesce(Subquery(present, output_field=IntegerField()), 0))


SESSION = _link("Session", "scheduling:session", _session_text)
TICKET = _link("Ticket", "scheduling:ticket", attrgetter("subject"))
LEARNER = _link("Learner", "scheduling:learner", attrgetter("learner.name"), pk="learner_id")

SESSION_LIST = ItemList(
    _sessions,
    ("starts_at", "pk"),
    (
        SESSION,
        _time("Starts", "starts_at"),
        _time("Ends", "ends_at"),
        _value("Status", "get_status_display"),
        _value("Cancelled by", "get_cancelled_by_display"),
    ),
)
TICKETS_BY_FIRST_RESPONSE = ItemList(
    SupportTicket.objects.all,
    ("opened_at", "pk"),
    (
        TICKET,
        _value("Category", "get_category_display"),
        _time("Opened", "opened_at"),
        _time("First response", "first_response_at"),
        _deadline(_hours_after("opened_at")),
    ),
)
FEEDBACK_LIST = ItemList(
    lambda: Feedback.objects.select_related("session__course", "learner"),
    ("session__starts_at", "pk"),
    (
        _link("Session", "scheduling:session", lambda f: _session_text(f.session), pk="session_id"),
        _time("Session starts", "session.starts_at"),
        _value("Instructor score", "instructor_score"),
        _value("Overall score", "overall_score"),
        _time("Submitted", "submitted_at"),
    ),
)
OUTAGE_LIST = ItemList(
    Outage.objects.all,
    ("starts_at", "pk"),
    (
        _value("Outage", "description"),
        _time("Starts", "starts_at"),
        _time("Ends", "ends_at"),
        Column("Minutes", lambda obj, ctx: Cell(int((obj.ends_at - obj.starts_at).total_seconds() // 60))),
        _value("Planned", "planned", "bool"),
    ),
)

ITEM_LISTS: dict[str, ItemList] = {
    "session_confirmation_turnaround": ItemList(
        _sessions,
        ("requested_at", "pk"),
        (
            SESSION,
            _time("Requested", "requested_at"),
            _time("Confirmed", "confirmed_at"),
            _deadline(_hours_after("requested_at")),
        ),
    ),
    "scheduling_lead_time": ItemList(
        _sessions_with_replacement,
        ("requested_at", "pk"),
        (
            SESSION,
            _time("Requested", "requested_at"),
            _time("Starts", "starts_at"),
            _value("Status", "get_status_display"),
            _time("Replacement starts", "replacement_starts_at"),
            _deadline(_days_after("requested_at")),
        ),
    ),
    "reschedule_within_window": ItemList(
        _sessions_with_replacement,
        ("cancelled_at", "pk"),
        (
            SESSION,
            _time("Cancelled", "cancelled_at"),
            _time("Replacement starts", "replacement_starts_at"),
            _deadline(_business_days_after("cancelled_at")),
        ),
    ),
    "session_delivery_rate": SESSION_LIST,
    "support_first_response": TICKETS_BY_FIRST_RESPONSE,
    "audit_report_turnaround": ItemList(
        SupportTicket.objects.all,
        ("opened_at", "pk"),
        (
            TICKET,
            _time("Opened", "opened_at"),
            _time("Resolved", "resolved_at"),
            _deadline(_hours_after("opened_at")),
        ),
    ),
    "enrollment_processing": ItemList(
        lambda: Enrollment.objects.select_related("learner", "session__course"),
        ("requested_at", "pk"),
        (
            LEARNER,
            _link("Session", "scheduling:session", lambda e: _session_text(e.session), pk="session_id"),
            _time("Requested", "requested_at"),
            _time("Processed", "processed_at"),
            _deadline(_business_days_after("requested_at")),
        ),
    ),
    "completion_reporting_timeliness": ItemList(
        lambda: Completion.objects.select_related("learner", "course"),
        ("completed_at", "pk"),
        (
            LEARNER,
            _value("Course", "course.title"),
            _time("Completed", "completed_at"),
            _time("Recorded", "recorded_at"),
            _deadline(_business_days_after("completed_at")),
        ),
    ),
    "mandatory_training_on_time": ItemList(
        lambda: ComplianceAssignment.objects.select_related("learner", "requirement"),
        ("due_on", "pk"),
        (
            LEARNER,
            _value("Requirement", "requirement.name"),
            _value("Due on", "due_on", "date"),
            _time("Completed", "completed_at"),
            _deadline(_end_of_due_day),
        ),
    ),
    "assessment_pass_rate": ItemList(
        lambda: AssessmentAttempt.objects.select_related("learner", "course"),
        ("attempted_at", "pk"),
        (
            LEARNER,
            _value("Course", "course.title"),
            _time("Attempted", "attempted_at"),
            _value("Score", "score"),
            _value("Pass mark", "pass_mark"),
            _value("Passed", "passed", "bool"),
        ),
    ),
    "content_freshness": ItemList(
        Course.objects.all,
        ("code", "pk"),
        (
            _value("Course", "code"),
            _value("Title", "title"),
            _value("Last reviewed", "last_reviewed_on", "date"),
            _value("Review every (days)", "review_interval_days"),
            Column("Reviewed on or after", lambda obj, ctx: Cell(_reviewed_since(obj, ctx), "date")),
        ),
    ),
    "change_request_response": ItemList(
        lambda: ChangeRequest.objects.select_related("sow"),
        ("submitted_at", "pk"),
        (
            _link("Change request", "engagements:change_request", lambda cr: f"{cr.sow.reference} CR-{cr.number}"),
            _value("Title", "title"),
            _time("Submitted", "submitted_at"),
            _time("Responded", "responded_at"),
            _deadline(_business_days_after("submitted_at")),
        ),
    ),
    "instructor_rating": FEEDBACK_LIST,
    "learner_satisfaction": FEEDBACK_LIST,
    "training_utilization": ItemList(
        _sessions_with_attendance,
        ("starts_at", "pk"),
        (SESSION, _time("Starts", "starts_at"), _value("Capacity", "capacity"), _value("Attended", "attended")),
    ),
    "platform_uptime": OUTAGE_LIST,
}

# Which lists of `Measurement.inputs` a metric has, in the order the page offers them.
PERCENT_GROUPS = (("failed", "Failed"), ("pending", "Pending"), ("met", "Met"))
GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "instructor_rating": (("scored", "Scored feedback"),),
    "learner_satisfaction": (("scored", "Scored feedback"),),
    "training_utilization": (("sessions", "Delivered sessions"),),
    "platform_uptime": (("unplanned_outages", "Unplanned outages"), ("planned_outages", "Planned maintenance")),
    "completion_reporting_accuracy": (),  # a manual value: its evidence is the item
}


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Items:
    """One page of one item list, ready for a table."""

    group: Group | None
    groups: list[Group]
    headers: list[str]
    rows: list[list[Cell]]
    page: Page | None


def groups_of(measurement: Measurement) -> list[Group]:
    inputs = measurement.inputs or {}
    return [
        Group(key, label, len(inputs.get(key) or [])) for key, label in GROUPS.get(measurement.metric, PERCENT_GROUPS)
    ]


def item_page(measurement: Measurement, group_key: str | None, page_number: object) -> Items:
    """The items of one group (default: the first that has any, failed before pending before met), one page."""
    groups = groups_of(measurement)
    group = next((g for g in groups if g.key == group_key), None) or next((g for g in groups if g.count), None)
    group = group or (groups[0] if groups else None)
    item_list = ITEM_LISTS.get(measurement.metric)
    if group is None or item_list is None:
        return Items(group, groups, [], [], None)
    engagement = measurement.engagement
    context = ItemContext(
        threshold=measurement.target.threshold,
        calendar=engagement.calendar,
        period=Period(measurement.period.month, engagement.timezone),
    )
    # Paginate the snapshot's ids (in id order, which follows creation) and fetch one page of rows: a group can
    # hold a million ids, far too many for one `IN (…)`.
    page = Paginator(measurement.inputs.get(group.key) or [], ITEMS_PER_PAGE).get_page(page_number)
    rows = item_list.rows().filter(pk__in=list(page.object_list)).order_by(*item_list.order)
    return Items(
        group=group,
        groups=groups,
        headers=[column.label for column in item_list.columns],
        rows=[[column.cell(obj, context) for column in item_list.columns] for obj in rows],
        page=page,
    )


def _plain(number: object) -> str:
    return f"{number.normalize():f}" if number is not None else "—"


def formula_of(measurement: Measurement) -> str:
    """How the value follows from the numerator and denominator (SPEC-SLA §2), in the metric's own words."""
    n, d, value = _plain(measurement.numerator), _plain(measurement.denominator), measurement.value
    kind = METRICS[measurement.metric].kind
    if kind == Kind.MANUAL:
        return f"{_plain(value)} % from an audited sample with evidence; it counts once the other side verifies it."
    if value is None:
        return "No value yet: no item of the period could be measured."
    if kind == Kind.MEAN:
        return f"{value} = {n} points ÷ {d} scores."
    if measurement.metric == "platform_uptime":
        down = (measurement.inputs or {}).get("down_minutes", "?")
        return f"{value} % = 100 × {n} minutes up ÷ {d} minutes measured ({down} minutes down)."
    if measurement.metric == "training_utilization":
        return f"{value} % = 100 × {n} attended seats ÷ {d} seats."
    return f"{value} % = 100 × {n} met ÷ {d} measured (met + failed)."
