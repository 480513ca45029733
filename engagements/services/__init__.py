"""Writes of the contracts domain. Each use case is atomic and audited (SPEC-SLA §6–7).

One module per part of the domain: `engagements`, `sows`, `change_requests`, `index_series`, `reminders`,
`governance`, `disputes`, `outcomes`. The names the rest of the code uses are imported here.
"""

from .change_requests import (
    acting_side,
    approve_change_request,
    check_approve_change_request,
    check_reject_change_request,
    check_submit_change_request,
    check_withdraw_change_request,
    propose_change_request,
    reject_change_request,
    submit_change_request,
    withdraw_change_request,
)
from .disputes import check_close_dispute, check_escalate_dispute, close_dispute, escalate_dispute, open_dispute
from .engagements import create_engagement, update_engagement
from .governance import (
    add_meeting_action,
    check_complete_meeting_action,
    check_record_meeting,
    complete_meeting_action,
    record_minutes,
    schedule_meeting,
)
from .index_series import create_index_series, record_index_value
from .outcomes import (
    check_submit_outcome,
    claim_for_review,
    reject_outcome_measurement,
    submit_outcome_measurement,
    verify_outcome_measurement,
)
from .reminders import contract_milestones, send_contract_reminders
from .sows import (
    add_service_line,
    create_sow,
    remove_scope_item,
    remove_service_line,
    set_scope_item,
    sign_version,
    signing_problems,
    update_draft_version,
    update_sow,
)

__all__ = [
    "acting_side",
    "add_meeting_action",
    "add_service_line",
    "approve_change_request",
    "check_approve_change_request",
    "check_close_dispute",
    "check_complete_meeting_action",
    "check_escalate_dispute",
    "check_record_meeting",
    "check_reject_change_request",
    "check_submit_change_request",
    "check_submit_outcome",
    "check_withdraw_change_request",
    "claim_for_review",
    "close_dispute",
    "complete_meeting_action",
    "contract_milestones",
    "create_engagement",
    "create_index_series",
    "create_sow",
    "escalate_dispute",
    "open_dispute",
    "propose_change_request",
    "record_index_value",
    "record_minutes",
    "reject_change_request",
    "reject_outcome_measurement",
    "remove_scope_item",
    "remove_service_line",
    "schedule_meeting",
    "send_contract_reminders",
    "set_scope_item",
    "sign_version",
    "signing_problems",
    "submit_change_request",
    "submit_outcome_measurement",
    "update_draft_version",
    "update_engagement",
    "update_sow",
    "verify_outcome_measurement",
    "withdraw_change_request",
]
