"""Writes of the SLA engine: schedules and targets, measuring periods, finalizing them into breaches, service
credits, earn-backs and escalations (SPEC-SLA §2–5), relief events and manual measurements.

Finalizing is idempotent and safe to run concurrently: the period row is locked (`SELECT … FOR UPDATE`), a
finalized period is left alone, and every derived row has a unique constraint. Events for webhooks are audit
events (`breach.created`, `credit.issued`, `credit.earned_back`, `escalation.created`) written in the same
transaction (the outbox a webhook dispatcher replays) and announced through `mls.events` after the commit,
so nothing is announced that did not commit.
"""

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from engagements.enums import MeetingKind
from engagements.models import Engagement, GovernanceMeeting
from engagements.services import acting_side, claim_for_review, open_dispute
from mls import formatting
from mls.audit import record_event, save_audited
from mls.enums import Permission, roles_with
from mls.events import emit_after_commit
from mls.models import Membership, User
from mls.services import notify

from . import arithmetic
from .catalog import METRICS, Kind
from .enums import CreditStatus, EscalationLevel, ManualStatus, MeasurementStatus, PeriodStatus, ReliefStatus
from .metrics import MetricContext, MetricResult, measure
from .models import (
    Breach,
    Escalation,
    ManualMeasurement,
    Measurement,
    ReliefEvent,
    ServiceCredit,
    SlaPeriod,
    SlaSchedule,
    SlaTarget,
)
from .periods import Period, months_between
from .selectors import approved_relief, may_decide_relief, monthly_fee, schedule_of

MEASUREMENT_FIELDS = (
    "target",
    "target_value",
    "value",
    "numerator",
    "denominator",
    "pending",
    "status",
    "meets_target",
    "as_of",
    "inputs",
    "finalized",
    "computed_at",
)
REVIEW_BUSINESS_DAYS = 10  # SPEC-SLA §5: a performance review meeting within 10 business days


# --- Schedules and targets ---------------------------------------------------------------------------


@transaction.atomic
def create_schedule(*, engagement: Engagement, actor: User, **fields: Any) -> SlaSchedule:
    """The engagement's SLA terms, the escalation ladder included (it lives on the schedule only)."""
    if SlaSchedule.objects.filter(engagement=engagement).exists():
        message = _("%(engagement)s already has an SLA schedule: change that one.")
        raise ValidationError({"engagement": message % {"engagement": engagement}})
    schedule = SlaSchedule(organization=engagement.organization, engagement=engagement, **fields)
    return save_audited(schedule, actor=actor, action="sla_schedule.created", changes={})


@transaction.atomic
def update_schedule(*, schedule: SlaSchedule, actor: User, **fields: Any) -> SlaSchedule:
    # Reread: audit the stored values (12.00), not the typed ones ("12").
    return save_audited(schedule, actor=actor, action="sla_schedule.updated", changes=fields, reread=True)


def _check_no_overlap(target: SlaTarget) -> None:
    overlapping = SlaTarget.objects.filter(schedule=target.schedule_id, metric=target.metric).exclude(pk=target.pk)
    if target.active_to:
        overlapping = overlapping.filter(active_from__lte=target.active_to)
    overlapping = overlapping.filter(Q(active_to__isnull=True) | Q(active_to__gte=target.active_from))
    if overlapping.exists():
        raise ValidationError({"active_from": _("This metric already has a target in force for these dates.")})


@transaction.atomic
def save_target(*, schedule: SlaSchedule, actor: User, existing: SlaTarget | None = None, **fields: Any) -> SlaTarget:
    """Add a target, or change the `existing` one; the threshold defaults to the catalog's."""
    target = existing or SlaTarget(organization=schedule.organization, schedule=schedule)
    for name, value in fields.items():
        setattr(target, name, value)
    metric = METRICS.get(target.metric)
    if target.metric == "change_request_response" and target.threshold is None:
        # SPEC-SLA §3: N comes from the MSA, so the SLA and each change request's respond_by agree by default.
        target.threshold = schedule.engagement.cr_response_business_days
    elif metric and metric.threshold_unit and target.threshold is None:
        target.threshold = metric.default_threshold
    target.full_clean()
    _check_no_overlap(target)
    target.save()
    target.refresh_from_db()  # audit the stored values, as the "before" has them
    action = "sla_target.updated" if existing else "sla_target.created"
    target.log_action(action, actor=actor)
    return target


