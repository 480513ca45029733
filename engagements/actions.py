"""The `{% may %}` checks of the engagement services (registered from EngagementsConfig.ready(); see mls.actions)."""

from mls.actions import register

from . import services
from .services.templates import check_save_as_template

register("change_request.propose", lambda membership, sow: services.acting_side(membership, sow.engagement))
register("meeting.schedule", services.acting_side)  # (membership, engagement), as schedule_meeting asks
register("dispute.open", services.acting_side)  # as open_dispute asks
register("change_request.submit", services.check_submit_change_request)
register("change_request.approve", services.check_approve_change_request)
register("change_request.reject", services.check_reject_change_request)
register("change_request.withdraw", services.check_withdraw_change_request)
register("meeting.record", services.check_record_meeting)  # minutes and actions
register("meeting_action.complete", services.check_complete_meeting_action)
register("dispute.escalate", services.check_escalate_dispute)
register("dispute.close", services.check_close_dispute)
register("outcome.submit", services.check_submit_outcome)  # (membership, engagement)
register("engagement.save_as_template", check_save_as_template)  # (membership, engagement)
