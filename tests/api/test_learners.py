"""Learners over the API: upsert by external_id through the import's checks, bulk all-or-nothing, filters."""

import pytest

from mls.enums import Role
from mls.models import AuditEvent
from scheduling.models import Learner
from tests.factories import api_token
from tests.factories.scheduling import LearnerFactory

pytestmark = pytest.mark.integration

URL = "/api/v1/learners/"


@pytest.fixture
def token(tenant_a):
    return api_token(tenant_a)


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def test_list_learners_returns_own_tenants_learners_only(client, tenant_a, tenant_b, token):
    ada = LearnerFactory(organization=tenant_a.organization, name="Ada")
    LearnerFactory(organization=tenant_b.organization, name="Ada")

    response = client.get(URL, **auth(token))

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [ada.pk]


def test_post_learner_creates_then_updates_by_external_id(client, tenant_a, token):
    item = {"external_id": "HR-1", "name": "Ada Lovelace", "email": "ada@acme.example"}

    created = client.post(URL, item, content_type="application/json", **auth(token))
    updated = client.post(URL, {**item, "region": "EMEA"}, content_type="application/json", **auth(token))

    assert (created.status_code, updated.status_code) == (201, 200)
    assert created.json()["id"] == updated.json()["id"]
    assert updated.json() == client.get(f"{URL}{created.json()['id']}/", **auth(token)).json()
    assert (updated.json()["region"], updated.json()["updated_at"] > created.json()["updated_at"]) == ("EMEA", True)
    with tenant_a.scope():
        assert list(Learner.objects.values_list("external_id", "region")) == [("HR-1", "EMEA")]
        assert AuditEvent.objects.filter(action="import.learners").count() == 2


def test_post_learner_runs_six_queries(client, token, django_assert_num_queries):
    client.get(URL, **auth(token))  # stamps the token's "last used", which is written at most once a minute
    item = {"external_id": "HR-1", "name": "Ada Lovelace", "email": "ada@acme.example"}

    # The caller; stored learners with the external_id or the email; the learner, then its audit event, in a
    # savepoint because the test runs in a transaction (a real request has BEGIN and COMMIT instead).
    with django_assert_num_queries(6):
        response = client.post(URL, item, content_type="application/json", **auth(token))

    assert (response.status_code, response.json()["external_id"]) == (201, "HR-1")


def test_post_learner_with_bad_email_is_400_with_field_error(client, tenant_a, token):
    response = client.post(
        URL, {"external_id": "HR-1", "name": "Ada", "email": "not-an-email"}, content_type="application/json",
        **auth(token),
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}
    with tenant_a.scope():
        assert Learner.objects.count() == 0


def test_bulk_learners_with_one_bad_item_writes_nothing(client, tenant_a, token):
    items = [{"external_id": f"HR-{n}", "name": f"Learner {n}", "email": f"l{n}@acme.example"} for n in range(5)]
    items[3]["email"] = "broken"

    response = client.post(f"{URL}bulk/", items, content_type="application/json", **auth(token))

    assert response.status_code == 400
    assert response.json() == {
        "written": False,
        "errors": [{"index": 3, "errors": {"email": ["Enter a valid email address."]}}],
    }
    with tenant_a.scope():
        assert Learner.objects.count() == 0


def test_read_token_cannot_write(client, tenant_a):
    raw = api_token(tenant_a, scope="read")

    response = client.post(
        URL, {"external_id": "HR-1", "name": "Ada", "email": "ada@acme.example"}, content_type="application/json",
        **auth(raw),
    )  # fmt: skip

    assert response.status_code == 403
    with tenant_a.scope():
        assert Learner.objects.count() == 0


def test_session_call_names_its_organization_in_a_header(client, tenant_a):
    LearnerFactory(organization=tenant_a.organization)
    client.force_login(tenant_a.user(Role.VIEWER))

    named = client.get(URL, HTTP_X_MLS_ORGANIZATION=tenant_a.organization.slug)
    unnamed = client.get(URL)

    assert (named.status_code, len(named.json()["results"])) == (200, 1)
    assert unnamed.status_code == 401


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("region=EMEA&updated_since=yesterday", {"updated_since": ["Enter a valid date/time."]}),
        ("page_size=0", {"page_size": ["A whole number from 1 to 1,000."]}),
        ("ordering=email", {"ordering": ["Order by id, name, updated_at, or the same with a leading '-'."]}),
    ],
)
def test_invalid_query_is_400_with_field_errors_not_ignored(client, token, query, errors):
    response = client.get(f"{URL}?{query}", **auth(token))

    assert (response.status_code, response.json()) == (400, errors)


def test_invalid_yes_no_filter_is_400(client, token):
    response = client.get("/api/v1/courses/?regulated=maybe", **auth(token))

    assert (response.status_code, response.json()) == (400, {"regulated": ["Use true or false."]})