# --- Measuring a period ------------------------------------------------------------------------------


def _period_row(engagement: Engagement, period: Period) -> SlaPeriod:
    row, _ = SlaPeriod.objects.get_or_create(
        organization=engagement.organization, engagement=engagement, month=period.month
    )
    return row


def _locked_period(engagement: Engagement, period: Period) -> SlaPeriod:
    """The period row, created if needed (outside the caller's lock) and then locked for this transaction."""
    row = _period_row(engagement, period)
    return SlaPeriod.objects.select_for_update().get(pk=row.pk)


def assess(result: MetricResult, target: SlaTarget, *, final: bool) -> tuple[str, bool | None]:
    """SPEC-SLA §2: the measurement's status, and whether its value meets the target (None: not judged)."""
    enough = result.value is not None and result.sample >= target.min_sample and not result.awaiting_verification
    meets = METRICS[target.metric].meets(result.value, target.target) if enough else None
    if not final:
        return MeasurementStatus.PROVISIONAL, meets
    if result.awaiting_verification:
        return MeasurementStatus.PENDING_VERIFICATION, None
    if meets is None:
        return MeasurementStatus.INSUFFICIENT_DATA, None
    return (MeasurementStatus.MET if meets else MeasurementStatus.BREACHED), meets


def schedule_required(engagement: Engagement) -> SlaSchedule:
    schedule = schedule_of(engagement)
    if schedule is None:
        raise ValidationError(_("%(engagement)s has no SLA schedule yet.") % {"engagement": engagement})
    return schedule


def _measure(
    engagement: Engagement, schedule: SlaSchedule, row: SlaPeriod, as_of: datetime, *, final: bool
) -> list[Measurement]:
    """Measure every target in force for the period, in a constant number of queries, and upsert the rows. Only
    the final measurement keeps the item ids (SPEC-SLA §2 snapshot); an open period's items are read live."""
    period = Period(row.month, engagement.timezone)
    targets = [t for t in schedule.targets.all() if t.applies_to(period.month, period.next_month)]
    manual = ManualMeasurement.objects.filter(engagement=engagement, month=period.month).exclude(
        status=ManualStatus.DISPUTED
    )
    context = MetricContext(
        engagement=engagement,
        period=period,
        as_of=as_of,
        relief=tuple(approved_relief(engagement, period)),
        manual={m.metric: m for m in manual},
        with_items=final,
    )
    computed_at = timezone.now()
    results = [(target, measure(target.metric, context, target.threshold)) for target in targets]
    rows = []
    for target, result in results:
        status, meets = assess(result, target, final=final)
        rows.append(
            Measurement(
                organization=engagement.organization,
                engagement=engagement,
                period=row,
                metric=target.metric,
                target=target,
                target_value=target.target,
                value=result.value,
                numerator=result.numerator,
                denominator=result.denominator,
                pending=result.pending,
                status=status,
                meets_target=meets,
                as_of=as_of,
                inputs=result.inputs,
                finalized=final,
                computed_at=computed_at,
            )
        )
    Measurement.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["organization", "engagement", "period", "metric"],
        update_fields=list(MEASUREMENT_FIELDS),
    )
    return rows


@transaction.atomic
def compute_period(
    *, engagement: Engagement, period: Period, now: datetime | None = None, schedule: SlaSchedule | None = None
) -> SlaPeriod:
    """Recompute a provisional period as of now (hourly); a finalized period is left as it is."""
    now = now or timezone.now()
    schedule = schedule or schedule_required(engagement)
    row = _locked_period(engagement, period)
    if row.is_finalized:
        return row
    row.as_of = period.as_of(now, schedule.grace_days)
    row.computed_at = now
    _measure(engagement, schedule, row, row.as_of, final=False)
    row.save(update_fields=["as_of", "computed_at"])
    return row


