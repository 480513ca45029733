"""Hand-computed fixtures for the item metrics of SPEC-SLA §3 (met / failed / pending per item, §2).

Every case is measured for March 2026 in Europe/London (GMT until Sunday 29 March 01:00 UTC, BST after), so a
time before the 29th reads the same in UTC and local time. Unless a test says otherwise March is computed after
its grace days: as_of = 2026-04-06 00:00 BST = 2026-04-05 23:00 UTC. Public holidays are GB/ENG: Good Friday
2026-04-03 and Easter Monday 2026-04-06.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engagements.enums import ChangeRequestStatus, Side
from engagements.models import ChangeRequest
from mls.enums import Role
from scheduling import services as delivery_services
from scheduling.enums import SessionStatus, TicketCategory
from scheduling.models import Completion
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import (
    assignment,
    attempt,
    change_request,
    completion,
    counted_items,
    course,
    enrollment,
    learner,
    measured,
    relief,
    requirement,
    session,
    sla_engagement,
    targets,
    ticket,
)

pytestmark = pytest.mark.unit

LONDON = ZoneInfo("Europe/London")
AFTER_GRACE = datetime(2026, 4, 20, tzinfo=UTC)
MARCH_AS_OF = datetime(2026, 4, 5, 23, 0, tzinfo=UTC)  # 2026-04-06 00:00 BST: March's end plus 5 grace days
MICROSECOND = timedelta(microseconds=1)


def utc(day: int, hour: int = 9, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def ids(*items: object) -> list[int]:
    return sorted(item.pk for item in items)


def outcomes(met: tuple = (), failed: tuple = (), pending: tuple = ()) -> dict[str, list[int]]:
    return {"met": ids(*met), "failed": ids(*failed), "pending": ids(*pending)}


def test_support_first_response_counts_answers_within_h_hours(tenant_a):
    """6 tickets opened in March, H = 8: answered after 1 h, 8 h exactly, 9 h, 7 h 59 min, 30 min and 3 h.
    Only the 9 h answer misses: 5 / 6 = 83.333… → 83.33 < 95. A February ticket and another engagement's
    ticket (both answered late) are not in March's population."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("support_first_response", threshold=8))
        other = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
        one_hour = ticket(engagement, utc(2), utc(2, 10))
        eight_hours = ticket(engagement, utc(3), utc(3, 17))
        nine_hours = ticket(engagement, utc(4), utc(4, 18))
        overnight = ticket(engagement, utc(5, 22), utc(6, 5, 59))
        half_hour = ticket(engagement, utc(9), utc(9, 9, 30))
        three_hours = ticket(engagement, utc(10), utc(10, 12))
        ticket(engagement, utc(28, 23, month=2), utc(2, 12))
        ticket(other, utc(11), utc(13))

        m = measured(engagement, "2026-03", AFTER_GRACE)["support_first_response"]

    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("83.33"), 5, 6, 0)
    assert m.meets_target is False
    assert m.as_of == MARCH_AS_OF
    assert counted_items(m) == outcomes(
        met=(one_hour, eight_hours, overnight, half_hour, three_hours), failed=(nine_hours,)
    )


