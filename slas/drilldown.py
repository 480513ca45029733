"""The measurement drill-down (DESIGN.md §8: "per metric drill-down to the items that failed"): the items a
measurement counted, by outcome, with the columns that show why each item met, failed or is still pending.

The items and their outcome come from the metric's own definition (`slas.metrics.DEFINITIONS`): an open period's
are read live from the same querysets the measurement counts, as of the measurement's `as_of`; a finalized
period's are the ids of its snapshot. The deadline shown is the rule's own expression, selected with the items,
so the page and the verdict cannot disagree. This module only chooses the columns.
"""

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from scheduling.models import Attendance

from .catalog import METRICS, Kind
from .metrics import DEFINITIONS, MetricContext, ids_by_outcome, items_of
from .models import Measurement
from .periods import Period
from .selectors import approved_relief

ITEMS_PER_PAGE = 50
SHOWN = "rule_"  # prefix of the rule's expressions selected for display (`MetricDefinition.shown`)


@dataclass(frozen=True)
class Cell:
    """One value of an item row; `kind` tells the template how to show it (times in the engagement's zone)."""

    value: object
    kind: str = "text"  # text, datetime, date, bool, link
    url_name: str = ""  # link: an organization route that takes the row's pk
    pk: int | None = None


@dataclass(frozen=True)
class Column:
    label: str
    cell: Callable[[Any], Cell]


@dataclass(frozen=True)
class ItemList:
    columns: tuple[Column, ...]
    order: tuple[str, ...]
    related: tuple[str, ...] = ()  # what the columns read of related rows
    display: Callable[[QuerySet], QuerySet] = lambda rows: rows  # figures shown that are no part of the rule


def _value(label: str, path: str, kind: str = "text") -> Column:
    """A column of `path` (dotted; a method such as `get_status_display` is called)."""
    get = attrgetter(path)

    def cell(obj: object) -> Cell:
        value = get(obj)
        return Cell(value() if callable(value) else value, kind)

    return Column(label, cell)


def _time(label: str, path: str) -> Column:
    return _value(label, path, "datetime")


def _link(label: str, url_name: str, text: Callable[[Any], object], pk: str = "pk") -> Column:
    get_pk = attrgetter(pk)
    return Column(label, lambda obj: Cell(text(obj), "link", url_name, get_pk(obj)))


DEADLINE = _time(_("Deadline"), f"{SHOWN}deadline")


def _session_text(session: Any) -> str:
    return f"{session.course.code} {session.course.title}"


