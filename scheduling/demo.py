"""A quarter of realistic delivery for the demo engagement (used by seed_demo). Deterministic: seeded random.

Rules run through the services (booking, waitlists, cancellations, attendance); the historical timestamps a
live system would have recorded over the quarter (confirmation, processing, recording times) are then set
directly, as a data load from the provider's previous system would.
"""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from engagements.models import Engagement
from mls.models import Membership
from vendors.models import Instructor, Supplier

from . import services
from .enums import CompletionSource, EnrollmentStatus, Modality, TicketCategory
from .models import (
    AssessmentAttempt,
    Completion,
    ComplianceAssignment,
    ComplianceRequirement,
    Course,
    Enrollment,
    Feedback,
    Learner,
    Outage,
    RequirementCourse,
    Room,
    Session,
    SupportTicket,
    Venue,
)

LONDON = ZoneInfo("Europe/London")
QUARTER_START, QUARTER_END = date(2026, 7, 1), date(2026, 9, 30)
COURSES = [
    ("LEAD-101", "Leading high-performing teams", Modality.ILT, "6.0", False),
    ("COACH-110", "Coaching conversations", Modality.VILT, "3.0", False),
    ("DATA-201", "Data protection essentials", Modality.VILT, "2.0", True),
    ("HS-120", "Health and safety for managers", Modality.ILT, "4.0", True),
    ("AML-150", "Anti-money laundering", Modality.SELF_PACED, "1.5", True),
    ("PRES-130", "Presenting with impact", Modality.ILT, "6.0", False),
    ("AGILE-140", "Agile fundamentals", Modality.VILT, "3.0", False),
    ("NEG-160", "Negotiation skills", Modality.ILT, "6.0", False),
]
BUSINESS_UNITS = ["Retail", "Operations", "Finance", "Technology", "People"]
REGIONS = ["UK", "UK", "UK", "DACH"]
FIRST = ["Amara", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Isla", "Jonas", "Keira", "Liam"]
LAST = ["Adams", "Becker", "Chen", "Dubois", "Evans", "Fischer", "Gupta", "Hughes", "Iqbal", "Jones", "Klein"]


def _local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(UTC)


def _weekdays(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1) if (start + timedelta(n)).weekday() < 5]


def seed_demo_delivery(engagement: Engagement, provider_manager: Membership) -> int:
    """Idempotent: returns the number of sessions, creating the quarter only the first time."""
    existing = Session.objects.filter(engagement=engagement).count()
    if existing:
        return existing
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    org, provider = engagement.organization, engagement.provider
    supplier = Supplier.objects.create(
        organization=org, provider=provider, name="Brightpath Training", categories="leadership, soft skills",
        regions="UK", contract_expires_on=date(2027, 6, 30), insurance_expires_on=date(2027, 3, 31),
    )  # fmt: skip
    instructors = [
        Instructor.objects.create(
            organization=org, provider=provider, supplier=supplier if n % 2 else None, name=name, email=email
        )
        for n, (name, email) in enumerate(
            [
                ("Hannah Fields", "hannah@northwind.example"),
                ("Omar Said", "omar@brightpath.example"),
                ("Greta Lang", "greta@northwind.example"),
                ("Ravi Menon", "ravi@brightpath.example"),
            ]
        )
    ]
    venue = Venue.objects.create(organization=org, name="Acme HQ Learning Centre", timezone="Europe/London",
                                 address="1 Canal Street, Manchester")  # fmt: skip
    rooms = [Room.objects.create(organization=org, venue=venue, name=n, capacity=14) for n in ("Brunel", "Lovelace")]
    courses = [
        Course.objects.create(
            organization=org, code=code, title=title, modality=modality, duration_hours=Decimal(hours),
            regulated=regulated, last_reviewed_on=date(2025, 9, 1) if code != "HS-120" else date(2025, 5, 1),
        )
        for code, title, modality, hours, regulated in COURSES
    ]  # fmt: skip
    learners = Learner.objects.bulk_create(
        Learner(
            organization=org,
            external_id=f"HR-{10000 + n}",
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            email=f"learner{n:03}@acme.example",
            business_unit=rng.choice(BUSINESS_UNITS),
            region=rng.choice(REGIONS),
        )
        for n in range(300)
    )
    # One session a weekday (so rooms and instructors never clash): the quarter, then upcoming December dates.
    days = _weekdays(QUARTER_START, QUARTER_END)[:60] + _weekdays(date(2026, 12, 1), date(2026, 12, 11))
    scheduled_courses = [course for course in courses if course.modality != Modality.SELF_PACED]
    sessions = []
    for n, day in enumerate(days):
        course = scheduled_courses[n % len(scheduled_courses)]
        starts = _local(day, 9 if n % 3 else 13)
        session = services.request_session(
            engagement=engagement,
            membership=provider_manager,
            course=course,
            modality=course.modality,
            starts_at=starts,
            ends_at=starts + timedelta(hours=float(course.duration_hours)),
            capacity=12,
            room=rooms[n % 2] if course.modality == Modality.ILT else None,
            join_url="" if course.modality == Modality.ILT else f"https://meet.example/{course.code.lower()}-{n}",
            instructors=[instructors[n % 4]],
            requested_at=starts - timedelta(days=rng.randint(12, 40)),
        )
        services.confirm_session(session=session, membership=provider_manager)
        # Most requests are confirmed within two days; a few slip past the 48-hour target.
        hours_to_confirm = rng.choice([4, 8, 20, 26, 30, 44, 47, 60, 75]) if n % 9 else 90
        Session.objects.filter(pk=session.pk).update(
            confirmed_at=session.requested_at + timedelta(hours=hours_to_confirm)
        )
        sessions.append(Session.objects.get(pk=session.pk))
    _enroll_and_deliver(rng, sessions, learners, provider_manager)
    _tickets_and_outages(rng, engagement, learners)
    _compliance(rng, org, courses, learners)
    return len(sessions)