def _check_previous_finalized(engagement: Engagement, period: Period) -> None:
    earlier = engagement.sla_periods.filter(month__lt=period.month, status=PeriodStatus.PROVISIONAL).first()
    if earlier is not None:
        message = _("Finalize %(month)s first: periods close in order.")
        raise ValidationError(message % {"month": f"{earlier.month:%Y-%m}"})


@transaction.atomic
def finalize_period(
    *, engagement: Engagement, period: Period, now: datetime | None = None, schedule: SlaSchedule | None = None
) -> SlaPeriod:
    """Close a period after its grace days: final measurements, breaches, credits, earn-backs, escalations.

    Running it again, or in two workers at once, changes nothing: the second caller waits for the lock and then
    finds the period finalized.
    """
    now = now or timezone.now()
    schedule = schedule or schedule_required(engagement)
    closes_at = period.closes_at(schedule.grace_days)
    if now < closes_at:
        message = _("%(period)s stays provisional until %(closes_at)s (grace days).")
        raise ValidationError(message % {"period": period, "closes_at": f"{closes_at:%Y-%m-%d %H:%M %Z}"})
    row = _locked_period(engagement, period)
    if row.is_finalized:
        return row
    _check_previous_finalized(engagement, period)
    measurements = _measure(engagement, schedule, row, closes_at, final=True)
    row.monthly_fee, lines = monthly_fee(engagement, period)
    row.fee_lines = [
        {"name": line.name, "basis": line.basis, "amount": str(line.amount), "detail": line.detail} for line in lines
    ]
    row.at_risk_percent = schedule.at_risk_percent
    row.at_risk = arithmetic.at_risk_amount(row.monthly_fee, row.at_risk_percent)
    row.status, row.as_of, row.computed_at, row.finalized_at = PeriodStatus.FINALIZED, closes_at, now, now
    row.save()
    breached = (
        Measurement.objects.filter(period=row, status=MeasurementStatus.BREACHED)
        .select_related("target")
        .defer("inputs")
    )
    breaches = _record_breaches(engagement, row, list(breached))
    credits = _issue_credits(engagement, row, breaches)
    history = _outcomes_by_metric(engagement, schedule)  # every finalized period, this one included
    earned_back = _earn_back(engagement, schedule, row, history)
    escalations = _escalate(engagement, schedule, row, history, len(breaches))
    _announce(engagement, row, measurements, credits, earned_back, escalations)
    return row


def _record_breaches(engagement: Engagement, row: SlaPeriod, measurements: list[Measurement]) -> list[Breach]:
    breaches = Breach.objects.bulk_create(
        Breach(organization=engagement.organization, engagement=engagement, period=row, metric=m.metric, measurement=m)
        for m in measurements
    )
    for breach in breaches:
        event = record_event(
            organization=engagement.organization,
            actor=None,
            action="breach.created",
            obj=breach,
            after={
                "engagement": engagement.pk,
                "period": f"{row.month:%Y-%m}",
                "metric": breach.metric,
                "value": str(breach.measurement.value),
                "target": str(breach.measurement.target_value),
            },
        )
        emit_after_commit(event)
    return breaches


def _issue_credits(engagement: Engagement, row: SlaPeriod, breaches: list[Breach]) -> list[ServiceCredit]:
    """SPEC-SLA §4: each breach's credit from the period's at-risk amount, capped with a proportional split."""
    allocations = {breach.metric: breach.measurement.target.allocation_percent for breach in breaches}
    split = arithmetic.service_credits(row.at_risk, allocations)
    credits = ServiceCredit.objects.bulk_create(
        ServiceCredit(
            organization=engagement.organization,
            engagement=engagement,
            period=row,
            metric=breach.metric,
            breach=breach,
            allocation_percent=allocations[breach.metric],
            amount=split.amounts[breach.metric],
            currency=engagement.currency,
            capped=split.capped,
        )
        for breach in breaches
    )
    for credit in credits:
        emit_after_commit(credit.log_action("credit.issued", actor=None))
    return credits


Outcomes = dict[str, list[arithmetic.PeriodOutcome]]  # metric → its finalized periods in order


