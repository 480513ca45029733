"""The rows the API's isolation matrix reads that the signed contract (tests.factories.engagements) lacks."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from engagements.enums import Side
from engagements.models import OutcomeMeasurement
from mls.enums import Role
from scheduling.models import (
    AssessmentAttempt,
    Attendance,
    Completion,
    ComplianceAssignment,
    Feedback,
    Outage,
    TicketReply,
)
from slas.models import Breach, Escalation, ServiceCredit
from tests.factories.engagements import submitted_outcome
from tests.factories.slas import assignment, attempt, attendance, completion, feedback, outage

MARCH = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class ApiObjects:
    attendance: Attendance
    completion: Completion
    attempt: AssessmentAttempt
    feedback: Feedback
    assignment: ComplianceAssignment
    outage: Outage
    credit: ServiceCredit
    escalation: Escalation
    outcome: OutcomeMeasurement
    reply: TicketReply


def api_objects(tenant: object) -> ApiObjects:
    """One of each, on the tenant's contract (call after signed_contract_with_proposal)."""
    contract = tenant.contract
    session, measurement = contract.session, contract.measurement
    with tenant.scope():
        breach = Breach.objects.create(
            organization=tenant.organization,
            engagement=contract.engagement,
            period=measurement.period,
            metric=measurement.metric,
            measurement=measurement,
        )
        credit = ServiceCredit.objects.create(
            organization=tenant.organization,
            engagement=contract.engagement,
            period=measurement.period,
            metric=measurement.metric,
            breach=breach,
            allocation_percent=Decimal("40.00"),
            amount=Decimal("2316.00"),
            currency="GBP",
        )
        return ApiObjects(
            attendance=attendance(contract.enrollment),
            completion=completion(session, MARCH, MARCH, learner_=contract.enrollment.learner),
            attempt=attempt(session.course, MARCH, passed=True, learner_=contract.enrollment.learner),
            feedback=feedback(session, 5, 4),
            assignment=assignment(contract.requirement, date(2026, 6, 30), engagement=contract.engagement),
            outage=outage(contract.engagement, MARCH, datetime(2026, 3, 2, 13, 0, tzinfo=UTC)),
            credit=credit,
            escalation=contract.escalation,
            outcome=submitted_outcome(tenant),
            reply=TicketReply.objects.create(
                organization=tenant.organization,
                ticket=contract.ticket,
                author=tenant.user(Role.LD_DIRECTOR),
                side=Side.CLIENT,
                body="Any news?",
                created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            ),
        )
