"""Reads of the SLA engine: what a period's fee was (the base of the at-risk amount) and what the pages show."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum

from engagements import pricing
from engagements.models import Engagement
from engagements.selectors import engagements_for, fee_for_period
from mls.models import Membership
from scheduling.enums import EnrollmentStatus, SessionStatus
from scheduling.models import Attendance, Completion, Enrollment, Learner, Session

from .catalog import METRICS, RECOMMENDED_TARGET_COUNT
from .enums import ReliefStatus
from .models import Measurement, ServiceCredit, SlaPeriod, SlaSchedule, SlaTarget
from .periods import Period

HOUR = timedelta(hours=1)


def engagement_completions(engagement: Engagement, period: Period) -> QuerySet[Completion]:
    """Completions of the engagement's sessions, or (self-paced, no session) of a course it delivers."""
    delivered_courses = Session.objects.filter(engagement=engagement).values("course_id")
    return Completion.objects.filter(completed_at__gte=period.start, completed_at__lt=period.end).filter(
        Q(session__engagement=engagement) | Q(session__isnull=True, course_id__in=delivered_courses)
    )


def delivery_usage(engagement: Engagement, period: Period) -> pricing.Usage:
    """SPEC-SLA §6 usage of a month: billable learners (present at a session starting in the month, or a
    completion in it), delivered session hours, completions and live enrollments requested in the month."""
    sessions = Session.objects.filter(engagement=engagement, starts_at__gte=period.start, starts_at__lt=period.end)
    present = Attendance.objects.filter(
        enrollment__learner=OuterRef("pk"), present=True, enrollment__session__in=sessions
    )
    completions = engagement_completions(engagement, period)
    billable = Learner.objects.filter(Exists(present) | Exists(completions.filter(learner=OuterRef("pk")))).count()
    delivered = sessions.filter(status=SessionStatus.DELIVERED).aggregate(
        duration=Sum(ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField()))
    )["duration"]
    hours = Decimal((delivered or timedelta()) / HOUR).quantize(Decimal("0.01"))
    enrollments = (
        Enrollment.objects.filter(
            session__engagement=engagement, requested_at__gte=period.start, requested_at__lt=period.end
        )
        .exclude(status=EnrollmentStatus.CANCELLED)
        .count()
    )
    return pricing.Usage(
        billable_learners=billable,
        delivered_session_hours=hours,
        completions=completions.count(),
        enrollments=enrollments,
    )


def monthly_fee(engagement: Engagement, period: Period) -> tuple[Decimal, list[pricing.FeeLine]]:
    """The engagement's fee for the month: every SoW's itemized lines for the month's usage (SPEC-SLA §6)."""
    usage = delivery_usage(engagement, period)
    lines = [line for sow in engagement.sows.order_by("reference") for line in fee_for_period(sow, period.month, usage)]
    return sum((line.amount for line in lines), Decimal("0.00")), lines


def target_count_warning(schedule: SlaSchedule, on: date) -> str:
    """Too few or too many targets is allowed but flagged (seed 003: five to eight measures that matter)."""
    active = sum(1 for target in schedule.targets.all() if target.active_from <= on and (target.active_to or on) >= on)
    if active in RECOMMENDED_TARGET_COUNT:
        return ""
    return (
        f'{active} active targets. Apply the "three M\'s" (meaningful, measurable, modifiable) and focus on the '
        "five to eight measures that decide whether training runs at the level the organization needs."
    )


def sla_engagements_for(membership: Membership) -> QuerySet[Engagement]:
    return engagements_for(membership).prefetch_related("sla_schedules")


def schedule_of(engagement: Engagement) -> SlaSchedule | None:
    """The engagement's SLA schedule with its targets (one per engagement, a database constraint)."""
    return SlaSchedule.objects.filter(engagement=engagement).prefetch_related("targets").first()


def targets_of(schedule: SlaSchedule) -> list[SlaTarget]:
    return sorted(schedule.targets.all(), key=lambda target: (list(METRICS).index(target.metric), target.active_from))


@dataclass(frozen=True)
class Scorecard:
    """Metrics × months of one engagement, for the SLA page."""

    months: list[SlaPeriod]
    rows: list[tuple[str, list[Measurement | None]]]


def scorecard(engagement: Engagement, months: int = 6) -> Scorecard:
    periods = list(engagement.sla_periods.order_by("-month")[:months])[::-1]
    measurements = Measurement.objects.filter(engagement=engagement, period__in=periods).select_related("period")
    by_cell = {(m.metric, m.period_id): m for m in measurements}
    metrics = [key for key in METRICS if any((key, p.pk) in by_cell for p in periods)]
    return Scorecard(periods, [(key, [by_cell.get((key, p.pk)) for p in periods]) for key in metrics])


def credits_of(engagement: Engagement) -> QuerySet[ServiceCredit]:
    return ServiceCredit.objects.filter(engagement=engagement).select_related("period", "earned_back_period")


def approved_relief(engagement: Engagement, period: Period) -> QuerySet:
    return engagement.relief_events.filter(
        status=ReliefStatus.APPROVED, starts_on__lte=period.last_day, ends_on__gte=period.month
    )


def engagements_with_sla() -> QuerySet[Engagement]:
    """Engagements of the current scope that have an SLA schedule: what the hourly and daily jobs visit."""
    return Engagement.objects.filter(sla_schedules__isnull=False).order_by("pk")