def _outcomes_by_metric(engagement: Engagement, schedule: SlaSchedule) -> Outcomes:
    history: dict[str, list[arithmetic.PeriodOutcome]] = defaultdict(list)
    finalized = (
        Measurement.objects.filter(engagement=engagement, finalized=True).select_related("period").defer("inputs")
    )
    for m in finalized.order_by("period__month"):
        beats = m.status == MeasurementStatus.MET and METRICS[m.metric].meets(
            m.value, m.target_value, margin=schedule.earn_back_margin
        )
        history[m.metric].append(arithmetic.PeriodOutcome(m.period.month, m.status, beats))
    return history


def _earn_back(engagement: Engagement, schedule: SlaSchedule, row: SlaPeriod, history: Outcomes) -> list[ServiceCredit]:
    """SPEC-SLA §5: issued credits whose metric has now been met (by the margin) in K measured periods."""
    if not schedule.earn_back_enabled:
        return []
    earned = []
    for credit in ServiceCredit.objects.filter(engagement=engagement, status=CreditStatus.ISSUED).select_related(
        "period"
    ):
        later = [outcome for outcome in history[credit.metric] if outcome.month > credit.period.month]
        if arithmetic.earned_back_in(later, schedule.earn_back_periods) != row.month:
            continue
        credit.status = CreditStatus.EARNED_BACK
        credit.earned_back_period, credit.earned_back_at = row, row.finalized_at
        credit.save(update_fields=["status", "earned_back_period", "earned_back_at"])
        emit_after_commit(credit.log_action("credit.earned_back", actor=None))
        earned.append(credit)
    return earned


def _escalate(
    engagement: Engagement, schedule: SlaSchedule, row: SlaPeriod, history: Outcomes, breach_count: int
) -> list[Escalation]:
    """SPEC-SLA §5: rungs first reached in this period, plus the engagement-level review for many breaches."""
    reached = [
        (metric, rung.level, rung.breaches)
        for metric, outcomes in history.items()
        for rung in arithmetic.escalation_ladder(outcomes, schedule.formal_review_after, schedule.exit_right_after)
        if rung.month == row.month
    ]
    if breach_count >= schedule.critical_breach_count:
        reached.append(("", EscalationLevel.FORMAL_REVIEW, breach_count))
    escalations = []
    for metric, level, breaches in reached:
        escalation, created = Escalation.objects.get_or_create(
            organization=engagement.organization,
            engagement=engagement,
            period=row,
            metric=metric,
            level=level,
            defaults={"breaches": breaches, "created_at": row.finalized_at},
        )
        if created:
            _act_on(escalation)
            escalations.append(escalation)
    return escalations


def _act_on(escalation: Escalation) -> None:
    """A notice gives the provider a response deadline; a formal review books a performance review meeting."""
    engagement = escalation.engagement
    calendar = engagement.calendar
    if escalation.level == EscalationLevel.NOTICE:
        escalation.respond_by = calendar.deadline_after(escalation.created_at, engagement.cr_response_business_days)
    elif escalation.level == EscalationLevel.FORMAL_REVIEW:
        escalation.meeting = _book_performance_review(escalation)
    escalation.save()
    emit_after_commit(escalation.log_action("escalation.created", actor=None))


def _book_performance_review(escalation: Escalation) -> GovernanceMeeting:
    """The review meeting of a formal review, REVIEW_BUSINESS_DAYS after it. A period that reaches several formal
    reviews (a metric's and the whole engagement's) books one meeting whose agenda names each, not identical
    meetings side by side: the same engagement, kind and time is the same meeting."""
    engagement, calendar = escalation.engagement, escalation.engagement.calendar
    day = calendar.add_business_days(calendar.local_date(escalation.created_at), REVIEW_BUSINESS_DAYS)
    subject = METRICS[escalation.metric].name if escalation.metric else _("several SLA targets")
    words = {"subject": subject, "month": date_format(escalation.period.month, "F Y"), "breaches": escalation.breaches}
    item = _("%(subject)s breached in %(month)s (%(breaches)s).") % words
    agenda = _("Formal performance review: %(item)s The provider presents a remediation plan.")
    meeting, created = GovernanceMeeting.objects.select_for_update().get_or_create(
        organization=engagement.organization,
        engagement=engagement,
        kind=MeetingKind.PERFORMANCE_REVIEW,
        scheduled_for=datetime.combine(day, time(10), tzinfo=calendar.zone),
        held_at=None,
        defaults={"agenda": agenda % {"item": item}},
    )
    if not created and item not in meeting.agenda:
        meeting.agenda = meeting.agenda + "\n" + _("Also: %(item)s") % {"item": item}
        meeting.save(update_fields=["agenda"])
    return meeting


