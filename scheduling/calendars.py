"""iCalendar (RFC 5545) exports of sessions, so learners and coordinators see training in their own calendar apps.

Times are written as local wall-clock times with a TZID (the venue's zone, or the engagement's for virtual
sessions) rather than UTC, so a session stays at "09:00 Berlin time" in every client, and each calendar carries
a VTIMEZONE per zone used so clients without that zone in their database still place it correctly across DST.

The VTIMEZONEs are built here from zoneinfo's UTC transition instants instead of `icalendar.Timezone.from_tzid`:
in icalendar 7.3 that writes a spring-forward onset as the first wall-clock time after the change
(DTSTART:…T030000 for Europe/Berlin), but RFC 5545 §3.6.5 reads DTSTART in TZOFFSETFROM, so a client using the
embedded VTIMEZONE (icalendar's own parser included) would start summer time an hour late.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import icalendar
from django.utils.translation import gettext as _

from .enums import SessionStatus
from .models import Learner, Session

PRODID = "-//MLS//Managed Learning Services//EN"

# The VTIMEZONE covers the events' span plus this margin, so clients can expand them without guessing.
_SPAN_MARGIN_YEARS = 1
# Offset changes are searched for in steps this short (no zone changes twice within it), then to the second.
_SCAN_STEP = timedelta(hours=6)

_STATUS = {
    SessionStatus.REQUESTED: "TENTATIVE",
    SessionStatus.CONFIRMED: "CONFIRMED",
    SessionStatus.DELIVERED: "CONFIRMED",
    SessionStatus.CANCELLED: "CANCELLED",
}


def session_event(session: Session, *, tz_name: str) -> icalendar.Event:
    """One VEVENT for a session with its times in `tz_name`; the UID is stable so updates replace the entry."""
    zone = ZoneInfo(tz_name)
    cancelled = session.status == SessionStatus.CANCELLED
    event = icalendar.Event()
    event.add("uid", session_uid(session.organization_id, session.pk))
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", session.starts_at.astimezone(zone))
    event.add("dtend", session.ends_at.astimezone(zone))
    event.add("summary", session.course.title)
    # Clients only apply an update whose SEQUENCE is higher; cancellation is the one change a feed revises.
    event.add("sequence", 1 if cancelled else 0)
    event.add("status", _STATUS.get(session.status, "CONFIRMED"))
    location = _location(session)
    if location:
        event.add("location", location)
    if session.join_url:
        event.add("url", session.join_url)
    event.add("description", _description(session))
    return event


def session_uid(organization_id: int, session_id: int) -> str:
    return f"session-{organization_id}-{session_id}@mls"


def session_invitation(
    session: Session, *, method: str, uid: str, sequence: int, organizer: str, attendee: str
) -> bytes:
    """The .ics an email to one learner carries (iTIP, RFC 5546): METHOD REQUEST adds or updates the event whose
    `uid` it names, CANCEL removes it; a client applies it only when `sequence` is higher than the one it holds.
    The caller passes the UID of the first session of a rescheduled chain, so a replacement moves the learner's
    event instead of adding a second one."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    tz_name = session_tz_name(session)
    event = session_event(session, tz_name=tz_name)
    for name, value in (("uid", uid), ("sequence", sequence)):
        del event[name]
        event.add(name, value)
    if method == "CANCEL":
        del event["status"]
        event.add("status", "CANCELLED")
    event.add("organizer", f"mailto:{organizer}")
    attendee_property = icalendar.vCalAddress(f"mailto:{attendee}")
    attendee_property.params["ROLE"] = "REQ-PARTICIPANT"
    event.add("attendee", attendee_property)
    if tz_name != "UTC":
        calendar.add_component(_vtimezone(tz_name, [session]))
    calendar.add_component(event)
    return calendar.to_ical()


def session_calendar(session: Session) -> bytes:
    """A single-session .ics (e.g. an "add to calendar" download), in the zone the session is held in."""
    calendar = _calendar()
    _add_sessions(calendar, [session])
    return calendar.to_ical()


def learner_calendar(learner: Learner, sessions: Iterable[Session]) -> bytes:
    """A learner's subscribable feed. The caller passes the sessions of the learner's live enrollments (with
    course, room__venue and engagement selected, to avoid queries per session); each event keeps its own zone."""
    calendar = _calendar()
    calendar.add("x-wr-calname", _("%(learner)s — training") % {"learner": learner.name})
    _add_sessions(calendar, sessions)
    return calendar.to_ical()


def _calendar() -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    return calendar


