"""ICS exports: exact instants across DST, RFC 5545 VTIMEZONEs, cancellation, virtual sessions and learner feeds.

Everything is built from unsaved model instances: calendar generation must not need the database.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from engagements.models import Engagement
from scheduling.calendars import PRODID, learner_calendar, session_calendar, session_event
from scheduling.enums import Modality, SessionStatus
from scheduling.models import Course, Learner, Room, Session, Venue

pytestmark = pytest.mark.unit

ORG = 41
JOIN_URL = "https://meet.example.com/j/123-456"


def _venue(tz_name: str = "Europe/Berlin") -> Venue:
    return Venue(pk=5, organization_id=ORG, name="Haus am See", address="Seestraße 1\n10115 Berlin", timezone=tz_name)


def _room(venue: Venue | None = None) -> Room:
    room = Room(pk=6, organization_id=ORG, name="Raum 2", capacity=12)
    room.venue = venue or _venue()
    return room


def _session(
    *,
    pk: int = 100,
    starts_at: datetime = datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
    hours: int = 3,
    room: Room | None = None,
    engagement_tz: str = "Europe/London",
    status: str = SessionStatus.CONFIRMED,
    join_url: str = "",
    cancellation_reason: str = "",
) -> Session:
    session = Session(
        pk=pk,
        organization_id=ORG,
        modality=Modality.ILT if room else Modality.VILT,
        capacity=12,
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        join_url=join_url,
        cancellation_reason=cancellation_reason,
    )
    session.course = Course(pk=7, organization_id=ORG, code="GDPR-101", title="Data protection essentials")
    session.engagement = Engagement(pk=3, organization_id=ORG, name="Acme training", timezone=engagement_tz)
    session.room = room
    return session


def _parse(output: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(output)


def _events(calendar: icalendar.Calendar) -> list[icalendar.Event]:
    return calendar.walk("VEVENT")


def _vtimezones(calendar: icalendar.Calendar) -> dict[str, icalendar.Timezone]:
    return {str(tz["TZID"]): tz for tz in calendar.walk("VTIMEZONE")}


def test_session_calendar_gives_exact_instants_either_side_of_berlin_dst_change():
    # Berlin moves from CET (UTC+1) to CEST (UTC+2) at 2026-03-29 01:00Z.
    # Saturday 2026-03-28 09:00 CET  = 09:00 − 1h = 08:00Z.
    # Monday   2026-03-30 09:00 CEST = 09:00 − 2h = 07:00Z.
    before = _session(pk=1, starts_at=datetime(2026, 3, 28, 8, 0, tzinfo=UTC), room=_room())
    after = _session(pk=2, starts_at=datetime(2026, 3, 30, 7, 0, tzinfo=UTC), room=_room())

    expected = ((before, datetime(2026, 3, 28, 8, 0, tzinfo=UTC)), (after, datetime(2026, 3, 30, 7, 0, tzinfo=UTC)))
    for session, expected_utc in expected:
        calendar = _parse(session_calendar(session))
        (event,) = _events(calendar)
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event["DTSTART"].dt.astimezone(UTC) == expected_utc
        assert event["DTEND"].dt.astimezone(UTC) == expected_utc + timedelta(hours=3)
        # Both are 09:00 on the wall clock in Berlin.
        assert event["DTSTART"].to_ical().endswith(b"T090000")
        vtimezone = _vtimezones(calendar)["Europe/Berlin"]
        assert vtimezone.walk("STANDARD")
        assert vtimezone.walk("DAYLIGHT")


def test_session_calendar_vtimezone_onsets_are_in_the_offset_before_the_change():
    # RFC 5545 §3.6.5: DTSTART of an observance is local time in TZOFFSETFROM.
    # Spring 2026-03-29 01:00Z + 1h (CET) = 02:00; autumn 2026-10-25 01:00Z + 2h (CEST) = 03:00.
    calendar = _parse(session_calendar(_session(room=_room())))
    vtimezone = _vtimezones(calendar)["Europe/Berlin"]

    def onsets(observance: icalendar.Component) -> set[datetime]:
        found = {observance["DTSTART"].dt}
        rdates = observance.get("RDATE", [])
        for rdate in rdates if isinstance(rdates, list) else [rdates]:
            found |= {period.dt for period in rdate.dts}
        return found

    daylight = next(d for d in vtimezone.walk("DAYLIGHT") if d["TZOFFSETFROM"].td == timedelta(hours=1))
    assert datetime(2026, 3, 29, 2, 0) in onsets(daylight)
    assert daylight["TZOFFSETTO"].td == timedelta(hours=2)
    standard = next(s for s in vtimezone.walk("STANDARD") if s["TZOFFSETFROM"].td == timedelta(hours=2))
    assert datetime(2026, 10, 25, 3, 0) in onsets(standard)
    assert standard["TZOFFSETTO"].td == timedelta(hours=1)


def test_session_calendar_vtimezone_alone_agrees_with_zoneinfo_through_the_span():
    # A client without tzdata relies on the VTIMEZONE alone: rename it so icalendar cannot fall back to zoneinfo.
    calendar = _parse(session_calendar(_session(room=_room())))
    vtimezone = _vtimezones(calendar)["Europe/Berlin"]
    vtimezone["TZID"] = "Embedded/Berlin"
    embedded, berlin = vtimezone.to_tz(), ZoneInfo("Europe/Berlin")

    instant = datetime(2025, 1, 1, tzinfo=UTC)
    while instant < datetime(2028, 1, 1, tzinfo=UTC):
        assert instant.astimezone(embedded).utcoffset() == instant.astimezone(berlin).utcoffset(), instant
        instant += timedelta(minutes=30)


def test_session_event_cancelled_has_status_sequence_and_reason():
    session = _session(
        room=_room(), status=SessionStatus.CANCELLED, cancellation_reason="Instructor unwell; rebooking for May."
    )

    event = session_event(session, tz_name="Europe/Berlin")

    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert "Instructor unwell; rebooking for May." in event["DESCRIPTION"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (SessionStatus.REQUESTED, "TENTATIVE"),
        (SessionStatus.CONFIRMED, "CONFIRMED"),
        (SessionStatus.DELIVERED, "CONFIRMED"),
    ],
)
def test_session_event_live_status_maps_with_sequence_zero(status, expected):
    event = session_event(_session(room=_room(), status=status), tz_name="Europe/Berlin")

    assert event["STATUS"] == expected
    assert event["SEQUENCE"] == 0


def test_session_event_identifies_and_describes_the_session(time_machine):
    time_machine.move_to(datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC), tick=False)
    session = _session(pk=100, room=_room())

    event = session_event(session, tz_name="Europe/Berlin")

    assert event["UID"] == f"session-{ORG}-100@mls"
    assert event["SUMMARY"] == "Data protection essentials"
    assert event["LOCATION"] == "Haus am See, Raum 2, Seestraße 1, 10115 Berlin"
    assert "URL" not in event
    assert "GDPR-101" in event["DESCRIPTION"]
    assert event["DTSTAMP"].dt == datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC)  # when the feed was made


def test_session_calendar_virtual_session_uses_engagement_timezone_and_join_url():
    # New York is on EDT (UTC−4) on 2026-04-14: 14:00Z − 4h = 10:00 local.
    session = _session(
        starts_at=datetime(2026, 4, 14, 14, 0, tzinfo=UTC), engagement_tz="America/New_York", join_url=JOIN_URL
    )

    calendar = _parse(session_calendar(session))

    (event,) = _events(calendar)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["DTSTART"].to_ical() == b"20260414T100000"
    assert event["DTSTART"].dt.astimezone(UTC) == datetime(2026, 4, 14, 14, 0, tzinfo=UTC)
    assert event["LOCATION"] == JOIN_URL
    assert event["URL"] == JOIN_URL
    assert list(_vtimezones(calendar)) == ["America/New_York"]


def test_session_calendar_room_session_uses_venue_timezone_over_engagement():
    session = _session(room=_room(_venue("Europe/Berlin")), engagement_tz="America/New_York", join_url=JOIN_URL)

    calendar = _parse(session_calendar(session))

    (event,) = _events(calendar)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["LOCATION"].startswith("Haus am See, Raum 2")
    assert event["URL"] == JOIN_URL
    assert list(_vtimezones(calendar)) == ["Europe/Berlin"]


def test_session_calendar_utc_session_needs_no_vtimezone():
    session = _session(engagement_tz="UTC", join_url=JOIN_URL)

    calendar = _parse(session_calendar(session))

    (event,) = _events(calendar)
    assert event["DTSTART"].to_ical() == b"20260330T070000Z"
    assert _vtimezones(calendar) == {}


def test_learner_calendar_has_an_event_and_vtimezone_per_zone():
    learner = Learner(pk=9, organization_id=ORG, name="Ada Lovelace", email="ada@example.com")
    # London on BST (UTC+1) on 2026-04-02: 09:00Z + 1h = 10:00 local.
    london = _session(pk=11, starts_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC), room=_room(_venue("Europe/London")))
    # Berlin on CEST (UTC+2) on 2026-04-01: 07:00Z + 2h = 09:00 local.
    berlin = _session(pk=12, starts_at=datetime(2026, 4, 1, 7, 0, tzinfo=UTC), room=_room(_venue("Europe/Berlin")))

    output = learner_calendar(learner, [london, berlin])
    calendar = _parse(output)

    assert calendar["X-WR-CALNAME"] == "Ada Lovelace — training"
    events = _events(calendar)
    assert [str(e["UID"]) for e in events] == [f"session-{ORG}-12@mls", f"session-{ORG}-11@mls"]
    assert [e["DTSTART"].params["TZID"] for e in events] == ["Europe/Berlin", "Europe/London"]
    assert [e["DTSTART"].to_ical() for e in events] == [b"20260401T090000", b"20260402T100000"]
    assert [e["DTSTART"].dt.astimezone(UTC) for e in events] == [berlin.starts_at, london.starts_at]
    assert sorted(_vtimezones(calendar)) == ["Europe/Berlin", "Europe/London"]
    # Regenerating the feed keeps the UIDs, so clients update entries rather than duplicating them.
    again = _events(_parse(learner_calendar(learner, [berlin, london])))
    assert [e["UID"] for e in again] == [e["UID"] for e in events]


def test_learner_calendar_shares_one_vtimezone_per_zone():
    learner = Learner(pk=9, organization_id=ORG, name="Ada Lovelace", email="ada@example.com")
    sessions = [
        _session(pk=21, starts_at=datetime(2026, 3, 28, 8, 0, tzinfo=UTC), room=_room()),
        _session(pk=22, starts_at=datetime(2026, 3, 30, 7, 0, tzinfo=UTC), room=_room()),
        _session(pk=23, engagement_tz="Europe/London", join_url=JOIN_URL),
    ]

    calendar = _parse(learner_calendar(learner, sessions))

    assert len(_events(calendar)) == 3
    assert sorted(_vtimezones(calendar)) == ["Europe/Berlin", "Europe/London"]


def test_session_calendar_round_trips_as_crlf_bytes():
    output = session_calendar(
        _session(room=_room(), status=SessionStatus.CANCELLED, cancellation_reason="Venue closed, see email." * 5)
    )

    assert isinstance(output, bytes)
    assert output.startswith(b"BEGIN:VCALENDAR\r\n")
    assert output.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in output.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in output.split(b"\r\n"))  # folded per RFC 5545 §3.1
    calendar = _parse(output)
    assert calendar["PRODID"] == PRODID == "-//MLS//Managed Learning Services//EN"
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "PUBLISH"
    reparsed = _parse(calendar.to_ical())
    assert [e["UID"] for e in _events(reparsed)] == [e["UID"] for e in _events(calendar)]