def _announce(
    engagement: Engagement,
    row: SlaPeriod,
    measurements: list[Measurement],
    credits: list[ServiceCredit],
    earned_back: list[ServiceCredit],
    escalations: list[Escalation],
) -> None:
    """Tell the client's SLA managers (owners, L&D directors, procurement) and the engagement's provider managers
    (in-app and email)."""
    recipients = User.objects.filter(
        Q(memberships__role__in=roles_with(Permission.MANAGE_SLAS)) | Q(memberships__provider=engagement.provider_id),
        memberships__organization=engagement.organization,
    ).distinct()
    breached = sum(1 for m in measurements if m.status == MeasurementStatus.BREACHED)
    total = sum((c.amount for c in credits), Decimal("0.00"))
    currency = engagement.currency
    lines = [
        ngettext(
            "%(measured)s target measured, %(breached)s breached.",
            "%(measured)s targets measured, %(breached)s breached.",
            len(measurements),
        )
        % {"measured": formatting.count(len(measurements)), "breached": formatting.count(breached)},
        _("Service credits: %(total)s.") % {"total": formatting.money(total, currency)},
    ]
    lines += [
        f"  {formatting.metric_label(credit.metric)}: {formatting.money(credit.amount, currency)}" for credit in credits
    ]
    if earned_back:
        earned = formatting.money(sum(c.amount for c in earned_back), currency)
        lines.append(_("Earned back: %(amount)s.") % {"amount": earned})
    lines += [_("Escalation: %(escalation)s.") % {"escalation": escalation} for escalation in escalations]
    notify(
        organization=engagement.organization,
        users=recipients,
        title=_("%(engagement)s: SLA results for %(month)s are final")
        % {"engagement": engagement.name, "month": date_format(row.month, "F Y")},
        body="\n".join(lines),
        url=reverse(
            "slas:engagement",
            kwargs={"organization_slug": engagement.organization.slug, "pk": engagement.pk},
        ),
    )


# --- Operating the engine ----------------------------------------------------------------------------


def sla_months(engagement: Engagement, schedule: SlaSchedule, now: datetime) -> list[Period]:
    """Months the schedule covers, from its first target to the current month (or the engagement's end)."""
    first = min((t.active_from for t in schedule.targets.all()), default=None)
    if first is None:
        return []
    today = timezone.localdate(now, engagement.calendar.zone)
    last = min(today, engagement.end_date)
    return [Period(month, engagement.timezone) for month in months_between(max(first, engagement.start_date), last)]


def recompute_open_periods(*, engagement: Engagement, now: datetime | None = None) -> list[SlaPeriod]:
    """The hourly job: refresh every period of the engagement that is not yet past its grace days."""
    now = now or timezone.now()
    schedule = schedule_required(engagement)
    return [
        compute_period(engagement=engagement, period=period, now=now, schedule=schedule)
        for period in sla_months(engagement, schedule, now)
        if now < period.closes_at(schedule.grace_days)
    ]


def finalize_due_periods(*, engagement: Engagement, now: datetime | None = None) -> list[SlaPeriod]:
    """The daily job: finalize, oldest first, every period whose grace days are over."""
    now = now or timezone.now()
    schedule = schedule_required(engagement)
    return [
        finalize_period(engagement=engagement, period=period, now=now, schedule=schedule)
        for period in sla_months(engagement, schedule, now)
        if period.closes_at(schedule.grace_days) <= now
    ]


# --- Relief and manual measurements -----------------------------------------------------------------


