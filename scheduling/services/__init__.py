"""Writes of the delivery domain, each atomic and audited; the web, CSV, API and xAPI paths all call them.

Double booking: the services check overlaps first (clear message, and the only guard on SQLite); on PostgreSQL
the exclusion constraints of migration 0003 also refuse it, which closes the race between two requests.

One module per part of the domain: `sessions`, `enrollments`, `attendance`, `completions`, `assessments`,
`feedback`, `compliance`, `tickets`, `outages`, `courses`, `venues`; `_common` holds the delivery writer rule they
all check. The names the rest of the code uses are imported here.
"""

from ._common import require_delivery_writer
from .assessments import attempt_passed, attempt_refusals, record_assessment_attempt
from .attendance import mark_delivered, record_attendance, record_enrollment_attendance
from .completions import close_compliance_assignments, record_completion, record_session_completions
from .compliance import (
    assign_learner,
    assign_requirement,
    assignment_refusals,
    complete_assignment,
    define_requirement,
    require_compliance_assigner,
    send_recertification_reminders,
    update_requirement,
)
from .courses import add_course, record_content_review, require_course_keeper, reviewed_on_error, update_course
from .enrollments import (
    SEAT_REQUEST,
    EnrollmentSummary,
    SeatRequest,
    cancel_enrollment,
    enroll,
    enroll_many,
    parse_emails,
    place_enrollments,
)
from .feedback import (
    ALREADY_RATED,
    FEEDBACK_STATUSES,
    feedback_refusals,
    learner_feedback_refusals,
    submit_feedback,
    submit_learner_feedback,
)
from .outages import log_outage, outage_time_errors, update_outage
from .sessions import (
    CONSTRAINT_MESSAGES,
    JOIN_URL_MODALITIES,
    ROOM_MODALITIES,
    cancel_session,
    check_bookable,
    check_delivery_setup,
    confirm_session,
    double_bookings,
    modality_field_errors,
    request_session,
    reschedule_session,
    sync_instructor_slots,
)
from .tickets import (
    allowed_statuses,
    answering_side,
    assign_ticket,
    check_assignee,
    check_reply,
    check_status,
    first_response_of,
    log_ticket,
    post_reply,
    set_ticket_status,
    status_from_history,
    update_ticket_times,
)
from .venues import add_room, add_venue, update_room, update_venue

__all__ = [
    "ALREADY_RATED",
    "CONSTRAINT_MESSAGES",
    "FEEDBACK_STATUSES",
    "JOIN_URL_MODALITIES",
    "ROOM_MODALITIES",
    "SEAT_REQUEST",
    "EnrollmentSummary",
    "SeatRequest",
    "add_course",
    "add_room",
    "add_venue",
    "allowed_statuses",
    "answering_side",
    "assign_learner",
    "assign_requirement",
    "assign_ticket",
    "assignment_refusals",
    "attempt_passed",
    "attempt_refusals",
    "cancel_enrollment",
    "cancel_session",
    "check_assignee",
    "check_bookable",
    "check_delivery_setup",
    "check_reply",
    "check_status",
    "close_compliance_assignments",
    "complete_assignment",
    "confirm_session",
    "define_requirement",
    "double_bookings",
    "enroll",
    "enroll_many",
    "feedback_refusals",
    "first_response_of",
    "learner_feedback_refusals",
    "log_outage",
    "log_ticket",
    "mark_delivered",
    "modality_field_errors",
    "outage_time_errors",
    "parse_emails",
    "place_enrollments",
    "post_reply",
    "record_assessment_attempt",
    "record_attendance",
    "record_completion",
    "record_content_review",
    "record_enrollment_attendance",
    "record_session_completions",
    "request_session",
    "require_compliance_assigner",
    "require_course_keeper",
    "require_delivery_writer",
    "reschedule_session",
    "reviewed_on_error",
    "send_recertification_reminders",
    "set_ticket_status",
    "status_from_history",
    "submit_feedback",
    "submit_learner_feedback",
    "sync_instructor_slots",
    "update_course",
    "update_outage",
    "update_requirement",
    "update_room",
    "update_ticket_times",
    "update_venue",
]