def _enroll_and_deliver(rng: random.Random, sessions: list, learners: list, pm: Membership) -> None:
    for n, session in enumerate(sessions):
        for learner in rng.sample(learners, rng.randint(8, 14)):
            enrollment = services.enroll(
                session=session, learner=learner, membership=pm, requested_at=session.requested_at + timedelta(hours=2)
            )
            # Processed within two business days, mostly.
            Enrollment.objects.filter(pk=enrollment.pk).update(
                processed_at=enrollment.requested_at + timedelta(hours=rng.choice([2, 6, 20, 30, 50, 80]))
            )
        if n in (7, 23, 41):  # cancellations: two by the provider (rescheduled), one by the client
            by = "client" if n == 41 else "provider"
            services.cancel_session(session=session, membership=pm, cancelled_by=by, reason=(
                "Business-wide offsite moved the cohort" if by == "client" else "Instructor illness"
            ))  # fmt: skip
            if by == "provider" and n != 23:
                # A week later is five weekdays on: another room and instructor than that day's own session.
                replacement = services.reschedule_session(
                    session=session, membership=pm,
                    starts_at=session.starts_at + timedelta(days=7), ends_at=session.ends_at + timedelta(days=7),
                )  # fmt: skip
                _deliver(rng, replacement, pm)
            continue
        _deliver(rng, session, pm)


def _deliver(rng: random.Random, session: Session, pm: Membership) -> None:
    """Attendance, delivery, completions, assessment attempts and feedback of a past session."""
    if session.starts_at > datetime.now(UTC):
        return
    seated = list(session.enrollments.filter(status=EnrollmentStatus.ENROLLED))
    present = [e.pk for e in seated if rng.random() < 0.88]
    services.record_attendance(session=session, membership=pm, present_ids=present)
    services.mark_delivered(session=session, membership=pm)
    for enrollment in Enrollment.objects.filter(pk__in=present).select_related("learner"):
        completed = session.ends_at
        Completion.objects.create(
            organization=session.organization, learner=enrollment.learner, course=session.course, session=session,
            completed_at=completed, recorded_at=completed + timedelta(days=rng.choice([0, 1, 2, 3, 4, 6, 9])),
            source=CompletionSource.PROVIDER_LOG,
        )  # fmt: skip
        score = Decimal(rng.randint(55, 98))
        earlier = AssessmentAttempt.objects.filter(learner=enrollment.learner, course=session.course).count()
        AssessmentAttempt.objects.create(
            organization=session.organization, learner=enrollment.learner, course=session.course,
            attempt_number=earlier + 1,
            attempted_at=completed, score=score, pass_mark=Decimal(70), passed=score >= 70,
        )  # fmt: skip
        if rng.random() < 0.6:
            Feedback.objects.create(
                organization=session.organization, session=session, learner=enrollment.learner,
                instructor_score=rng.choice([3, 4, 4, 5, 5, 5]), overall_score=rng.choice([3, 4, 4, 4, 5, 5]),
                submitted_at=completed + timedelta(hours=3),
            )  # fmt: skip


def _tickets_and_outages(rng: random.Random, engagement: Engagement, learners: list) -> None:
    org = engagement.organization
    for n in range(70):
        opened = _local(QUARTER_START + timedelta(days=rng.randint(0, 91)), rng.randint(8, 17))
        category = TicketCategory.AUDIT_REQUEST if n % 10 == 0 else rng.choice(
            [TicketCategory.ENROLLMENT, TicketCategory.TECHNICAL, TicketCategory.CONTENT, TicketCategory.OTHER]
        )  # fmt: skip
        first_response = opened + timedelta(hours=rng.choice([0.5, 1, 2, 3, 5, 7, 9, 14]))
        SupportTicket.objects.create(
            organization=org, engagement=engagement, learner=rng.choice(learners), category=category,
            subject=f"{category.label} question #{n + 1}", opened_at=opened, first_response_at=first_response,
            resolved_at=first_response + timedelta(hours=rng.choice([1, 4, 12, 20, 30])),
        )  # fmt: skip
    Outage.objects.create(
        organization=org, engagement=engagement, starts_at=_local(date(2026, 8, 12), 10),
        ends_at=_local(date(2026, 8, 12), 10) + timedelta(minutes=95), planned=False,
        description="LMS single sign-on failure",
    )  # fmt: skip
    Outage.objects.create(
        organization=org, engagement=engagement, starts_at=_local(date(2026, 9, 5), 22),
        ends_at=_local(date(2026, 9, 6), 2), planned=True, description="Planned LMS upgrade",
    )  # fmt: skip


def _compliance(rng: random.Random, org: object, courses: list, learners: list) -> None:
    by_code = {course.code: course for course in courses}
    for name, code, interval in [("Data protection", "DATA-201", 365), ("Anti-money laundering", "AML-150", 730)]:
        requirement = ComplianceRequirement.objects.create(
            organization=org, name=name, recertification_interval_days=interval
        )
        RequirementCourse.objects.create(organization=org, requirement=requirement, course=by_code[code])
        for learner in learners[:120]:
            due = QUARTER_START + timedelta(days=rng.randint(0, 91))
            done = rng.random() < 0.9
            ComplianceAssignment.objects.create(
                organization=org, requirement=requirement, learner=learner, due_on=due,
                completed_at=_local(due - timedelta(days=rng.randint(-6, 20)), 12) if done else None,
            )  # fmt: skip
