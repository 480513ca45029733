"""What a message says: the strings a template may use, the organization's wording or the default one, rendered in
the learner's language with times in the learner's zone.

Wording is Django template syntax rendered by an engine of its own (no template loaders, no `{% load %}`, no
autoescape: the email is plain text) over a dict of strings only, never model objects, so an organization's
template can print what it is given and reach nothing else. The defaults live in templates/communications/email/
<kind>.txt (first line the subject, the rest the body), translated with gettext; rendered with each variable
standing for itself they give the source an editor starts from, in the language being edited.
"""

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from django.template import Context, Engine, Template
from django.template.loader import render_to_string
from django.utils import dateformat, translation
from django.utils.translation import gettext as _

from scheduling import calendars
from scheduling.calendars import session_tz_name
from scheduling.enums import Modality
from scheduling.models import Enrollment, Learner, Session

_WORDING_ENGINE = Engine(autoescape=False)

# The strings every template may use (blank where the message has no session, or the value does not apply).
VARIABLES = (
    "learner_name",
    "organization_name",
    "course_title",
    "course_code",
    "session_date",
    "session_starts",
    "session_ends",
    "timezone",
    "location",
    "join_url",
    "joining_instructions",
    "cancellation_reason",
    "days_before",
    "survey_url",
    "certificate_url",
)


def learner_zone(learner: Learner | None, session: Session | None) -> str:
    """The zone a learner reads times in (scheduling.calendars.learner_zone); a test send has no learner."""
    if learner is not None:
        return calendars.learner_zone(learner, session)
    return session_tz_name(session) if session is not None else "UTC"


def local_date(moment: datetime, zone: str) -> str:
    # Translators: a date in an email, in Django's date format syntax (d = day, M = month abbreviation, Y = year).
    return dateformat.format(moment.astimezone(ZoneInfo(zone)), _("d M Y"))


def local_time(moment: datetime, zone: str) -> str:
    return dateformat.format(moment.astimezone(ZoneInfo(zone)), "H:i")


def joining_instructions(session: Session) -> str:
    """Where to go: the venue, room and address for a classroom, the join link for a virtual session, both for a
    hybrid one."""
    lines = []
    if session.modality in (Modality.ILT, Modality.HYBRID) and session.room is not None:
        venue = session.room.venue
        lines.append(_("Venue: %(venue)s") % {"venue": venue.name})
        lines.append(_("Room: %(room)s") % {"room": session.room.name})
        address = ", ".join(line.strip() for line in venue.address.splitlines() if line.strip())
        if address:
            lines.append(_("Address: %(address)s") % {"address": address})
    if session.modality in (Modality.VILT, Modality.HYBRID) and session.join_url:
        lines.append(_("Join online: %(url)s") % {"url": session.join_url})
    return "\n".join(lines)


def _location(session: Session) -> str:
    if session.room is None:
        return ""
    return f"{session.room.venue.name}, {session.room.name}"


def message_strings(
    *,
    learner: Learner | None,
    session: Session | None,
    enrollment: Enrollment | None = None,
    organization_name: str,
    zone: str,
    extra: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """The template variables of one message, as strings in the active language (call inside
    translation.override) with times in `zone`. `extra` adds or overrides variables (e.g. `survey_url`)."""
    strings = dict.fromkeys(VARIABLES, "")
    strings["organization_name"] = organization_name
    strings["timezone"] = zone
    if learner is not None:
        strings["learner_name"] = learner.name
    if session is not None:
        strings |= {
            "course_title": session.course.title,
            "course_code": session.course.code,
            "session_date": local_date(session.starts_at, zone),
            "session_starts": local_time(session.starts_at, zone),
            "session_ends": local_time(session.ends_at, zone),
            "location": _location(session),
            "join_url": session.join_url,
            "joining_instructions": joining_instructions(session),
            "cancellation_reason": session.cancellation_reason,
        }
    strings |= {name: "" if value is None else str(value) for name, value in (extra or {}).items()}
    return strings


def default_wording(kind: str, language: str) -> tuple[str, str]:
    """The default subject and body source of `kind` in `language`, each variable written as `{{ name }}`."""
    placeholders = {name: "{{ " + name + " }}" for name in VARIABLES}
    with translation.override(language):
        text = render_to_string(f"communications/email/{kind}.txt", placeholders)
    subject, _newline, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def check_wording(source: str) -> None:
    """Raise TemplateSyntaxError when `source` is not a template the wording engine can render."""
    Template(source, engine=_WORDING_ENGINE)


def render_wording(source: str, strings: Mapping[str, str]) -> str:
    return Template(source, engine=_WORDING_ENGINE).render(Context(dict(strings), autoescape=False))


def sample_strings(*, organization_name: str, language: str) -> dict[str, str]:
    """Made-up values for a template's preview and test send (no learner's data is shown to the editor)."""
    with translation.override(language):
        return dict.fromkeys(VARIABLES, "") | {
            "learner_name": "Ada Lovelace",
            "organization_name": organization_name,
            "course_title": _("Leading hybrid teams"),
            "course_code": "LHT-101",
            "session_date": local_date(datetime.fromisoformat("2026-03-02T09:00:00+00:00"), "Europe/London"),
            "session_starts": "09:00",
            "session_ends": "12:00",
            "timezone": "Europe/London",
            "location": "Training centre, Room 1",
            "join_url": "https://meet.example/lht-101",
            "joining_instructions": "\n".join(
                [
                    _("Venue: %(venue)s") % {"venue": "Training centre"},
                    _("Room: %(room)s") % {"room": "Room 1"},
                    _("Address: %(address)s") % {"address": "1 High Street, London"},
                ]
            ),
            "cancellation_reason": _("The trainer is ill."),
            "days_before": "7",
            "survey_url": "https://mls.example/survey/sample",
            "certificate_url": "https://mls.example/verify/1-SAMPLE",
        }
