"""Issue 17's acceptance: seven months of one engagement's delivery pushed only through the REST API (tickets,
sessions with requested/confirmed/delivered times, enrollments with requested/processed times, per-learner
compliance assignments, feedback), then finalized, give what a hand computation of SPEC-SLA gives.

The contract (provider, engagement, SoW, SLA schedule and targets) is set up through the API too, by the client's
token; the compliance requirement, which has no API resource, through its web form. No row is written through the
ORM: the provider's token pushes the delivery, the Celery beat task finalizes, the client's token reads the result.

Every month has five of each item; a month's "late" items are the ones that miss their threshold. Targets
(min_sample 5), at risk 12 % of 48,250.00 = 5,790.00:

    metric                             target  allocation  credit if breached alone
    support_first_response             95 %    40          2,316.00
    session_confirmation_turnaround    90 %    30          1,737.00
    instructor_rating                  4.2     25          1,447.50
    mandatory_training_on_time         90 %    20          1,158.00
    enrollment_processing              95 %    15            868.50

Month by month (1 late item of 5 → 80.00 %):
- January: 1 ticket answered after 10 h (threshold 8 h) → support 80.00 breached → credit 2,316.00; notice.
- February: support 80.00 again (2nd breach → formal review), 1 session confirmed after 72 h (threshold 48 h) →
  confirmation 80.00 breached (notice) → credits 2,316.00 + 1,737.00 = 4,053.00, under the cap.
- March: support (3rd → exit right), confirmation (2nd → formal review), instructor scores 4,4,4,4,4 → 4.00 < 4.2
  (notice), 1 assignment completed after its due date → 80.00 (notice); four targets breached ≥ 3 → the
  engagement-level formal review. Allocations 40+30+25+20 = 115 → uncapped 6,658.50 > 5,790.00 → capped:
  floor(5790·40/115) = 2,013.91, floor(5790·30/115) = 1,510.43, floor(5790·25/115) = 1,258.69,
  floor(5790·20/115) = 1,006.95; sum 5,789.98, the 0.02 left goes to allocation 40 → 2,013.93.
- April, May, June: everything met (instructor scores 5,5,5,5,4 → 4.80). March's four credits are met in each of
  the next three measured periods (K = 3) → earned back in June (5,790.00). January's and February's are not
  (each metric breached again within the next three periods).
- July: 1 enrollment processed six days after its request (2 business days allowed) → 80.00 < 95 → 868.50; notice.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from mls.enums import Role
from mls.models import Provider
from slas.tasks import dispatch_sla_finalization
from tests.factories import api_token

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # seven months of delivery through the API

MONTHS = range(1, 8)  # January to July 2026
LEARNERS = [f"L-{n}" for n in range(1, 6)]
AFTER_THE_LAST_GRACE = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)  # July's 5 grace days are over
TARGETS = {
    "support_first_response": ("95", "40"),
    "session_confirmation_turnaround": ("90", "30"),
    "instructor_rating": ("4.2", "25"),
    "mandatory_training_on_time": ("90", "20"),
    "enrollment_processing": ("95", "15"),
}
# Per month: how many of the five items miss their threshold, and the five instructor scores.
LATE_TICKETS = {1: 1, 2: 1, 3: 1}
SLOW_CONFIRMATIONS = {2: 1, 3: 1}
LATE_ASSIGNMENTS = {3: 1}
LATE_ENROLLMENTS = {7: 1}
INSTRUCTOR_SCORES = {1: (5, 5, 4, 4, 5), 2: (5, 4, 5, 4, 5), 3: (4, 4, 4, 4, 4)}
GOOD_SCORES = (5, 5, 5, 5, 4)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


class Api:
    """The integrator's client: every call must succeed, or the test shows what the API answered."""

    def __init__(self, client: object, token: str) -> None:
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Token {token}"}

    def post(self, path: str, body: object) -> dict:
        response = self.client.post(f"/api/v1/{path}", body, content_type="application/json", **self.headers)
        assert response.status_code in (200, 201), (path, response.status_code, response.content[:2000])
        return response.json()

    def get(self, path: str) -> list[dict]:
        rows, url = [], f"/api/v1/{path}"
        while url:
            response = self.client.get(url, **self.headers)
            assert response.status_code == 200, (path, response.content[:2000])
            page = response.json()
            rows += page["results"]
            url = page["next"]
        return rows


