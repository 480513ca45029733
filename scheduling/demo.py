"""A year of realistic delivery for the demo engagements (used by seed_demo). Deterministic: seeded random, and
every date relative to the `now` given, so the demo always ends with the month before it.

The live rules run through the services, each at the moment it happened (`now=`): sessions requested, confirmed,
cancelled and rescheduled, attendance and delivery. The history a provider's previous system holds (enrollments
with their processing times, completions, assessment attempts, feedback, tickets, outages and compliance
assignments) is loaded through the import's writer (`import_records`): set-based, checked and audited like any
import. A `DeliveryPlan` says how an engagement's year goes, including the months in which the provider misses a
target, so the SLA engine has a story to find (slas/demo.py).
"""

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from engagements.enums import Side
from engagements.models import Engagement
from mls.enums import Role
from mls.models import Membership, Organization, Provider
from mls.months import months_before
from slas.periods import first_of_next_month
from vendors import services as vendor_services

from . import services
from .enums import EnrollmentStatus, Modality, TicketCategory, TicketStatus
from .imports import import_records
from .models import Course, Enrollment, Learner, Room, Session, SupportTicket, Venue

LONDON = ZoneInfo("Europe/London")
MONTHS = 12  # of history, ending with the month before now
COURSES = [
    ("LEAD-101", "Leading high-performing teams", Modality.ILT, "6.0", False),
    ("COACH-110", "Coaching conversations", Modality.VILT, "3.0", False),
    ("DATA-201", "Data protection essentials", Modality.VILT, "2.0", True),
    ("HS-120", "Health and safety for managers", Modality.ILT, "4.0", True),
    ("AML-150", "Anti-money laundering", Modality.SELF_PACED, "1.5", True),
    ("PRES-130", "Presenting with impact", Modality.ILT, "6.0", False),
    ("AGILE-140", "Agile fundamentals", Modality.VILT, "3.0", False),
    ("NEG-160", "Negotiation skills", Modality.ILT, "6.0", False),
    ("SELL-210", "Consultative selling", Modality.VILT, "3.0", False),
    ("CRM-220", "Account planning in the CRM", Modality.VILT, "2.0", False),
]
REQUIREMENTS = [("Data protection", "DATA-201", 365), ("Anti-money laundering", "AML-150", 730)]
BUSINESS_UNITS = ["Retail", "Operations", "Finance", "Technology", "People"]
REGIONS = ["UK", "UK", "UK", "DACH"]
FIRST = ["Amara", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Isla", "Jonas", "Keira", "Liam"]
LAST = ["Adams", "Becker", "Chen", "Dubois", "Evans", "Fischer", "Gupta", "Hughes", "Iqbal", "Jones", "Klein"]
LEARNERS = 300
# Hours to a first response: within the 8-hour target, and a month the support desk was understaffed.
ANSWERED = [0.5, 1, 2, 2, 3, 4, 5, 6, 7, 7.5]
UNDERSTAFFED = [1, 3, 6, 9, 11, 14, 20]
# Hours to process an enrollment request: within two business days, and a month the provider's team fell behind.
PROCESSED = [1, 2, 4, 6, 20, 26]
BEHIND = [2, 6, 100, 120, 140]
RATINGS, POOR_RATINGS = [4, 4, 5, 5, 5], [3, 3, 4, 4, 5]  # means 4.6 and 3.8 against the 4.2 target


@dataclass(frozen=True)
class DeliveryPlan:
    """How one engagement's year of delivery goes. Months are counted from 0, the first of the twelve."""

    prefix: str  # of every external_id, so two engagements' rows never collide
    courses: tuple[str, ...]  # course codes its sessions cycle through
    weekdays: tuple[int, ...]  # one session on each of these weekdays (0 is Monday): rooms and instructors never clash
    hour: int  # local start time
    instructors: tuple[tuple[str, str], ...]  # name, email; every second one works for the supplier, if any
    tickets: int  # support tickets a month
    months: int = MONTHS  # of history: the engagement started this many months before the current one
    supplier: str = ""
    misses: Mapping[str, frozenset[int]] = field(default_factory=dict)  # metric -> months the provider misses it
    provider_cancellation: int | None = None  # a month in which the provider cancels (and reschedules) a session
    client_cancellation: int | None = None  # a month in which the client cancels a session
    outages: Mapping[int, tuple[int, int, bool, str]] = field(default_factory=dict)  # month -> day, minutes, planned
    compliance: bool = False  # whether it runs the client's mandatory training (assignments due every month)

    def missed(self, metric: str, month: int) -> bool:
        return month in self.misses.get(metric, frozenset())


# Northwind's year (months from 0, 11 the month before now): enrollment processing slips in month 1; instructor
# ratings dip in month 2 (a credit, earned back by three good months); a regional power cut takes the LMS down for
# 9 hours in month 4 (relief approved, so uptime is met); the client cancels a session in month 5 (not counted);
# mandatory training slips in month 6; the provider cancels and reruns a session in month 7 (delivery rate missed);
# from month 8 the support desk misses its 8-hour first response: notice, formal review, then the exit right, still
# open because the last month missed it too.
NORTHWIND_YEAR = DeliveryPlan(
    prefix="NW",
    courses=("LEAD-101", "COACH-110", "DATA-201", "HS-120", "PRES-130", "AGILE-140", "NEG-160"),
    weekdays=(0, 2, 3),
    hour=9,
    instructors=(
        ("Hannah Fields", "hannah@northwind.example"),
        ("Omar Said", "omar@brightpath.example"),
        ("Greta Lang", "greta@northwind.example"),
        ("Ravi Menon", "ravi@brightpath.example"),
    ),
    tickets=22,
    supplier="Brightpath Training",
    misses={
        "enrollment_processing": frozenset({1}),
        "instructor_rating": frozenset({2}),
        "mandatory_training_on_time": frozenset({6}),
        "support_first_response": frozenset({8, 9, 10, 11}),
    },
    provider_cancellation=7,
    client_cancellation=5,
    outages={
        3: (7, 240, True, "Planned LMS upgrade"),
        4: (14, 540, False, "Regional power cut at the LMS host's data centre"),
        9: (5, 180, True, "Planned single sign-on migration"),
        10: (12, 35, False, "LMS single sign-on failure"),
    },
    compliance=True,
)
# Kestrel's smaller, virtual-only engagement, six months old: on target, except a month of slow support answers.
KESTREL_YEAR = DeliveryPlan(
    prefix="KS",
    courses=("SELL-210", "CRM-220"),
    weekdays=(1, 4),
    hour=14,
    instructors=(("Maya Kestrel", "maya@kestrel.example"), ("Tom Reid", "tom@kestrel.example")),
    tickets=12,
    months=6,
    misses={"support_first_response": frozenset({4})},
)


@dataclass
class _Year:
    """Where the plan's rows are built: the months, the clock and the random source."""

    plan: DeliveryPlan
    engagement: Engagement
    membership: Membership
    months: list[date]
    now: datetime
    rng: random.Random

    def index(self, moment: datetime) -> int | None:
        """The plan's month of `moment` (None for the current month)."""
        local = moment.astimezone(LONDON).date().replace(day=1)
        return self.months.index(local) if local in self.months else None

    def missed(self, metric: str, moment: datetime) -> bool:
        month = self.index(moment)
        return month is not None and self.plan.missed(metric, month)

    def load(self, kind: str, records: list[dict[str, Any]], membership: Membership | None = None) -> None:
        if not records:
            return
        result = import_records(
            kind=kind,
            organization=self.engagement.organization,
            records=records,
            membership=membership or self.membership,
        )
        if result.errors:
            raise ValidationError(f"Demo {kind}: {result.errors[:3]}")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


def demo_months(now: datetime, count: int = MONTHS) -> list[date]:
    """The months of the demo's history: the `count` months before `now`'s month (London time)."""
    return months_before(now.astimezone(LONDON).date(), count)


def seed_demo_provider(procurement: Membership, name: str, contact_email: str) -> Provider:
    """The provider named `name`, added by procurement the first time."""
    existing = Provider.objects.filter(name=name).first()
    return existing or vendor_services.add_provider(membership=procurement, name=name, contact_email=contact_email)


def seed_demo_reference(organization: Organization, client: Membership, provider_manager: Membership) -> None:
    """The client's courses, venue, learners and mandatory training, once (provider-neutral). A course the demo
    did not have yet is added to an existing demo too."""
    stored = set(Course.objects.values_list("code", flat=True))
    for code, title, modality, hours, regulated in COURSES:
        if code not in stored:
            services.add_course(
                organization=organization, membership=client, code=code, title=title, modality=modality,
                duration_hours=Decimal(hours), regulated=regulated,
                last_reviewed_on=date(2025, 5, 1) if code == "HS-120" else date(2025, 9, 1),
            )  # fmt: skip
    if Venue.objects.exists():
        return
    courses = {course.code: course for course in Course.objects.all()}
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    venue = services.add_venue(
        organization=organization, membership=provider_manager, name="Acme HQ Learning Centre",
        timezone="Europe/London", address="1 Canal Street, Manchester",
    )  # fmt: skip
    for name in ("Brunel", "Lovelace"):
        services.add_room(venue=venue, membership=provider_manager, name=name, capacity=14)
    learners = [
        {
            "external_id": f"HR-{10000 + n}",
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "email": f"learner{n:03}@acme.example",
            "business_unit": rng.choice(BUSINESS_UNITS),
            "region": rng.choice(REGIONS),
        }
        for n in range(LEARNERS)
    ]
    result = import_records(kind="learners", organization=organization, records=learners, membership=client)
    if result.errors:
        raise ValidationError(f"Demo learners: {result.errors[:3]}")
    for name, code, interval in REQUIREMENTS:
        services.define_requirement(
            organization=organization, membership=client, courses=[courses[code]], name=name,
            recertification_interval_days=interval,
        )  # fmt: skip


def seed_demo_delivery(engagement: Engagement, provider_manager: Membership, plan: DeliveryPlan, now: datetime) -> int:
    """Idempotent: returns the number of sessions, creating the year only the first time."""
    existing = Session.objects.filter(engagement=engagement).count()
    if existing:
        return existing
    months = demo_months(now, plan.months)
    year = _Year(plan, engagement, provider_manager, months, now, random.Random(plan.prefix))  # noqa: S311
    instructors = _instructors(year)
    sessions = _sessions(year, instructors)
    learners = list(Learner.objects.order_by("external_id"))
    seated = _enroll(year, sessions, learners)
    _cancellations(year, sessions)
    _deliver(year, seated)
    _tickets(year, learners)
    _outages(year)
    if plan.compliance:
        _compliance(year, learners)
    return Session.objects.filter(engagement=engagement).count()


def _instructors(year: _Year) -> list:
    provider, pm = year.engagement.provider, year.membership
    supplier = None
    if year.plan.supplier:
        supplier = vendor_services.add_supplier(
            membership=pm, provider=provider, name=year.plan.supplier, categories="leadership, soft skills",
            regions="UK", contract_expires_on=year.now.date() + timedelta(days=210),
            insurance_expires_on=year.now.date() + timedelta(days=120),
        )  # fmt: skip
    return [
        vendor_services.add_instructor(
            membership=pm, provider=provider, supplier=supplier if n % 2 else None, name=name, email=email
        )
        for n, (name, email) in enumerate(year.plan.instructors)
    ]


def _session_days(year: _Year) -> list[date]:
    """The plan's weekdays over the twelve months, this month so far and the next three weeks."""
    last = (year.now + timedelta(days=21)).astimezone(LONDON).date()
    day, days = year.months[0], []
    while day <= last:
        if day.weekday() in year.plan.weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


def _sessions(year: _Year, instructors: list) -> list[Session]:
    """Requested some weeks ahead and confirmed within hours (a few just past the 48-hour turnaround)."""
    courses = {course.code: course for course in Course.objects.filter(code__in=year.plan.courses)}
    rooms = list(Room.objects.order_by("name"))
    sessions = []
    for n, day in enumerate(_session_days(year)):
        course = courses[year.plan.courses[n % len(year.plan.courses)]]
        starts = local(day, year.plan.hour)
        requested = min(starts - timedelta(days=year.rng.randint(12, 40)), year.now - timedelta(hours=50))
        classroom = course.modality == Modality.ILT
        session = services.request_session(
            engagement=year.engagement, membership=year.membership, course=course, modality=course.modality,
            starts_at=starts, ends_at=starts + timedelta(hours=float(course.duration_hours)), capacity=12,
            room=rooms[n % len(rooms)] if classroom else None,
            join_url="" if classroom else f"https://meet.example/{course.code.lower()}-{n}",
            instructors=[instructors[n % len(instructors)]], requested_at=requested, now=requested,
            external_id=f"{year.plan.prefix}-S{n + 1:04}",
        )  # fmt: skip
        hours = year.rng.choice([2, 4, 8, 20, 26, 30, 44, 47]) if n % 11 else 60
        services.confirm_session(session=session, membership=year.membership, now=requested + timedelta(hours=hours))
        sessions.append(session)
    return sessions


def _enroll(year: _Year, sessions: list[Session], learners: list[Learner]) -> dict[int, list[Enrollment]]:
    """Seven to eleven learners a session (five to nine so far on those to come); returns the seated ones by
    session."""
    records = []
    for session in sessions:
        upcoming = session.starts_at > year.now
        for learner in year.rng.sample(learners, year.rng.randint(5, 9) if upcoming else year.rng.randint(7, 11)):
            asked = session.requested_at + timedelta(hours=year.rng.randint(2, 240))
            asked = min(asked, session.starts_at - timedelta(days=3), year.now - timedelta(hours=2))
            hours = year.rng.choice(BEHIND if year.missed("enrollment_processing", asked) else PROCESSED)
            processed = asked + timedelta(hours=hours)
            records.append(
                {
                    "external_id": f"{year.plan.prefix}-E{len(records) + 1:05}",
                    "session_external_id": session.external_id,
                    "learner_external_id": learner.external_id,
                    "requested_at": _stamp(asked),
                    "processed_at": _stamp(processed) if processed <= year.now else "",
                }
            )
    year.load("enrollments", records)
    seated: dict[int, list[Enrollment]] = defaultdict(list)
    for enrollment in Enrollment.objects.filter(
        session__engagement=year.engagement, status=EnrollmentStatus.ENROLLED
    ).select_related("learner"):
        seated[enrollment.session_id].append(enrollment)
    return seated


def _first_session_of(year: _Year, sessions: list[Session], month: int | None, nth: int) -> Session | None:
    if month is None:
        return None
    of_month = [s for s in sessions if year.index(s.starts_at) == month]
    return of_month[nth] if len(of_month) > nth else None


def _cancellations(year: _Year, sessions: list[Session]) -> None:
    """The provider cancels one session for instructor illness and reruns it on a free weekday; the client cancels
    another (an offsite), which the SLA engine does not count against the provider."""
    pm = year.membership
    if session := _first_session_of(year, sessions, year.plan.provider_cancellation, 0):
        cancelled_at = session.starts_at - timedelta(days=2)
        services.cancel_session(
            session=session, membership=pm, cancelled_by=Side.PROVIDER, reason="Instructor illness", now=cancelled_at
        )
        rerun = session.starts_at + timedelta(days=8)
        while rerun.astimezone(LONDON).weekday() in year.plan.weekdays or rerun.astimezone(LONDON).weekday() > 4:
            rerun += timedelta(days=1)
        services.reschedule_session(
            session=session, membership=pm, starts_at=rerun, ends_at=rerun + (session.ends_at - session.starts_at),
            now=cancelled_at + timedelta(hours=5),
        )  # fmt: skip
    if session := _first_session_of(year, sessions, year.plan.client_cancellation, 1):
        services.cancel_session(
            session=session, membership=pm, cancelled_by=Side.CLIENT, reason="Business-wide offsite moved the cohort",
            now=session.starts_at - timedelta(days=6),
        )  # fmt: skip


def _deliver(year: _Year, seated: dict[int, list[Enrollment]]) -> None:
    """Every session that has ended: the register (most learners attend), delivered, then the history of its
    attendees: completions, a first (or later) assessment attempt, and feedback from most of them."""
    ended = Session.objects.filter(
        engagement=year.engagement, status="confirmed", ends_at__lte=year.now
    ).select_related("course")
    completions, attempts, feedback = [], [], []
    taken: dict[tuple[int, int], int] = defaultdict(int)
    for session in ended.order_by("starts_at"):
        seats = seated.get(session.pk) or list(
            session.enrollments.filter(status=EnrollmentStatus.ENROLLED).select_related("learner")
        )
        present = [e for e in seats if year.rng.random() < 0.88]
        services.record_attendance(
            session=session, membership=year.membership, present_ids=[e.pk for e in present],
            now=session.ends_at + timedelta(minutes=30),
        )  # fmt: skip
        services.mark_delivered(session=session, membership=year.membership)
        poor = year.missed("instructor_rating", session.starts_at)
        for enrollment in present:
            learner, done = enrollment.learner, session.ends_at
            recorded = min(done + timedelta(days=year.rng.choice([0, 1, 1, 2, 3])), year.now)
            completions.append({
                "external_id": f"{year.plan.prefix}-C{len(completions) + 1:05}",
                "learner_external_id": learner.external_id, "course_code": session.course.code,
                "completed_at": _stamp(done), "recorded_at": _stamp(recorded),
            })  # fmt: skip
            taken[learner.pk, session.course_id] += 1
            attempts.append({
                "external_id": f"{year.plan.prefix}-A{len(attempts) + 1:05}",
                "learner_external_id": learner.external_id, "course_code": session.course.code,
                "attempt_number": taken[learner.pk, session.course_id], "attempted_at": _stamp(done),
                "score": year.rng.randint(58, 98), "pass_mark": 70,
            })  # fmt: skip
            if session.external_id and year.rng.random() < 0.65:
                feedback.append({
                    "external_id": f"{year.plan.prefix}-F{len(feedback) + 1:05}",
                    "session_external_id": session.external_id, "learner_external_id": learner.external_id,
                    "instructor_score": year.rng.choice(POOR_RATINGS if poor else RATINGS),
                    "overall_score": year.rng.choice(POOR_RATINGS if poor else RATINGS),
                    "submitted_at": _stamp(min(done + timedelta(hours=3), year.now)),
                })  # fmt: skip
    year.load("completions", completions)
    year.load("assessment-attempts", attempts)
    year.load("feedback", feedback)


def _tickets(year: _Year, learners: Sequence[Learner]) -> None:
    records = []
    for month in [*year.months, year.now.astimezone(LONDON).date().replace(day=1)]:
        days = (first_of_next_month(month) - month).days
        for _ in range(year.plan.tickets):
            opened = local(month + timedelta(days=year.rng.randrange(days)), year.rng.randint(8, 17))
            if opened > year.now - timedelta(days=1):
                continue
            n = len(records) + 1
            category = TicketCategory.AUDIT_REQUEST if n % 10 == 0 else year.rng.choice(
                [TicketCategory.ENROLLMENT, TicketCategory.TECHNICAL, TicketCategory.CONTENT, TicketCategory.OTHER]
            )  # fmt: skip
            hours = year.rng.choice(UNDERSTAFFED if year.missed("support_first_response", opened) else ANSWERED)
            answered = opened + timedelta(hours=hours)
            resolved = answered + timedelta(hours=year.rng.choice([1, 3, 6, 12, 20]))
            records.append({
                "external_id": f"{year.plan.prefix}-T{n:04}", "engagement_id": year.engagement.pk,
                "learner_external_id": year.rng.choice(learners).external_id, "category": category,
                "subject": f"{category.label} question #{n}", "opened_at": _stamp(opened),
                "first_response_at": _stamp(answered) if answered <= year.now else "",
                "resolved_at": _stamp(resolved) if resolved <= year.now else "",
            })  # fmt: skip
    # The latest few tickets are conversations, as the page is used now: opened here, then answered, thanked and
    # resolved through the ticket services at the times drawn above (the first provider reply is the first response).
    records.sort(key=lambda r: datetime.fromisoformat(r["opened_at"]))
    talked, records = records[-CONVERSATIONS:], records[:-CONVERSATIONS]
    year.load("tickets", [*records, *({**r, "first_response_at": "", "resolved_at": ""} for r in talked)])
    _conversations(year, talked)


CONVERSATIONS = 6
REPLIES = (
    "Thanks for flagging this. We have checked the booking and sent the joining details again; let us know if it "
    "still does not work.",
    "That works now, thank you.",
    "Glad to hear it. Closing this one as resolved.",
)


def _conversations(year: _Year, records: list[dict[str, Any]]) -> None:
    client = Membership.objects.filter(role=Role.LD_DIRECTOR).first()
    opened = SupportTicket.objects.filter(external_id__in=[r["external_id"] for r in records])
    tickets = {t.external_id: t for t in opened}
    for record in records:
        ticket = tickets[record["external_id"]]
        if not record["first_response_at"]:
            continue  # not answered yet: waiting on the provider
        answered = datetime.fromisoformat(record["first_response_at"])
        services.post_reply(ticket=ticket, membership=year.membership, body=REPLIES[0], now=answered)
        thanked = answered + timedelta(minutes=25)
        if client is None or thanked > year.now:
            continue
        services.post_reply(ticket=ticket, membership=client, body=REPLIES[1], now=thanked)
        if record["resolved_at"]:
            resolved = max(datetime.fromisoformat(record["resolved_at"]), thanked + timedelta(minutes=5))
            if resolved <= year.now:
                services.post_reply(ticket=ticket, membership=year.membership, body=REPLIES[2], now=resolved)
                services.set_ticket_status(
                    ticket=ticket, membership=year.membership, status=TicketStatus.RESOLVED, now=resolved
                )
        services.assign_ticket(ticket=ticket, membership=year.membership, assignee=year.membership)


def _outages(year: _Year) -> None:
    records = []
    for month, (day, minutes, planned, description) in sorted(year.plan.outages.items()):
        starts = local(year.months[month].replace(day=day), 22 if planned else 10)
        records.append({
            "external_id": f"{year.plan.prefix}-O{len(records) + 1:03}", "engagement_id": year.engagement.pk,
            "starts_at": _stamp(starts), "ends_at": _stamp(starts + timedelta(minutes=minutes)),
            "planned": planned, "description": description,
        })  # fmt: skip
    year.load("outages", records)


def _compliance(year: _Year, learners: Sequence[Learner]) -> None:
    """Mandatory training due every month (this one too) for a dozen learners per requirement; nearly all complete
    on time, except in the months the plan misses it. Loaded after the completions, which would otherwise close
    them."""
    records = []
    months = [*year.months, year.now.astimezone(LONDON).date().replace(day=1)]  # this month's are due too
    for name, _code, _interval in REQUIREMENTS:
        for n, learner in enumerate(learners[: 12 * len(months)]):
            month = months[n % len(months)]
            due = month + timedelta(days=year.rng.randint(0, 27))
            slipped = year.missed("mandatory_training_on_time", local(due, 12))
            # One learner in twenty-four is late in a good month (95 % or more); a third in a month that slipped.
            late = year.rng.random() < 0.35 if slipped else n % 24 == 5
            days = year.rng.randint(3, 15) if late else -year.rng.randint(1, 20)
            completed = local(due + timedelta(days=days), 12) if not late or n % 2 else None
            records.append({
                "external_id": f"{year.plan.prefix}-CA{len(records) + 1:04}",
                "learner_external_id": learner.external_id, "due_on": due.isoformat(), "requirement": name,
                "completed_at": _stamp(completed) if completed and completed <= year.now else "",
            })  # fmt: skip
    year.load("compliance-assignments", records)