def test_support_first_response_is_measured_from_the_first_provider_reply(tenant_a):
    """5 tickets opened in March, H = 8, answered in their conversations: the provider replies after 2 h; the
    client writes after 1 h and the provider after 10 h (the client's reply is no response: failed); the provider
    after 8 h exactly; after 30 min then again after 12 h (the first counts); and one only the client has answered
    (no response, due 10:00 + 8 h, past as of April: failed). 3 / 5 = 60.00."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("support_first_response", threshold=8))
        provider, client = tenant_a.members[Role.PROVIDER_MANAGER], tenant_a.members[Role.LD_DIRECTOR]

        def conversation(day: int, *replies: tuple[object, float]) -> object:
            opened = utc(day, 10)
            logged = delivery_services.log_ticket(
                engagement=engagement, membership=provider, category="technical", subject="Help", opened_at=opened
            )
            for member, after in replies:
                delivery_services.post_reply(
                    ticket=logged, membership=member, body="…", now=opened + timedelta(hours=after)
                )
            return logged

        prompt = conversation(2, (provider, 2))
        late = conversation(3, (client, 1), (provider, 10))
        exactly = conversation(4, (provider, 8))
        first_counts = conversation(5, (provider, 0.5), (provider, 12))
        unanswered = conversation(6, (client, 1))

        m = measured(engagement, "2026-03", AFTER_GRACE)["support_first_response"]

    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("60.00"), 3, 5, 0)
    assert counted_items(m) == outcomes(met=(prompt, exactly, first_counts), failed=(late, unanswered))


def test_audit_report_turnaround_counts_audit_requests_resolved_within_h_hours(tenant_a):
    """Audit-request tickets, H = 24: resolved after 24 h exactly, 6 h, 25 h, never (due 7 March, failed) and 3 h:
    3 / 5 = 60.00. An enrollment ticket resolved a week later is not an audit request."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("audit_report_turnaround", threshold=24))
        audit = TicketCategory.AUDIT_REQUEST
        exactly = ticket(engagement, utc(2), utc(2, 10), category=audit, resolved_at=utc(3))
        same_day = ticket(engagement, utc(4), utc(4, 10), category=audit, resolved_at=utc(4, 15))
        late = ticket(engagement, utc(5), utc(5, 10), category=audit, resolved_at=utc(6, 10))
        never = ticket(engagement, utc(6), utc(6, 10), category=audit)
        quick = ticket(engagement, utc(9), utc(9, 10), category=audit, resolved_at=utc(9, 12))
        ticket(engagement, utc(2), utc(2, 10), resolved_at=utc(9))

        m = measured(engagement, "2026-03", AFTER_GRACE)["audit_report_turnaround"]

    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("60.00"), 3, 5, 0)
    assert counted_items(m) == outcomes(met=(exactly, same_day, quick), failed=(late, never))


def test_session_confirmation_turnaround_counts_confirmations_within_h_hours(tenant_a):
    """Sessions requested in March, H = 48: confirmed after 47 h, 48 h exactly, 49 h, and one still unconfirmed
    (due 12 March, failed): 2 / 4 = 50.00. A session requested in February is February's."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("session_confirmation_turnaround", threshold=48))
        starts = utc(20, month=4)
        quick = session(engagement, starts_at=starts, requested_at=utc(2), confirmed_at=utc(4, 8))
        exactly = session(engagement, starts_at=starts, requested_at=utc(3), confirmed_at=utc(5))
        late = session(engagement, starts_at=starts, requested_at=utc(4), confirmed_at=utc(6, 10))
        never = session(engagement, starts_at=starts, requested_at=utc(10), status=SessionStatus.REQUESTED)
        session(engagement, starts_at=starts, requested_at=utc(27, month=2), confirmed_at=utc(5))

        m = measured(engagement, "2026-03", AFTER_GRACE)["session_confirmation_turnaround"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("50.00"), 2, 4)
    assert counted_items(m) == outcomes(met=(quick, exactly), failed=(late, never))


def test_scheduling_lead_time_counts_the_replacement_start_of_a_provider_cancelled_session(tenant_a):
    """D = 30 days (720 h) from the request, March requests:
    - starts after 20 days: met; after exactly 720 h (2 Mar 09:00 → 1 Apr 09:00 UTC): met; after 30 d 1 h: failed;
    - cancelled by the provider: its own start (6 days) no longer counts, its replacement's does —
      replacement 35 days after the request: failed; another's replacement 28 days after (own start 56 days): met;
    - cancelled by the provider on 31 Mar with no replacement yet: due 29 Apr, after as_of: pending;
    - cancelled by the client: not in the population.
    3 / 5 = 60.00, 1 pending. The replacements were requested in April, so they are April's items."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("scheduling_lead_time", threshold=30))
        twenty_days = session(engagement, requested_at=utc(2), starts_at=utc(22))
        exactly = session(engagement, requested_at=utc(2), starts_at=utc(1, month=4))
        hour_over = session(engagement, requested_at=utc(3), starts_at=utc(2, 10, month=4))
        late_replacement = session(
            engagement, requested_at=utc(4), starts_at=utc(10), status=SessionStatus.CANCELLED, cancelled_at=utc(6)
        )
        session(engagement, requested_at=utc(1, month=4), starts_at=utc(8, month=4), replaces=late_replacement)
        rescued = session(engagement, requested_at=utc(5), starts_at=utc(30, month=4), status=SessionStatus.CANCELLED)
        session(engagement, requested_at=utc(1, month=4), starts_at=utc(2, month=4), replaces=rescued)
        awaiting = session(
            engagement,
            requested_at=utc(30),
            starts_at=utc(20, month=4),
            status=SessionStatus.CANCELLED,
            cancelled_at=utc(31),
        )
        session(
            engagement,
            requested_at=utc(6),
            starts_at=utc(30, month=5),
            status=SessionStatus.CANCELLED,
            cancelled_by=Side.CLIENT,
        )

        m = measured(engagement, "2026-03", AFTER_GRACE)["scheduling_lead_time"]

    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("60.00"), 3, 5, 1)
    assert counted_items(m) == outcomes(
        met=(twenty_days, exactly, rescued), failed=(hour_over, late_replacement), pending=(awaiting,)
    )