def month_of_delivery(month: int, engagement_ref: dict) -> dict[str, list[dict]]:
    """The five tickets, sessions, enrollments, feedback and assignments of `month`, shaped as the API takes them."""
    tag = f"{month:02d}"
    tickets, sessions, enrollments, feedback, assignments = [], [], [], [], []
    scores = INSTRUCTOR_SCORES.get(month, GOOD_SCORES)
    for n, learner in enumerate(LEARNERS):
        opened = at(month, 6, 9 + n)
        late_ticket = n < LATE_TICKETS.get(month, 0)
        tickets.append(
            {
                "external_id": f"T-{tag}-{n}",
                **engagement_ref,
                "category": "technical",
                "subject": f"Cannot join, case {n}",
                "opened_at": iso(opened),
                "first_response_at": iso(opened + timedelta(hours=10 if late_ticket else 1)),
                "resolved_at": iso(opened + timedelta(hours=12)),
                "learner_external_id": learner,
            }
        )
        requested, starts = at(month, 2, 9), at(month, 16 + n, 9)
        slow = n < SLOW_CONFIRMATIONS.get(month, 0)
        sessions.append(
            {
                "external_id": f"S-{tag}-{n}",
                **engagement_ref,
                "course_code": "GDPR-1",
                "modality": "vilt",
                "requested_at": iso(requested),
                "confirmed_at": iso(requested + timedelta(hours=72 if slow else 24)),
                "starts_at": iso(starts),
                "ends_at": iso(starts + timedelta(hours=3)),
                "capacity": 10,
                "join_url": "https://meet.example/gdpr",
                "status": "delivered",
            }
        )
        enrollment_requested = at(month, 13, 10)
        late_enrollment = n < LATE_ENROLLMENTS.get(month, 0)
        enrollments.append(
            {
                "external_id": f"E-{tag}-{n}",
                "session_external_id": f"S-{tag}-{n}",
                "learner_external_id": learner,
                "requested_at": iso(enrollment_requested),
                "processed_at": iso(enrollment_requested + timedelta(days=6 if late_enrollment else 0, hours=5)),
                "status": "enrolled",
            }
        )
        feedback.append(
            {
                "external_id": f"F-{tag}-{n}",
                "session_external_id": f"S-{tag}-{n}",
                "learner_external_id": learner,
                "instructor_score": scores[n],
                "overall_score": 4,
                "comment": "",
                "submitted_at": iso(starts + timedelta(hours=4)),
            }
        )
        late_assignment = n < LATE_ASSIGNMENTS.get(month, 0)
        assignments.append(
            {
                "external_id": f"CA-{tag}-{n}",
                "requirement": "Data protection",
                "learner_external_id": learner,
                "due_on": date(2026, month, 25).isoformat(),
                "completed_at": iso(at(month, 27 if late_assignment else 24, 15)),
            }
        )
    return {
        "tickets": tickets,
        "sessions": sessions,
        "enrollments": enrollments,
        "feedback": feedback,
        "compliance-assignments": assignments,
    }


def set_up_contract(client_side: Api) -> dict:
    """Procurement's side of the contract, through the API: provider, engagement, SoW signed at 48,250.00 a month,
    SLA schedule (12 % at risk) and the five targets from January."""
    provider = client_side.post("providers/", {"name": "Fenwick Training", "contact_email": "am@fenwick.test"})
    engagement = client_side.post(
        "engagements/",
        {
            "provider": provider["id"],
            "name": "Managed learning 2026",
            "external_id": "ENG-2026",
            "engagement_model": "managed_services",
            "vendor_model": "master_service_provider",
            "currency": "GBP",
            "timezone": "UTC",
            "holiday_country": "GB",
            "start_date": "2026-01-01",
            "end_date": "2028-12-31",
            "annual_value": "579000.00",
        },
    )
    sow = client_side.post(
        "sows/",
        {
            "engagement": engagement["id"],
            "reference": "SOW-001",
            "title": "Learning operations",
            "effective_from": "2026-01-01",
            "pricing_model": "retainer",
        },
    )
    client_side.post(f"sows/{sow['id']}/scope-items/", {"service": "scheduling", "responsibility": "included"})
    client_side.post(
        f"sows/{sow['id']}/service-lines/",
        {"name": "Learning operations retainer", "basis": "fixed", "amount": "48250.00"},
    )
    assert client_side.post(f"sows/{sow['id']}/sign/", {})["status"] == "signed"
    schedule = client_side.post("sla-schedules/", {"engagement": engagement["id"], "at_risk_percent": "12"})
    for metric, (target, allocation) in TARGETS.items():
        client_side.post(
            "sla-targets/",
            {
                "schedule": schedule["id"],
                "metric": metric,
                "target": target,
                "allocation_percent": allocation,
                "active_from": "2026-01-01",
                "min_sample": 5,
            },
        )
    return {"engagement": engagement, "provider": provider}