def _with_attendance(sessions: QuerySet) -> QuerySet:
    present = (
        Attendance.objects.filter(enrollment__session=OuterRef("pk"), present=True)
        .values("enrollment__session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return sessions.annotate(attended=Coalesce(Subquery(present, output_field=IntegerField()), 0))


SESSION = _link(_("Session"), "scheduling:session", _session_text)
TICKET = _link(_("Ticket"), "scheduling:ticket", attrgetter("subject"))
LEARNER = _link(_("Learner"), "scheduling:learner", attrgetter("learner.name"), pk="learner_id")
COURSE = ("course",)

SESSION_LIST = ItemList(
    (
        SESSION,
        _time(_("Starts"), "starts_at"),
        _time(_("Ends"), "ends_at"),
        _value(_("Status"), "get_status_display"),
        _value(_("Cancelled by"), "get_cancelled_by_display"),
    ),
    ("starts_at", "pk"),
    COURSE,
)
FEEDBACK_LIST = ItemList(
    (
        _link(_("Session"), "scheduling:session", lambda f: _session_text(f.session), pk="session_id"),
        _time(_("Session starts"), "session.starts_at"),
        _value(_("Instructor score"), "instructor_score"),
        _value(_("Overall score"), "overall_score"),
        _time(_("Submitted"), "submitted_at"),
    ),
    ("session__starts_at", "pk"),
    ("session__course", "learner"),
)

ITEM_LISTS: dict[str, ItemList] = {
    "session_confirmation_turnaround": ItemList(
        (SESSION, _time(_("Requested"), "requested_at"), _time(_("Confirmed"), "confirmed_at"), DEADLINE),
        ("requested_at", "pk"),
        COURSE,
    ),
    "scheduling_lead_time": ItemList(
        (
            SESSION,
            _time(_("Requested"), "requested_at"),
            _time(_("Starts"), "starts_at"),
            _value(_("Status"), "get_status_display"),
            _time(_("Start counted (own or replacement's)"), f"{SHOWN}effective_start"),
            DEADLINE,
        ),
        ("requested_at", "pk"),
        COURSE,
    ),
    "reschedule_within_window": ItemList(
        (
            SESSION,
            _time(_("Cancelled"), "cancelled_at"),
            _time(_("Replacement starts"), f"{SHOWN}replacement_start"),
            DEADLINE,
        ),
        ("cancelled_at", "pk"),
        COURSE,
    ),
    "session_delivery_rate": SESSION_LIST,
    "support_first_response": ItemList(
        (
            TICKET,
            _value(_("Category"), "get_category_display"),
            _time(_("Opened"), "opened_at"),
            _time(_("First response"), "first_response_at"),
            DEADLINE,
        ),
        ("opened_at", "pk"),
    ),
    "audit_report_turnaround": ItemList(
        (TICKET, _time(_("Opened"), "opened_at"), _time(_("Resolved"), "resolved_at"), DEADLINE),
        ("opened_at", "pk"),
    ),
    "enrollment_processing": ItemList(
        (
            LEARNER,
            _link(_("Session"), "scheduling:session", lambda e: _session_text(e.session), pk="session_id"),
            _time(_("Requested"), "requested_at"),
            _time(_("Processed"), "processed_at"),
            DEADLINE,
        ),
        ("requested_at", "pk"),
        ("learner", "session__course"),
    ),
    "completion_reporting_timeliness": ItemList(
        (
            LEARNER,
            _value(_("Course"), "course.title"),
            _time(_("Completed"), "completed_at"),
            _time(_("Recorded"), "recorded_at"),
            DEADLINE,
        ),
        ("completed_at", "pk"),
        ("learner", "course"),
    ),
    "mandatory_training_on_time": ItemList(
        (
            LEARNER,
            _value(_("Requirement"), "requirement.name"),
            _value(_("Due on"), "due_on", "date"),
            _time(_("Completed"), "completed_at"),
            DEADLINE,
        ),
        ("due_on", "pk"),
        ("learner", "requirement"),
    ),
    "assessment_pass_rate": ItemList(
        (
            LEARNER,
            _value(_("Course"), "course.title"),
            _time(_("Attempted"), "attempted_at"),
            _value(_("Score"), "score"),
            _value(_("Pass mark"), "pass_mark"),
            _value(_("Passed"), "passed", "bool"),
        ),
        ("attempted_at", "pk"),
        ("learner", "course"),
    ),
    "content_freshness": ItemList(
        (
            _value(_("Course"), "code"),
            _value(_("Title"), "title"),
            _value(_("Last reviewed"), "last_reviewed_on", "date"),
            _value(_("Review every (days)"), "review_interval_days"),
            _value(_("Reviewed on or after"), f"{SHOWN}reviewed_since", "date"),
        ),
        ("code", "pk"),
    ),
    "change_request_response": ItemList(
        (
            _link(_("Change request"), "engagements:change_request", lambda cr: f"{cr.sow.reference} CR-{cr.number}"),
            _value(_("Title"), "title"),
            _time(_("Submitted"), "submitted_at"),
            _time(_("Responded"), "responded_at"),
            DEADLINE,
        ),
        ("submitted_at", "pk"),
        ("sow",),
    ),
    "instructor_rating": FEEDBACK_LIST,
    "learner_satisfaction": FEEDBACK_LIST,
    "training_utilization": ItemList(
        (
            SESSION,
            _time(_("Starts"), "starts_at"),
            _value(_("Capacity"), "capacity"),
            _value(_("Attended"), "attended"),
        ),
        ("starts_at", "pk"),
        COURSE,
        _with_attendance,
    ),
    "platform_uptime": ItemList(
        (
            _value(_("Outage"), "description"),
            _time(_("Starts"), "starts_at"),
            _time(_("Ends"), "ends_at"),
            Column("Minutes", lambda obj: Cell(int((obj.ends_at - obj.starts_at).total_seconds() // 60))),
            _value(_("Planned"), "planned", "bool"),
        ),
        ("starts_at", "pk"),
    ),
}
assert set(ITEM_LISTS) == set(DEFINITIONS) - {"completion_reporting_accuracy"}  # noqa: S101 - a manual value has no items


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


def _items(measurement: Measurement) -> QuerySet | None:
    """The measurement's items with their outcome, by the metric's definition, as of the measurement."""
    engagement = measurement.engagement
    period = Period(measurement.period.month, engagement.timezone)
    context = MetricContext(
        engagement=engagement,
        period=period,
        as_of=measurement.as_of,
        relief=() if measurement.finalized else tuple(approved_relief(engagement, period)),
    )
    return items_of(measurement.metric, context, measurement.target.threshold)


def item_ids(measurement: Measurement) -> dict[str, list[int]]:
    """Every counted item's id by outcome, ascending: a finalized measurement's snapshot, an open one's live."""
    groups = DEFINITIONS[measurement.metric].groups
    if measurement.finalized:
        return {key: (measurement.inputs or {}).get(key) or [] for key, _ in groups}
    items = _items(measurement)
    keys = [key for key, _ in groups]
    return ids_by_outcome(items, keys) if items is not None else {}


def item_page(measurement: Measurement, group_key: str | None, page_number: object) -> Items:
    """The items of one group (default: the first that has any, failed before pending before met), one page."""
    definition = DEFINITIONS[measurement.metric]
    item_list = ITEM_LISTS.get(measurement.metric)
    if item_list is None:
        return Items(None, [], [], [], None)
    final = measurement.finalized
    items = _items(measurement)
    snapshot = measurement.inputs or {}
    if final:
        counts = {key: len(snapshot.get(key) or []) for key, _ in definition.groups}
    else:  # the rows are read live, so are their counts: the list and its page numbers agree
        counts = dict(items.order_by().values_list("outcome").annotate(n=Count("pk")))
    groups = [Group(key, label, counts.get(key, 0)) for key, label in definition.groups]
    group = next((g for g in groups if g.key == group_key), None) or next((g for g in groups if g.count), None)
    group = group or groups[0]
    rows = item_list.display(
        items.annotate(**{f"{SHOWN}{name}": F(name) for name in definition.shown}).select_related(*item_list.related)
    )
    if final:
        # Paginate the snapshot's ids (in id order, which follows creation) and fetch one page of rows: a group
        # can hold a million ids, far too many for one `IN (…)`.
        page = Paginator(snapshot.get(group.key) or [], ITEMS_PER_PAGE).get_page(page_number)
        rows = rows.filter(pk__in=list(page.object_list)).order_by(*item_list.order)
    else:
        # The group's count is known: paginate positions and fetch that slice of the live items.
        page = Paginator(range(group.count), ITEMS_PER_PAGE).get_page(page_number)
        positions = page.object_list
        rows = rows.filter(outcome=group.key).order_by("pk")[positions.start : positions.stop]
        rows = sorted(rows, key=attrgetter(*(field.replace("__", ".") for field in item_list.order)))
    return Items(
        group=group,
        groups=groups,
        headers=[column.label for column in item_list.columns],
        rows=[[column.cell(obj) for column in item_list.columns] for obj in rows],
        page=page,
    )


def _plain(number: object) -> str:
    return f"{number.normalize():f}" if number is not None else "—"


def formula_of(measurement: Measurement) -> str:
    """How the value follows from the numerator and denominator (SPEC-SLA §2), in the metric's own words."""
    n, d, value = _plain(measurement.numerator), _plain(measurement.denominator), measurement.value
    figures = {"value": value, "n": n, "d": d}
    kind = METRICS[measurement.metric].kind
    if kind == Kind.MANUAL:
        return gettext(
            "%(value)s %% from an audited sample with evidence; it counts once the other side verifies it."
        ) % {"value": _plain(value)}
    if value is None:
        return gettext("No value yet: no item of the period could be measured.")
    if kind == Kind.MEAN:
        return gettext("%(value)s = %(n)s points ÷ %(d)s scores.") % figures
    if measurement.metric == "platform_uptime":
        down = (measurement.inputs or {}).get("down_minutes", "?")
        message = gettext("%(value)s %% = 100 × %(n)s minutes up ÷ %(d)s minutes measured (%(down)s minutes down).")
        return message % {**figures, "down": down}
    if measurement.metric == "training_utilization":
        return gettext("%(value)s %% = 100 × %(n)s attended seats ÷ %(d)s seats.") % figures
    return gettext("%(value)s %% = 100 × %(n)s met ÷ %(d)s measured (met + failed).") % figures
