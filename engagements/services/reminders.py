"""The contract calendar: the dates a client must not miss, and the reminders sent before them."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from engagements.enums import EngagementStatus
from engagements.models import ContractMilestone, ContractReminder, Engagement
from mls.enums import Permission, roles_with
from mls.models import Membership
from mls.services import notify
from slas.catalog import in_sentence

REMINDER_DAYS_BEFORE = (90, 60, 30, 7)


def contract_milestones(engagement: Engagement) -> list[tuple[str, date]]:
    """The dates a client must not miss (SPEC-SLA §7): notice deadlines, the renewal date, the end of transition."""
    milestones = [
        (
            ContractMilestone.TERMINATION_NOTICE_DEADLINE,
            engagement.end_date - timedelta(engagement.termination_notice_days),
        ),
        (ContractMilestone.RENEWAL_DATE, engagement.end_date),
        (ContractMilestone.TRANSITION_END, engagement.transition_end),
    ]
    if engagement.auto_renewal:
        milestones.insert(0, (ContractMilestone.RENEWAL_NOTICE_DEADLINE, engagement.renewal_notice_deadline))
    return milestones


@transaction.atomic
def send_contract_reminders(*, today: date | None = None) -> list[ContractReminder]:
    """Remind the contract managers (the client's decision makers) 90/60/30/7 days before each milestone, each
    reminder exactly once.

    When the task missed days, only the most urgent threshold already reached is sent. The unique constraint
    on ContractReminder makes a second run (or a concurrent one) a no-op.
    """
    sent = []
    recipients = [
        m.user
        for m in Membership.objects.filter(role__in=roles_with(Permission.MANAGE_CONTRACTS)).select_related("user")
    ]
    engagements = Engagement.objects.filter(status__in=[EngagementStatus.ACTIVE, EngagementStatus.IN_TRANSITION])
    for engagement in engagements.select_related("organization"):
        local_today = today or timezone.localdate(timezone=engagement.calendar.zone)
        for milestone, milestone_date in contract_milestones(engagement):
            due = [n for n in REMINDER_DAYS_BEFORE if milestone_date - timedelta(n) <= local_today <= milestone_date]
            if not due:
                continue
            reminder, created = ContractReminder.objects.get_or_create(
                organization=engagement.organization,
                engagement=engagement,
                milestone=milestone,
                milestone_date=milestone_date,
                days_before=min(due),
            )
            if created:
                days_left = (milestone_date - local_today).days
                label = ContractMilestone(milestone).label
                notify(
                    organization=engagement.organization,
                    users=recipients,
                    title=ngettext(
                        "%(engagement)s: %(milestone)s in %(days)s day",
                        "%(engagement)s: %(milestone)s in %(days)s days",
                        days_left,
                    )
                    % {"engagement": engagement.name, "milestone": in_sentence(label), "days": days_left},
                    body=_("%(milestone)s of %(engagement)s with %(provider)s is on %(date)s.")
                    % {
                        "milestone": label,
                        "engagement": engagement.name,
                        "provider": engagement.provider,
                        "date": date_format(milestone_date, "d F Y"),
                    },
                    url=engagement.get_absolute_url(),
                )
                sent.append(reminder)
    return sent
