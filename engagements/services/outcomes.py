"""Outcome measurements of gain-share lines: one side submits a month's value, the other verifies or rejects it."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.enums import LineBasis, OutcomeStatus, VersionStatus
from engagements.models import Engagement, OutcomeMeasurement, ServiceLine
from engagements.selectors import outcome_lines_of, outcome_side, version_in_force
from mls.audit import save_audited
from mls.models import Membership

AGREED = (VersionStatus.SIGNED, VersionStatus.SUPERSEDED)


def check_submit_outcome(membership: Membership, engagement: Engagement) -> str:
    """The side submitting an outcome value of `engagement`, which needs an agreed gain-share line to value: public
    so the outcome page offers its button only when a submission can be made (mls/templatetags/actions.py)."""
    side = outcome_side(membership, engagement)
    if not outcome_lines_of(engagement).exists():
        raise ValidationError(_("This engagement has no signed gain-share line to record a value for."))
    return side


def _check_outcome_line(line: ServiceLine, month: date, today: date) -> None:
    """An outcome belongs to a gain-share line of the version in force that month, and to a month that has begun."""
    if line.basis != LineBasis.GAIN_SHARE:
        raise ValidationError(
            {"service_line": _("Only a gain-share line of an outcome-based SoW takes outcome values.")}
        )
    if line.version.status not in AGREED:
        raise ValidationError(
            {"service_line": _("This line is in a draft version: record outcomes once it is signed.")}
        )
    if month > today.replace(day=1):
        message = _("%(month)s has not begun: record its outcome once it is measured.")
        raise ValidationError({"month": message % {"month": f"{month:%Y-%m}"}})
    in_force = version_in_force(line.version.sow, month)
    if in_force is None or in_force.pk != line.version_id:
        found = _("version %(number)s") % {"number": in_force.number} if in_force else _("no agreed version")
        message = _("In %(month)s %(sow)s has %(found)s in force, not this line's version.")
        raise ValidationError(
            {"month": message % {"month": f"{month:%Y-%m}", "sow": line.version.sow.reference, "found": found}}
        )


@transaction.atomic
def submit_outcome_measurement(
    *,
    service_line: ServiceLine,
    membership: Membership,
    month: date,
    value: Decimal,
    evidence: str,
    now: datetime | None = None,
) -> OutcomeMeasurement:
    """Record a gain-share line's outcome value of a month, with its evidence; it counts once the other side
    verifies it. One live value per line and month: after a rejection the submitter sends a new one."""
    now = now or timezone.now()
    engagement = service_line.version.sow.engagement
    side = outcome_side(membership, engagement)
    month = month.replace(day=1)
    _check_outcome_line(service_line, month, timezone.localdate(now, timezone=engagement.calendar.zone))
    live = (
        OutcomeMeasurement.objects.select_for_update()
        .filter(service_line=service_line, month=month)
        .exclude(status=OutcomeStatus.REJECTED)
        .first()
    )
    if live is not None:
        raise ValidationError(
            {
                "month": _("%(line)s already has a value for %(month)s (%(status)s).")
                % {"line": service_line.name, "month": f"{month:%Y-%m}", "status": live.get_status_display()}
            }
        )
    measurement = OutcomeMeasurement(
        organization=engagement.organization,
        engagement=engagement,
        service_line=service_line,
        month=month,
        value=value,
        evidence=evidence.strip(),
        submitted_side=side,
        submitted_by=membership.user,
        submitted_at=now,
    )
    return save_audited(measurement, actor=membership.user, action="outcome_measurement.submitted", changes={})


def claim_for_review(record: Any, side: str, submitted: str) -> Any:
    """A value one side submitted (a manual SLA value, an outcome value), locked for the other side to verify or
    reject; refused to the side that submitted it and once it is no longer `submitted`."""
    if side == record.submitted_side:
        raise ValidationError(_("The other side verifies a submitted value, not the side that submitted it."))
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if record.status != submitted:
        raise ValidationError(_("This value is already %(status)s.") % {"status": record.get_status_display().lower()})
    return record


def _reviewable_outcome(measurement: OutcomeMeasurement, membership: Membership) -> OutcomeMeasurement:
    return claim_for_review(measurement, outcome_side(membership, measurement.engagement), OutcomeStatus.SUBMITTED)


@transaction.atomic
def verify_outcome_measurement(
    *, measurement: OutcomeMeasurement, membership: Membership, now: datetime | None = None
) -> OutcomeMeasurement:
    """The other side agrees with the value: from now on the month's gain share is computed from it."""
    measurement = _reviewable_outcome(measurement, membership)
    measurement.status, measurement.reviewed_by = OutcomeStatus.VERIFIED, membership.user
    measurement.reviewed_at = now or timezone.now()
    measurement.save()
    measurement.log_action("outcome_measurement.verified", actor=membership.user)
    return measurement


@transaction.atomic
def reject_outcome_measurement(
    *, measurement: OutcomeMeasurement, membership: Membership, reason: str, now: datetime | None = None
) -> OutcomeMeasurement:
    """The other side does not accept the value (say why): it never counts, and the submitter may send another."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the value is rejected.")})
    measurement = _reviewable_outcome(measurement, membership)
    measurement.status, measurement.reviewed_by = OutcomeStatus.REJECTED, membership.user
    measurement.reviewed_at, measurement.rejection_reason = now or timezone.now(), reason.strip()
    measurement.save()
    measurement.log_action("outcome_measurement.rejected", actor=membership.user)
    return measurement