def test_reschedule_within_window_counts_replacements_within_n_business_days(tenant_a):
    """Provider cancellations in March, N = 10 business days (GB/ENG):
    - cancelled Mon 2 Mar: the 10th business day after is Mon 16 Mar (3,4,5,6,9,10,11,12,13,16), so a replacement
      starting Mon 16 Mar 10:00 is met and one starting Tue 17 Mar is failed;
    - cancelled Tue 10 Mar, no replacement: due end of Tue 24 Mar, before as_of: failed;
    - cancelled Tue 24 Mar, no replacement: due end of Thu 9 Apr (25,26,27,30,31 Mar, 1,2 Apr, Good Friday and
      Easter Monday skipped, 7,8,9 Apr), after as_of: pending;
    - a client cancellation is not the provider's.
    1 / (1 + 2) = 33.333… → 33.33."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("reschedule_within_window", threshold=10))
        cancelled = {"status": SessionStatus.CANCELLED, "requested_at": utc(1), "starts_at": utc(20, month=4)}
        in_window = session(engagement, cancelled_at=utc(2, 10), **cancelled)
        session(engagement, starts_at=utc(16, 10), replaces=in_window)
        day_late = session(engagement, cancelled_at=utc(2, 11), **cancelled)
        session(engagement, starts_at=utc(17), replaces=day_late)
        unreplaced = session(engagement, cancelled_at=utc(10, 10), **cancelled)
        not_yet_due = session(engagement, cancelled_at=utc(24, 10), **cancelled)
        session(engagement, cancelled_at=utc(3), cancelled_by=Side.CLIENT, **cancelled)

        m = measured(engagement, "2026-03", AFTER_GRACE)["reschedule_within_window"]

    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("33.33"), 1, 3, 1)
    assert counted_items(m) == outcomes(met=(in_window,), failed=(day_late, unreplaced), pending=(not_yet_due,))


def test_session_delivery_rate_excludes_client_cancellations(tenant_a):
    """Sessions starting in March: 4 delivered, 1 cancelled by the provider, 1 confirmed but never delivered
    (ended long before as_of), 1 cancelled by the client (excluded). 4 / 6 = 66.666… → 66.67. A session
    starting 31 Mar 23:30 UTC = 1 Apr 00:30 BST is April's."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("session_delivery_rate"))
        delivered = [session(engagement, starts_at=utc(day), status=SessionStatus.DELIVERED) for day in (2, 3, 4, 5)]
        provider_cancelled = session(engagement, starts_at=utc(9), status=SessionStatus.CANCELLED)
        undelivered = session(engagement, starts_at=utc(10))
        session(engagement, starts_at=utc(11), status=SessionStatus.CANCELLED, cancelled_by=Side.CLIENT)
        session(engagement, starts_at=utc(31, 23, 30), status=SessionStatus.DELIVERED)

        m = measured(engagement, "2026-03", AFTER_GRACE)["session_delivery_rate"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("66.67"), 4, 6)
    assert counted_items(m) == outcomes(met=delivered, failed=(provider_cancelled, undelivered))


