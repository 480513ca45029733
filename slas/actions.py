"""The `{% may %}` checks of the SLA services (registered from SlasConfig.ready(); see mls.actions)."""

from engagements.services import acting_side
from mls.actions import register

from . import services

register("relief.request", acting_side)  # (membership, engagement), as services.request_relief asks
register("relief.decide", services.check_decide_relief)  # (membership, engagement), as decide_relief asks
register("manual_measurement.submit", acting_side)  # as submit_manual_measurement asks
