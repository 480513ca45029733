"""The `{% may %}` checks of the delivery services (registered from SchedulingConfig.ready(); see mls.actions)."""

from mls.actions import register

from . import services

register("ticket.reply", services.check_reply)
register("ticket.assign", services.answering_side)  # as assign_ticket asks
register("delivery.log", services.require_delivery_writer)  # (membership, engagement): sessions and their roster
# Membership-only checks (no object): `{% may "course.manage" as may_manage %}`.
register("course.manage", lambda membership, _=None: services.require_course_keeper(membership))
register("compliance.assign", lambda membership, _=None: services.require_compliance_assigner(membership))