def test_session_delivery_rate_is_pending_for_a_session_not_yet_ended(tenant_a):
    """As of 20 Mar 12:00 UTC: delivered on 2 Mar (met), confirmed on 3 Mar but not delivered (failed), confirmed
    for 20 Mar 11:00–14:00 (still running: pending) and for 25 Mar (pending). 1 / 2 = 50.00, 2 pending."""
    now = utc(20, 12)
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("session_delivery_rate"))
        delivered = session(engagement, starts_at=utc(2), status=SessionStatus.DELIVERED)
        missed = session(engagement, starts_at=utc(3))
        running = session(engagement, starts_at=utc(20, 11))
        upcoming = session(engagement, starts_at=utc(25))

        m = measured(engagement, "2026-03", now)["session_delivery_rate"]

    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("50.00"), 1, 2, 2)
    assert m.as_of == now
    assert counted_items(m) == outcomes(met=(delivered,), failed=(missed,), pending=(running, upcoming))


def test_enrollment_processing_counts_business_days_over_the_weekend(tenant_a):
    """N = 2 business days after the request's local date, ending 23:59:59.999999 local:
    - requested Mon 2 Mar, processed Wed 4 Mar 23:59:59: met (due end of Wed 4 Mar);
    - requested Fri 6 Mar 17:00, processed Tue 10 Mar 09:00: met (Mon 9, Tue 10);
    - requested Fri 6 Mar 17:00, processed Wed 11 Mar 00:00: failed;
    - requested Thu 12 Mar, never processed (due end of Mon 16 Mar): failed.
    2 / 4 = 50.00. Another engagement's late enrollment is not counted."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("enrollment_processing", threshold=2))
        other = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
        course_session = session(engagement, starts_at=utc(20, month=4))
        same_week = enrollment(course_session, utc(2, 10), utc(4, 23, 59, 59))
        over_weekend = enrollment(course_session, utc(6, 17), utc(10))
        midnight_late = enrollment(course_session, utc(6, 17), utc(11, 0))
        never = enrollment(course_session, utc(12))
        enrollment(session(other, starts_at=utc(20, month=4)), utc(2), utc(20))

        m = measured(engagement, "2026-03", AFTER_GRACE)["enrollment_processing"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("50.00"), 2, 4)
    assert counted_items(m) == outcomes(met=(same_week, over_weekend), failed=(midnight_late, never))


def test_completion_reporting_timeliness_includes_self_paced_completions_of_delivered_courses(tenant_a):
    """N = 5 business days: completed Mon 2 Mar 15:00 and recorded Mon 9 Mar (3,4,5,6,9): met; recorded Tue 10 Mar:
    failed; completed and recorded Fri 20 Mar: met; self-paced (no session) completion of a course the engagement
    delivers, recorded the next day: met. A self-paced completion of a course it never delivered is not its.
    3 / 4 = 75.00."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("completion_reporting_timeliness", threshold=5))
        delivered = session(engagement, starts_at=utc(2), status=SessionStatus.DELIVERED)
        fifth_day = completion(delivered, utc(2, 15), utc(9, 12))
        sixth_day = completion(delivered, utc(2, 15), utc(10, 8))
        same_day = completion(delivered, utc(20, 16), utc(20, 17))
        self_paced = Completion.objects.create(
            organization=engagement.organization,
            learner=learner(engagement),
            course=delivered.course,
            completed_at=utc(23),
            recorded_at=utc(24),
        )
        Completion.objects.create(
            organization=engagement.organization,
            learner=learner(engagement),
            course=course(engagement),
            completed_at=utc(23),
            recorded_at=utc(30),
        )

        m = measured(engagement, "2026-03", AFTER_GRACE)["completion_reporting_timeliness"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("75.00"), 3, 4)
    assert counted_items(m) == outcomes(met=(fifth_day, same_day, self_paced), failed=(sixth_day,))