def _add_sessions(calendar: icalendar.Calendar, sessions: Iterable[Session]) -> None:
    """Events in start order, preceded by one VTIMEZONE per zone they reference. UTC times are written with "Z"
    and no TZID by icalendar, so a session in UTC needs no VTIMEZONE."""
    events = []
    by_zone: dict[str, list[Session]] = defaultdict(list)
    for session in sorted(sessions, key=lambda s: (s.starts_at, s.pk)):
        event = session_event(session, tz_name=session_tz_name(session))
        events.append(event)
        tzid = event["DTSTART"].params.get("TZID")
        if tzid:
            by_zone[tzid].append(session)
    for tzid in sorted(by_zone):
        calendar.add_component(_vtimezone(tzid, by_zone[tzid]))
    for event in events:
        calendar.add_component(event)


def session_tz_name(session: Session) -> str:
    """Where attendees are: the venue for an in-room session, else the engagement's zone."""
    if session.room is not None:
        return session.room.venue.timezone
    return session.engagement.timezone


def learner_zone(learner: Learner, session: Session | None = None) -> str:
    """The one rule for the zone a learner reads times in (emails, portal, surveys, certificates): their own, else
    the session's (its venue's, else its engagement's), else their organization's (a completion without a session)."""
    if learner.timezone:
        return learner.timezone
    if session is not None:
        return session_tz_name(session)
    return learner.organization.timezone


def _location(session: Session) -> str:
    if session.room is None:
        return session.join_url
    venue = session.room.venue
    address = ", ".join(line.strip() for line in venue.address.splitlines() if line.strip())
    return ", ".join(part for part in (venue.name, session.room.name, address) if part)


def _description(session: Session) -> str:
    lines = []
    if session.status == SessionStatus.CANCELLED:
        lines += [_("CANCELLED: %(reason)s") % {"reason": session.cancellation_reason}, ""]
    elif session.status == SessionStatus.REQUESTED:
        lines += [_("Requested: not yet confirmed by the provider."), ""]
    lines.append(f"{session.course.code} {session.course.title}")
    lines.append(_("Format: %(format)s") % {"format": session.get_modality_display()})
    if session.join_url:
        lines.append(_("Join: %(url)s") % {"url": session.join_url})
    return "\n".join(lines)


def _vtimezone(tz_name: str, sessions: list[Session]) -> icalendar.Timezone:
    """The VTIMEZONE for `tz_name` covering the sessions' span (whole years, ± a margin, so caching works)."""
    first_year = min(s.starts_at.year for s in sessions) - _SPAN_MARGIN_YEARS
    last_year = max(s.ends_at.year for s in sessions) + _SPAN_MARGIN_YEARS
    # A fresh copy: components are mutable and calendars must not share them.
    return icalendar.Timezone.from_ical(_vtimezone_ical(tz_name, first_year, last_year))


@cache
def _vtimezone_ical(tz_name: str, first_year: int, last_year: int) -> bytes:
    """STANDARD/DAYLIGHT observances from zoneinfo's transitions between 1 Jan `first_year` and 31 Dec
    `last_year`. Each onset is the transition's wall-clock time in the offset in force before it (RFC 5545
    §3.6.5), e.g. Europe/Berlin's spring change at 01:00Z is DTSTART 02:00 with TZOFFSETFROM +0100."""
    zone = ZoneInfo(tz_name)
    start = datetime(first_year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=zone).astimezone(UTC)

    # (offset from, offset to, name, is daylight) -> onsets as local wall-clock times
    observances: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = defaultdict(list)
    state = _zone_state(start, zone)
    # The observance in force at the start of the span, written as a "change" to itself.
    observances[(state[0], state[0], state[1], state[2])].append(start.astimezone(zone).replace(tzinfo=None))
    instant = start
    while instant < end:
        following = min(instant + _SCAN_STEP, end)
        if _zone_state(following, zone) != state:
            changed_at = _transition(instant, following, zone)
            new_state = _zone_state(changed_at, zone)
            onset = (changed_at + state[0]).replace(tzinfo=None)
            observances[(state[0], new_state[0], new_state[1], new_state[2])].append(onset)
            state = new_state
        instant = following

    vtimezone = icalendar.Timezone()
    vtimezone.add("tzid", tz_name)
    for (offset_from, offset_to, name, daylight), onsets in observances.items():
        observance = icalendar.TimezoneDaylight() if daylight else icalendar.TimezoneStandard()
        observance.add("dtstart", onsets[0])
        if onsets[1:]:
            observance.add("rdate", onsets[1:])
        observance.add("tzname", name)
        observance.add("tzoffsetfrom", offset_from)
        observance.add("tzoffsetto", offset_to)
        vtimezone.add_component(observance)
    return vtimezone.to_ical()


def _zone_state(instant: datetime, zone: ZoneInfo) -> tuple[timedelta, str, bool]:
    local = instant.astimezone(zone)
    return local.utcoffset() or timedelta(), local.tzname() or "", bool(local.dst())


def _transition(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC second in (before, after] whose offset differs from `before`'s (binary search)."""
    state = _zone_state(before, zone)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) // 2
        middle = middle.replace(microsecond=0)
        if _zone_state(middle, zone) == state:
            before = middle
        else:
            after = middle
    return after
