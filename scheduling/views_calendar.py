"""The sessions month calendar: a Monday-first grid of the month's weeks with each day's sessions, in the
organization's timezone (the one the session list shows), filtered by engagement like the list."""

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dates, timezone
from django.views.decorators.http import require_GET

from engagements.selectors import engagements_for

from . import selectors
from .forms import SessionCalendarForm
from .models import Session

# Monday first, named in the active language (Django's own translated day names).
WEEKDAYS = [(dates.WEEKDAYS[n], dates.WEEKDAYS_ABBR[n]) for n in range(7)]


@dataclass(frozen=True)
class CalendarDay:
    day: date
    in_month: bool
    is_today: bool
    sessions: list[Session]


def _query(**params: object) -> str:
    """A link's query string, without the empty parameters (no engagement chosen: all of them)."""
    return "?" + urlencode({key: value for key, value in params.items() if value})


def _days(weeks: list[list[date]], month: date, today: date, sessions: list[Session]) -> list[list[CalendarDay]]:
    by_day: dict[date, list[Session]] = defaultdict(list)
    for session in sessions:
        by_day[timezone.localdate(session.starts_at)].append(session)
    return [[CalendarDay(day, day.month == month.month, day == today, by_day[day]) for day in week] for week in weeks]


@require_GET
def session_calendar(request: HttpRequest, organization_slug: str) -> HttpResponse:
    engagements = engagements_for(request.membership).order_by("name")
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("month", f"{today:%Y-%m}")  # the month picker shows the month on screen
    filters = SessionCalendarForm(data, engagements=engagements)
    filters.is_valid()  # a bad field shows its error in the form; the valid ones still apply
    criteria = filters.cleaned_data
    month = criteria.get("month") or today.replace(day=1)
    weeks = calendar.Calendar().monthdatescalendar(month.year, month.month)
    # The grid's days outside the month show their sessions too, so a week reads whole.
    zone = timezone.get_current_timezone()
    start = datetime.combine(weeks[0][0], time.min, tzinfo=zone)
    end = datetime.combine(weeks[-1][-1] + timedelta(days=1), time.min, tzinfo=zone)
    engagement_id = criteria["engagement"].pk if criteria.get("engagement") else None
    previous, following = (month - timedelta(days=1)).replace(day=1), (month + timedelta(days=32)).replace(day=1)
    sessions = list(selectors.sessions_starting_between(request.membership, start, end, engagement_id=engagement_id))
    context = {
        "filters": filters,
        "month": month,
        "weeks": _days(weeks, month, today, sessions),
        "weekdays": WEEKDAYS,
        "session_count": sum(1 for s in sessions if timezone.localdate(s.starts_at).month == month.month),
        "previous_month": previous,
        "next_month": following,
        "previous_query": _query(engagement=engagement_id, month=f"{previous:%Y-%m}"),
        "next_query": _query(engagement=engagement_id, month=f"{following:%Y-%m}"),
        "today_query": _query(engagement=engagement_id),
        "showing_today": month == today.replace(day=1),
        # The same month in the list: its date filter runs from the 1st to the month's last day.
        "list_query": _query(engagement=engagement_id, starts_from=month, starts_until=following - timedelta(days=1)),
    }
    return render(request, "scheduling/session_calendar.html", context)