def test_mandatory_training_on_time_compares_local_dates(tenant_a):
    """Assignments due in March of a requirement met by a course the engagement delivers:
    - due 10 Mar, completed 10 Mar 23:30 GMT: met; completed 11 Mar 00:00:01: failed;
    - due 30 Mar (BST), completed 30 Mar 22:30 UTC = 23:30 BST: met; completed 30 Mar 23:30 UTC = 31 Mar 00:30
      BST: failed although its UTC date is the due date;
    - due 20 Mar, never completed: failed.
    2 / 5 = 40.00. An assignment due in April, and one of a requirement whose course this engagement never
    delivers, are not counted."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("mandatory_training_on_time"))
        required = requirement(session(engagement, starts_at=utc(2)).course)
        elsewhere = requirement(course(engagement), name="Fire safety")
        on_the_day = assignment(required, date(2026, 3, 10), utc(10, 23, 30), engagement=engagement)
        next_day = assignment(required, date(2026, 3, 10), utc(11, 0, 0, 1), engagement=engagement)
        bst_evening = assignment(required, date(2026, 3, 30), utc(30, 22, 30), engagement=engagement)
        bst_after_midnight = assignment(required, date(2026, 3, 30), utc(30, 23, 30), engagement=engagement)
        never = assignment(required, date(2026, 3, 20), engagement=engagement)
        assignment(required, date(2026, 4, 1), engagement=engagement)
        assignment(elsewhere, date(2026, 3, 10), engagement=engagement)

        m = measured(engagement, "2026-03", AFTER_GRACE)["mandatory_training_on_time"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("40.00"), 2, 5)
    assert counted_items(m) == outcomes(met=(on_the_day, bst_evening), failed=(next_day, bst_after_midnight, never))


def test_mandatory_training_relief_excludes_assignments_due_on_relief_days(tenant_a):
    """Approved relief on 10 Mar for mandatory training (the anchor is the due date): the uncompleted assignment
    due 10 Mar is excluded; due 9 Mar and completed: met; due 11 Mar and never completed: failed. 1 / 2 = 50.00."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("mandatory_training_on_time"))
        required = requirement(session(engagement, starts_at=utc(2)).course)
        done = assignment(required, date(2026, 3, 9), utc(9, 12), engagement=engagement)
        assignment(required, date(2026, 3, 10), engagement=engagement)
        missed = assignment(required, date(2026, 3, 11), engagement=engagement)
        relief(engagement, tenant_a, date(2026, 3, 10), date(2026, 3, 10), ("mandatory_training_on_time",))

        m = measured(engagement, "2026-03", AFTER_GRACE)["mandatory_training_on_time"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("50.00"), 1, 2)
    assert counted_items(m) == outcomes(met=(done,), failed=(missed,))