@transaction.atomic
def request_relief(*, engagement: Engagement, membership: Membership, **fields: Any) -> ReliefEvent:
    """Either side asks for relief; the client approves (a client request is approved at once when its author
    may approve relief)."""
    acting_side(membership, engagement)
    unknown = set(fields.get("metrics") or []) - set(METRICS)
    if unknown:
        raise ValidationError({"metrics": _("Unknown metrics: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}})
    relief = ReliefEvent(
        organization=engagement.organization, engagement=engagement, requested_by=membership.user, **fields
    )
    return save_audited(relief, actor=membership.user, action="relief.requested", changes={})


def check_decide_relief(membership: Membership, engagement: Engagement) -> None:
    """Only the client's approvers decide on relief (the page's buttons ask this too, as `relief.decide`)."""
    if not may_decide_relief(membership, engagement):
        raise ValidationError(_("Only the client's L&D director or an owner decides on relief."))


@transaction.atomic
def decide_relief(
    *, relief: ReliefEvent, membership: Membership, approve: bool, now: datetime | None = None
) -> ReliefEvent:
    """Only the client approves or rejects; periods already finalized are not reopened."""
    now = now or timezone.now()
    check_decide_relief(membership, relief.engagement)
    relief = ReliefEvent.objects.select_for_update().get(pk=relief.pk)
    if relief.status != ReliefStatus.REQUESTED:
        message = _("This relief request is already %(status)s.")
        raise ValidationError(message % {"status": relief.get_status_display().lower()})
    relief.status = ReliefStatus.APPROVED if approve else ReliefStatus.REJECTED
    relief.decided_by, relief.decided_at = membership.user, now
    relief.save()
    relief.log_action(f"relief.{relief.status}", actor=membership.user)
    return relief


@transaction.atomic
def submit_manual_measurement(
    *, engagement: Engagement, membership: Membership, month: date, metric: str, **fields: Any
) -> ManualMeasurement:
    if METRICS.get(metric) is None or METRICS[metric].kind != Kind.MANUAL:
        raise ValidationError({"metric": _("Only manual metrics take submitted values.")})
    side = acting_side(membership, engagement)
    if engagement.sla_periods.filter(month=month, status=PeriodStatus.FINALIZED).exists():
        message = _("%(month)s is finalized; its measurements no longer change.")
        raise ValidationError({"month": message % {"month": f"{month:%Y-%m}"}})
    manual = ManualMeasurement(
        organization=engagement.organization,
        engagement=engagement,
        month=month.replace(day=1),
        metric=metric,
        submitted_side=side,
        submitted_by=membership.user,
        **fields,
    )
    return save_audited(manual, actor=membership.user, action="manual_measurement.submitted", changes={})


def _reviewable(manual: ManualMeasurement, membership: Membership) -> ManualMeasurement:
    side = acting_side(membership, manual.engagement, approving=True)
    return claim_for_review(manual, side, ManualStatus.SUBMITTED)


@transaction.atomic
def verify_manual_measurement(
    *, manual: ManualMeasurement, membership: Membership, now: datetime | None = None
) -> ManualMeasurement:
    now = now or timezone.now()
    manual = _reviewable(manual, membership)
    manual.status, manual.reviewed_by, manual.reviewed_at = ManualStatus.VERIFIED, membership.user, now
    manual.save()
    manual.log_action("manual_measurement.verified", actor=membership.user)
    return manual


@transaction.atomic
def dispute_manual_measurement(
    *, manual: ManualMeasurement, membership: Membership, reason: str, now: datetime | None = None
) -> ManualMeasurement:
    """A disputed value never counts; it opens a dispute (SPEC-SLA §7) and the submitter may send a new one."""
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the value is disputed.")})
    manual = _reviewable(manual, membership)
    manual.dispute = open_dispute(
        engagement=manual.engagement,
        membership=membership,
        title=_("Disputed %(metric)s for %(month)s")
        % {"metric": METRICS[manual.metric].name_in_sentence, "month": date_format(manual.month, "F Y")},
        description=reason,
        now=now,
    )
    manual.status, manual.reviewed_by, manual.reviewed_at = ManualStatus.DISPUTED, membership.user, now
    manual.save()
    manual.log_action("manual_measurement.disputed", actor=membership.user)
    return manual
