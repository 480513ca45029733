"""Platform outages, planned and unplanned (the uptime SLA's minutes)."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.models import Engagement
from mls.audit import save_audited
from mls.models import Membership
from scheduling.models import Outage

from ._common import require_delivery_writer

# Planned maintenance is announced ahead; further out than this a date is a typo (2062 for 2026), not a plan.
OUTAGE_HORIZON = timedelta(days=366)


def outage_time_errors(*, starts_at: datetime, ends_at: datetime, planned: bool, now: datetime) -> dict[str, str]:
    """The times of an outage, checked the same way on the web, in CSV and in the API: it ends after it starts,
    an unplanned one is logged once it has begun, and nothing ends beyond OUTAGE_HORIZON."""
    errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = _("The outage must end after it starts.")
    if not planned and starts_at > now:
        errors["starts_at"] = _("An unplanned outage is logged once it has started; plan maintenance as planned.")
    if ends_at > now + OUTAGE_HORIZON:
        errors.setdefault(
            "ends_at", _("This is more than %(days)s days ahead; check the year.") % {"days": OUTAGE_HORIZON.days}
        )
    return errors


def _save_outage(outage: Outage, membership: Membership, action: str, fields: dict[str, Any], now: datetime) -> Outage:
    require_delivery_writer(membership, outage.engagement)  # the stored engagement, for an edit
    if "engagement" in fields:
        require_delivery_writer(membership, fields["engagement"])  # and the one it moves to
    merged = {name: fields.get(name, getattr(outage, name)) for name in ("starts_at", "ends_at", "planned")}
    if errors := outage_time_errors(**merged, now=now):
        raise ValidationError(errors)
    return save_audited(outage, actor=membership.user, action=action, changes=fields)


@transaction.atomic
def log_outage(
    *, engagement: Engagement, membership: Membership, starts_at: datetime, ends_at: datetime, planned: bool,
    description: str, external_id: str = "", now: datetime | None = None,
) -> Outage:  # fmt: skip
    """Platform downtime; planned maintenance is excluded from the uptime SLA's minutes (SPEC-SLA §3)."""
    now = now or timezone.now()
    outage = Outage(organization=engagement.organization, engagement=engagement)
    fields = {"starts_at": starts_at, "ends_at": ends_at, "planned": planned, "description": description}
    return _save_outage(outage, membership, "outage.logged", {**fields, "external_id": external_id}, now)


@transaction.atomic
def update_outage(*, outage: Outage, membership: Membership, now: datetime | None = None, **fields: Any) -> Outage:
    """Correct an outage (its times decide the uptime SLA): audited before → after."""
    now = now or timezone.now()
    return _save_outage(outage, membership, "outage.updated", fields, now)