def test_assessment_pass_rate_counts_first_attempts_only(tenant_a):
    """First attempts in March on courses the engagement delivers: failed (its passed second attempt ignored),
    passed, passed, passed: 3 / 4 = 75.00. A first attempt on a course not delivered here and a February first
    attempt are not counted."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("assessment_pass_rate"))
        delivered = session(engagement, starts_at=utc(2)).course
        retaker = learner(engagement)
        first_failed = attempt(delivered, utc(3), passed=False, learner_=retaker)
        attempt(delivered, utc(10), passed=True, learner_=retaker, attempt_number=2)
        passes = [attempt(delivered, utc(day), passed=True, engagement=engagement) for day in (4, 5, 6)]
        attempt(course(engagement), utc(4), passed=False, engagement=engagement)
        attempt(delivered, utc(27, month=2), passed=False, engagement=engagement)

        m = measured(engagement, "2026-03", AFTER_GRACE)["assessment_pass_rate"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("75.00"), 3, 4)
    assert counted_items(m) == outcomes(met=passes, failed=(first_failed,))


def test_content_freshness_counts_regulated_delivered_courses_reviewed_within_r_days(tenant_a):
    """R = 365 at March's end (1 Apr 2026): reviewed on or after 1 Apr 2025. Regulated courses delivered here,
    reviewed 2025-04-01 (met, the boundary), 2025-03-31 (failed), never (failed), 2026-01-15 (met): 2 / 4 = 50.00.
    An unregulated stale course and a regulated course this engagement never delivers are not counted."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("content_freshness", threshold=365))

        def delivered(reviewed: date | None, *, regulated: bool = True) -> object:
            return session(
                engagement,
                starts_at=utc(2),
                course_=course(engagement, regulated=regulated, last_reviewed_on=reviewed),
            ).course

        boundary = delivered(date(2025, 4, 1))
        day_before = delivered(date(2025, 3, 31))
        never = delivered(None)
        recent = delivered(date(2026, 1, 15))
        delivered(date(2020, 1, 1), regulated=False)
        course(engagement, regulated=True, last_reviewed_on=date(2020, 1, 1))

        m = measured(engagement, "2026-03", AFTER_GRACE)["content_freshness"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("50.00"), 2, 4)
    assert counted_items(m) == outcomes(met=(boundary, recent), failed=(day_before, never))


def test_content_freshness_judges_each_course_by_its_review_interval_never_longer_than_r(tenant_a):
    """R = 365 at March's end (1 Apr 2026). Each course's window is the shorter of its review_interval_days and R:
    - every 180 days, reviewed 2025-10-03: 1 Apr 2026 − 180 days = 3 Oct 2025, on the boundary: met;
    - every 180 days, reviewed 2025-10-02: a day too early: failed (R alone would have passed it);
    - every 90 days, reviewed 2026-01-01: 1 Apr − 90 days = 1 Jan 2026: met;
    - every 730 days, reviewed 2025-03-31: capped at R, so on or after 1 Apr 2025 is needed: failed;
    - every 730 days, reviewed 2025-04-01: met.
    3 / 5 = 60.00."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("content_freshness", threshold=365))

        def delivered(reviewed: date, interval: int) -> object:
            reviewed_course = course(
                engagement, regulated=True, last_reviewed_on=reviewed, review_interval_days=interval
            )
            return session(engagement, starts_at=utc(2), course_=reviewed_course).course

        half_year_boundary = delivered(date(2025, 10, 3), 180)
        half_year_late = delivered(date(2025, 10, 2), 180)
        quarterly = delivered(date(2026, 1, 1), 90)
        biennial_capped = delivered(date(2025, 3, 31), 730)
        biennial_within_r = delivered(date(2025, 4, 1), 730)

        m = measured(engagement, "2026-03", AFTER_GRACE)["content_freshness"]

    assert (m.value, m.numerator, m.denominator) == (Decimal("60.00"), 3, 5)
    assert counted_items(m) == outcomes(
        met=(half_year_boundary, quarterly, biennial_within_r), failed=(half_year_late, biennial_capped)
    )


@pytest.mark.parametrize(
    ("relief_days", "expected_value", "counted"),
    [
        # Relief 10–12 Mar does not cover the period end: both courses count, 1 / 2 = 50.00 (the course reviewed
        # on 11 Mar is fresh, whatever the relief says about that day).
        ((date(2026, 3, 10), date(2026, 3, 12)), Decimal("50.00"), True),
        # Relief over 31 Mar, the day the freshness is judged: nothing is measured.
        ((date(2026, 3, 30), date(2026, 3, 31)), None, False),
    ],
)
def test_content_freshness_relief_applies_to_the_period_end(tenant_a, relief_days, expected_value, counted):
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("content_freshness", threshold=365))
        reviewed_in_relief = course(engagement, regulated=True, last_reviewed_on=date(2026, 3, 11))
        stale = course(engagement, regulated=True, last_reviewed_on=date(2024, 1, 1))
        for item in (reviewed_in_relief, stale):
            session(engagement, starts_at=utc(2), course_=item)
        relief(engagement, tenant_a, *relief_days, metrics=("content_freshness",))

        m = measured(engagement, "2026-03", AFTER_GRACE)["content_freshness"]

    assert m.value == expected_value
    assert counted_items(m) == (outcomes(met=(reviewed_in_relief,), failed=(stale,)) if counted else outcomes())


def test_change_request_response_uses_the_change_request_deadline(tenant_a):
    """N = 10 business days (the MSA's, which also sets respond_by when a CR is submitted):
    - submitted Mon 2 Mar: respond_by = end of Mon 16 Mar; answered exactly then: met; 1 µs later: failed;
    - submitted Tue 3 Mar, unanswered (respond_by end of Tue 17 Mar): failed;
    - submitted Tue 24 Mar, unanswered: respond_by end of Thu 9 Apr BST (Good Friday and Easter Monday skipped),
      after as_of: pending.
    1 / 3 = 33.33, 1 pending. A draft (never submitted) is not counted."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("change_request_response", threshold=10))
        deadline = datetime(2026, 3, 16, 23, 59, 59, 999999, tzinfo=UTC)
        on_deadline = change_request(engagement, tenant_a, utc(2, 10), responded_at=deadline)
        just_late = change_request(engagement, tenant_a, utc(2, 11), responded_at=deadline + MICROSECOND)
        unanswered = change_request(engagement, tenant_a, utc(3, 10))
        open_ = change_request(engagement, tenant_a, utc(24, 10))
        draft = change_request(engagement, tenant_a, utc(5))
        ChangeRequest.objects.filter(pk=draft.pk).update(
            status=ChangeRequestStatus.DRAFT, submitted_at=None, respond_by=None, responded_at=None
        )

        m = measured(engagement, "2026-03", AFTER_GRACE)["change_request_response"]

    assert (on_deadline.respond_by, just_late.respond_by) == (deadline, deadline)
    assert open_.respond_by == datetime(2026, 4, 9, 23, 59, 59, 999999, tzinfo=LONDON)
    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("33.33"), 1, 3, 1)
    assert counted_items(m) == outcomes(met=(on_deadline,), failed=(just_late, unanswered), pending=(open_,))