@time_machine.travel(AFTER_THE_LAST_GRACE, tick=False)
def test_seven_months_pushed_through_the_api_give_the_hand_computed_credits(client, tenant_a):
    client_side = Api(client, api_token(tenant_a))
    contract = set_up_contract(client_side)
    engagement_id = contract["engagement"]["id"]
    with tenant_a.scope():
        provider_of_engagement = Provider.objects.get(pk=contract["provider"]["id"])
    provider = Api(client, api_token(tenant_a, provider=provider_of_engagement))
    provider.post(
        "courses/bulk/",
        [
            {
                "external_id": "GDPR-1",
                "code": "GDPR-1",
                "title": "Data protection essentials",
                "modality": "vilt",
                "duration_hours": "3",
            }
        ],
    )
    (course,) = provider.get("courses/?code=GDPR-1")
    client.force_login(tenant_a.user(Role.LD_DIRECTOR))  # mandatory training is the client's to define
    defined = client.post(
        f"/o/{tenant_a.organization.slug}/compliance/new/", {"name": "Data protection", "courses": [course["id"]]}
    )
    assert defined.status_code == 302, defined.content.decode()[:2000]
    provider.post(
        "learners/bulk/",
        [{"external_id": ref, "name": f"Learner {ref}", "email": f"{ref.lower()}@acme.example"} for ref in LEARNERS],
    )
    for month in MONTHS:
        for resource, items in month_of_delivery(month, {"engagement_external_id": "ENG-2026"}).items():
            provider.post(f"{resource}/bulk/", items)

    dispatch_sla_finalization()

    measured = {
        (row["metric"], row["period"]): (row["value"], row["status"])
        for row in client_side.get(f"measurements/?engagement={engagement_id}")
    }
    periods = {row["id"]: row["month"] for row in client_side.get(f"sla-periods/?engagement={engagement_id}")}
    by_month = {(metric, periods[period]): value for (metric, period), value in measured.items()}
    assert {month for _, month in by_month} == {f"2026-{m:02d}" for m in MONTHS}
    assert all(row[1] != "provisional" for row in by_month.values())
    breached = {key: value for key, value in by_month.items() if value[1] == "breached"}
    assert breached == {
        ("support_first_response", "2026-01"): ("80.00", "breached"),
        ("support_first_response", "2026-02"): ("80.00", "breached"),
        ("session_confirmation_turnaround", "2026-02"): ("80.00", "breached"),
        ("support_first_response", "2026-03"): ("80.00", "breached"),
        ("session_confirmation_turnaround", "2026-03"): ("80.00", "breached"),
        ("instructor_rating", "2026-03"): ("4.00", "breached"),
        ("mandatory_training_on_time", "2026-03"): ("80.00", "breached"),
        ("enrollment_processing", "2026-07"): ("80.00", "breached"),
    }
    assert by_month[("instructor_rating", "2026-01")] == ("4.60", "met")
    assert by_month[("instructor_rating", "2026-04")] == ("4.80", "met")
    assert by_month[("session_confirmation_turnaround", "2026-01")] == ("100.00", "met")

    credits = {
        (row["metric"], periods[row["period"]]): (row["amount"], row["status"])
        for row in client_side.get(f"credits/?engagement={engagement_id}")
    }
    assert credits == {
        ("support_first_response", "2026-01"): ("2316.00", "issued"),
        ("support_first_response", "2026-02"): ("2316.00", "issued"),
        ("session_confirmation_turnaround", "2026-02"): ("1737.00", "issued"),
        ("support_first_response", "2026-03"): ("2013.93", "earned_back"),
        ("session_confirmation_turnaround", "2026-03"): ("1510.43", "earned_back"),
        ("instructor_rating", "2026-03"): ("1258.69", "earned_back"),
        ("mandatory_training_on_time", "2026-03"): ("1006.95", "earned_back"),
        ("enrollment_processing", "2026-07"): ("868.50", "issued"),
    }

    escalations = {
        (row["metric"], periods[row["period"]], row["level"])
        for row in client_side.get(f"escalations/?engagement={engagement_id}")
    }
    assert escalations == {
        ("support_first_response", "2026-01", "notice"),
        ("support_first_response", "2026-02", "formal_review"),
        ("session_confirmation_turnaround", "2026-02", "notice"),
        ("support_first_response", "2026-03", "exit_right"),
        ("session_confirmation_turnaround", "2026-03", "formal_review"),
        ("instructor_rating", "2026-03", "notice"),
        ("mandatory_training_on_time", "2026-03", "notice"),
        ("", "2026-03", "formal_review"),
        ("enrollment_processing", "2026-07", "notice"),
    }
