"""xAPI statements over the API: the ADL sample shapes are recorded as completions, assessment attempts and
attendance; malformed statements are 400 naming the statement's path; a batch is all or nothing; ids like an LRS."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mls.models import AuditEvent
from scheduling.enums import CompletionSource
from scheduling.models import AssessmentAttempt, Attendance, Completion, XapiStatement
from tests.factories import ProviderFactory, api_token
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import LearnerFactory
from tests.factories.slas import course, enrollment, session

pytestmark = pytest.mark.integration

URL = "/api/v1/xapi/statements"
MARCH_2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VERB = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def delivery(tenant_a):
    """Ada (by email) and Grace (by HR id) on a session of course C001 on 2 March 2026."""
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    with tenant_a.scope():
        c001 = course(engagement, code="C001", external_id="https://lms.example.com/activities/data-protection")
        held = session(engagement, starts_at=MARCH_2, course_=c001)
        ada = LearnerFactory(organization=tenant_a.organization, name="Ada", email="ada@example.com")
        grace = LearnerFactory(organization=tenant_a.organization, name="Grace", external_id="L-1001")
        for who in (ada, grace):
            enrollment(held, MARCH_2.replace(day=1), learner_=who)
    return {"course": c001, "ada": ada, "grace": grace, "session": held}


def statement(verb_name: str = "completed", **fields: object) -> dict:
    """The ADL sample shape: an Agent with an mbox, an ADL verb, an Activity, a result and a timestamp."""
    return {
        "actor": {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"},
        "verb": {"id": f"{VERB}{verb_name}", "display": {"en-US": verb_name}},
        "object": {
            "objectType": "Activity",
            "id": "https://lms.example.com/activities/data-protection",
            "definition": {"name": {"en-US": "Data protection"}},
        },
        "timestamp": "2026-03-02T12:00:00Z",
        **fields,
    }


def send(client, token: str, body: object, version: str | None = "1.0.3"):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if version is not None:
        headers["HTTP_X_EXPERIENCE_API_VERSION"] = version
    return client.post(URL, body, content_type="application/json", **headers)


@pytest.fixture
def token(tenant_a):
    return api_token(tenant_a)


def test_completed_by_mbox_records_a_completion_and_answers_its_id(client, tenant_a, delivery, token):
    given = str(uuid.uuid4())

    response = send(client, token, statement(id=given, result={"completion": True}))

    assert response.status_code == 200
    assert response.json() == [given]
    assert response["X-Experience-API-Version"] == "1.0.3"
    with tenant_a.scope():
        completion = Completion.objects.get()
        assert (completion.learner, completion.course, completion.source) == (
            delivery["ada"],
            delivery["course"],
            CompletionSource.XAPI,
        )
        assert completion.completed_at == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
        assert completion.session == delivery["session"]
        assert XapiStatement.objects.get().completion == completion
        assert AuditEvent.objects.filter(action="completion.recorded").count() == 1


def test_passed_and_failed_by_account_record_numbered_attempts_with_scaled_scores(client, tenant_a, delivery, token):
    grace = {"objectType": "Agent", "account": {"homePage": "https://hris.example.com", "name": "L-1001"}}
    batch = [
        statement("failed", actor=grace, result={"score": {"scaled": 0.55}, "success": False}),
        statement(
            "passed",
            actor=grace,
            result={"score": {"raw": 42, "min": 0, "max": 50}, "success": True},
            context={"extensions": {"https://w3id.org/xapi/cmi5/context/extensions/masteryscore": 0.8}},
            timestamp="2026-03-02T13:00:00Z",
        ),
    ]

    response = send(client, token, batch)

    assert response.status_code == 200
    assert len(response.json()) == 2
    with tenant_a.scope():
        attempts = list(AssessmentAttempt.objects.order_by("attempt_number").values_list(
            "learner", "attempt_number", "score", "pass_mark", "passed"
        ))  # fmt: skip
    grace_id = delivery["grace"].pk
    assert attempts == [
        (grace_id, 1, Decimal("55.00"), Decimal("70.00"), False),  # no mastery score yet: the default pass mark
        (grace_id, 2, Decimal("84.00"), Decimal("80.00"), True),
    ]


def test_attended_marks_the_learner_present_on_that_days_session(client, tenant_a, delivery, token):
    response = send(client, token, statement("attended", timestamp="2026-03-02T09:05:00Z"))

    assert response.status_code == 200
    with tenant_a.scope():
        attendance = Attendance.objects.get()
        assert attendance.enrollment.learner == delivery["ada"]
        assert attendance.present is True


def test_the_course_is_found_by_an_iri_ending_in_its_code(client, tenant_a, delivery, token):
    body = statement(object={"id": "https://lms.example.com/courses/C001"})

    assert send(client, token, body).status_code == 200
    with tenant_a.scope():
        assert Completion.objects.get().course == delivery["course"]


def test_resending_a_statement_is_a_no_op_and_reusing_its_id_is_409(client, tenant_a, delivery, token):
    body = statement(id=str(uuid.uuid4()))
    assert send(client, token, body).status_code == 200

    again = send(client, token, body)
    other = send(client, token, {**body, "timestamp": "2026-03-02T12:30:00Z"})

    assert again.status_code == 200
    assert other.status_code == 409
    with tenant_a.scope():
        assert Completion.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({k: v for k, v in statement().items() if k != "verb"}, "statement.verb", "JSON object"),
        (statement(verb={"id": "not an iri"}), "statement.verb.id", "absolute IRI"),
        (statement(verb={"id": f"{VERB}experienced"}), "statement.verb.id", "only these verbs"),
        (statement(version="0.95"), "statement.version", "1.0.x"),
        (statement(actor={"mbox": "ada@example.com"}), "statement.actor.mbox", "mailto:"),
        (statement(actor={"mbox": "mailto:ada@example.com", "account": {}}), "statement.actor", "exactly one"),
        (statement(actor={"objectType": "Group", "member": []}), "statement.actor.objectType", "Agent"),
        (statement(object={"id": "https://lms.example.com/courses/NOPE"}), "statement.object.id", "No course"),
        (statement(actor={"mbox": "mailto:nobody@example.com"}), "statement.actor", "No learner"),
        (statement("passed", result={"success": True}), "statement.result.score", "needs result.score"),
        (statement("passed", result={"score": {"scaled": 1.5}}), "statement.result.score.scaled", "between -1 and 1"),
        (statement("passed", result={"score": {"scaled": 0.9}, "success": False}), "statement.result.success", ""),
        (statement(timestamp="yesterday"), "statement.timestamp", "ISO 8601"),
        (statement(id="42"), "statement.id", "UUID"),
        ([], "statements", "at least one"),
    ],
)
def test_malformed_statements_are_400_with_the_path_and_write_nothing(
    client, tenant_a, delivery, token, body, path, words
):
    response = send(client, token, body)

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [path]
    assert words in errors[path][0]
    with tenant_a.scope():
        assert not XapiStatement.objects.exists()


@pytest.mark.parametrize("version", [None, "0.9", "2.0.0"])
def test_a_missing_or_wrong_version_header_is_400(client, delivery, token, version):
    response = send(client, token, statement(), version=version)

    assert response.status_code == 400
    assert "X-Experience-API-Version" in response.json()


def test_one_bad_statement_in_a_batch_writes_none_of_it(client, tenant_a, delivery, token):
    batch = [statement(), statement("passed", result={"score": {"scaled": 0.9}}), statement(verb={"id": "bad"})]

    response = send(client, token, batch)

    assert response.status_code == 400
    assert list(response.json()) == ["statements[2].verb.id"]
    with tenant_a.scope():
        assert (Completion.objects.count(), AssessmentAttempt.objects.count()) == (0, 0)


def test_a_provider_token_records_only_its_own_providers_delivery(client, tenant_a, delivery):
    other = api_token(tenant_a, provider=ProviderFactory(organization=tenant_a.organization))

    response = send(client, other, statement())

    assert response.status_code == 400
    assert "provider's account managers" in response.json()["statement"][0]