# --- Pending vs failed at as_of (SPEC-SLA §2) ----------------------------------------------------------------


def test_hours_threshold_unresolved_before_deadline_is_pending(tenant_a):
    """As of Fri 20 Mar 12:00 UTC, H = 8:
    - opened 19 Mar 10:00, answered 12:00: met;
    - opened 20 Mar 02:00, unanswered, due 10:00 (before as_of): failed;
    - opened 20 Mar 08:00, unanswered, due 16:00: pending;
    - opened 20 Mar 06:00, answered 13:00 (after as_of, before the 14:00 deadline): pending, not yet known.
    1 / 2 = 50.00, 2 pending, excluded from both numerator and denominator."""
    now = utc(20, 12)
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("support_first_response", threshold=8))
        answered = ticket(engagement, utc(19, 10), utc(19, 12))
        overdue = ticket(engagement, utc(20, 2))
        open_ = ticket(engagement, utc(20, 8))
        answered_later = ticket(engagement, utc(20, 6), utc(20, 13))

        m = measured(engagement, "2026-03", now)["support_first_response"]

    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("50.00"), 1, 2, 2)
    assert m.as_of == now
    assert counted_items(m) == outcomes(met=(answered,), failed=(overdue,), pending=(open_, answered_later))


def test_business_day_threshold_unresolved_before_deadline_is_pending(tenant_a):
    """As of Wed 25 Mar 12:00 UTC, N = 2: requested Mon 23 Mar and processed Tue 24 Mar: met; requested Fri 20 Mar,
    unprocessed, due end of Tue 24 Mar: failed; requested Mon 23 Mar, unprocessed, due end of Wed 25 Mar: pending.
    1 / 2 = 50.00, 1 pending."""
    now = utc(25, 12)
    with tenant_a.scope():
        engagement, _ = sla_engagement(tenant_a, targets=targets("enrollment_processing", threshold=2))
        course_session = session(engagement, starts_at=utc(20, month=4))
        processed = enrollment(course_session, utc(23), utc(24))
        overdue = enrollment(course_session, utc(20))
        due_tonight = enrollment(course_session, utc(23))

        m = measured(engagement, "2026-03", now)["enrollment_processing"]

    assert (m.value, m.numerator, m.denominator, m.pending) == (Decimal("50.00"), 1, 2, 1)
    assert counted_items(m) == outcomes(met=(processed,), failed=(overdue,), pending=(due_tonight,))


