"""The `{% may %}` checks of the SLA services (registered from SlasConfig.ready(); see mls.actions)."""

from engagements.services import acting_side
from mls.actions import register

from . import escalations, services

register("relief.request", acting_side)  # (membership, engagement), as services.request_relief asks
register("relief.decide", services.check_decide_relief)  # (membership, engagement), as decide_relief asks
register("manual_measurement.submit", acting_side)  # as submit_manual_measurement asks
register("escalation.respond", escalations.check_respond_to_notice)  # as respond_to_notice asks
register("escalation.plan", escalations.check_answer_escalation)  # as record_remediation_plan asks
register("escalation.close", escalations.check_close_escalation)  # as close_escalation asks
