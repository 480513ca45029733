"""Governance meetings: scheduling them, their minutes and their actions."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.models import Engagement, GovernanceMeeting, MeetingAction
from mls.audit import save_audited
from mls.models import Membership

from .change_requests import acting_side


@transaction.atomic
def schedule_meeting(
    *, engagement: Engagement, membership: Membership, kind: str, scheduled_for: Any, agenda: str
) -> GovernanceMeeting:
    acting_side(membership, engagement)
    meeting = GovernanceMeeting(
        organization=engagement.organization,
        engagement=engagement,
        kind=kind,
        scheduled_for=scheduled_for,
        agenda=agenda,
    )
    return save_audited(meeting, actor=membership.user, action="meeting.scheduled", changes={})


# The checks the meeting writes make before writing, public so a page offers a form or button only when the service
# would accept it (mls/templatetags/actions.py).


def check_record_meeting(membership: Membership, meeting: GovernanceMeeting) -> None:
    """Either side of the contract minutes a meeting and adds its actions."""
    acting_side(membership, meeting.engagement)


def check_complete_meeting_action(membership: Membership, action: MeetingAction) -> None:
    acting_side(membership, action.meeting.engagement)
    if action.done_at is not None:
        raise ValidationError(_("This action is already done."))


@transaction.atomic
def record_minutes(
    *, meeting: GovernanceMeeting, membership: Membership, minutes: str, now: datetime | None = None
) -> GovernanceMeeting:
    now = now or timezone.now()
    check_record_meeting(membership, meeting)
    if not minutes.strip():
        raise ValidationError({"minutes": _("Write the minutes: decisions, figures discussed, disagreements.")})
    meeting.minutes = minutes.strip()
    meeting.held_at = meeting.held_at or now
    meeting.save(update_fields=["minutes", "held_at"])
    meeting.log_action("meeting.minutes_recorded", actor=membership.user)
    return meeting


@transaction.atomic
def add_meeting_action(
    *,
    meeting: GovernanceMeeting,
    membership: Membership,
    description: str,
    owner_side: str,
    owner_name: str,
    due_on: date,
) -> MeetingAction:
    check_record_meeting(membership, meeting)
    action = MeetingAction(
        organization=meeting.organization,
        meeting=meeting,
        description=description,
        owner_side=owner_side,
        owner_name=owner_name,
        due_on=due_on,
    )
    return save_audited(action, actor=membership.user, action="meeting_action.added", changes={})


@transaction.atomic
def complete_meeting_action(
    *, action: MeetingAction, membership: Membership, now: datetime | None = None
) -> MeetingAction:
    now = now or timezone.now()
    check_complete_meeting_action(membership, action)
    action.done_at = now
    action.save(update_fields=["done_at"])
    action.log_action("meeting_action.done", actor=membership.user)
    return action