# --- Relief (SPEC-SLA §2) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metrics", "approve", "support", "delivery"),
    [
        # Relief for support_first_response only: k2, k3 (10–11 Mar GMT) and k5 (30 Mar 00:30 BST) excluded:
        # met k4, k6, k7, failed k1 → 3 / 4 = 75.00; both sessions still count → 1 / 2 = 50.00.
        (("support_first_response",), True, ("75.00", 3, 4), ("50.00", 1, 2)),
        # Relief for every metric: the same tickets excluded, and both sessions (10 and 11 Mar) too.
        ((), True, ("75.00", 3, 4), (None, 0, 0)),
        # Requested but not approved: nothing excluded, 3 / 7 = 42.857… → 42.86.
        ((), False, ("42.86", 3, 7), ("50.00", 1, 2)),
    ],
)
def test_relief_excludes_items_anchored_on_relief_days(tenant_a, metrics, approve, support, delivery):
    """Relief on 10–11 Mar and on 30 Mar (local dates). Tickets, H = 8:
    k1 9 Mar 23:59 unanswered; k2 10 Mar 00:00 unanswered; k3 11 Mar 23:59 unanswered; k4 12 Mar 00:00 answered
    at 01:00; k5 29 Mar 23:30 UTC = 30 Mar 00:30 BST unanswered; k6 30 Mar 23:30 UTC = 31 Mar 00:30 BST answered
    at 23:45 UTC; k7 29 Mar 22:30 UTC = 29 Mar 23:30 BST answered at 23:00 UTC.
    Sessions: delivered on 10 Mar, cancelled by the provider on 11 Mar."""
    with tenant_a.scope():
        engagement, _ = sla_engagement(
            tenant_a, targets=targets("support_first_response", "session_delivery_rate", threshold=None)
        )
        k1 = ticket(engagement, utc(9, 23, 59))
        k2 = ticket(engagement, utc(10, 0))
        k3 = ticket(engagement, utc(11, 23, 59))
        k4 = ticket(engagement, utc(12, 0), utc(12, 1))
        k5 = ticket(engagement, utc(29, 23, 30))
        k6 = ticket(engagement, utc(30, 23, 30), utc(30, 23, 45))
        k7 = ticket(engagement, utc(29, 22, 30), utc(29, 23))
        delivered = session(engagement, starts_at=utc(10, 12), status=SessionStatus.DELIVERED)
        cancelled = session(engagement, starts_at=utc(11, 12), status=SessionStatus.CANCELLED)
        relief(engagement, tenant_a, date(2026, 3, 10), date(2026, 3, 11), metrics, approve=approve)
        relief(engagement, tenant_a, date(2026, 3, 30), date(2026, 3, 30), metrics, approve=approve)

        results = measured(engagement, "2026-03", AFTER_GRACE)

    first_response, delivery_rate = results["support_first_response"], results["session_delivery_rate"]
    assert (str(first_response.value), first_response.numerator, first_response.denominator) == support
    excluded = () if approve else (k2, k3, k5)
    assert counted_items(first_response) == outcomes(met=(k4, k6, k7), failed=(k1, *excluded))
    value = delivery_rate.value if delivery_rate.value is None else str(delivery_rate.value)
    assert (value, delivery_rate.numerator, delivery_rate.denominator) == delivery
    counted = delivery_rate.denominator > 0
    assert counted_items(delivery_rate) == (outcomes(met=(delivered,), failed=(cancelled,)) if counted else outcomes())
