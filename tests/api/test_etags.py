"""ETag / If-Match on contract objects (SoW, SLA schedule, SLA target): 428 without If-Match, 412 when stale,
the change through the same services as the web app when current."""

from decimal import Decimal

import pytest

from mls.models import AuditEvent
from slas.models import SlaSchedule, SlaTarget
from tests.factories import api_token
from tests.factories.engagements import signed_contract_with_proposal

pytestmark = pytest.mark.integration


@pytest.fixture
def contract(tenant_a):
    return signed_contract_with_proposal(tenant_a)


@pytest.fixture
def token(tenant_a):
    return api_token(tenant_a)


def auth(raw: str, **headers: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": f"Token {raw}",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }


def patch(client, path: str, body: dict, raw: str, **headers: str):
    return client.patch(path, body, content_type="application/json", **auth(raw, **headers))


def sow_url(contract) -> str:
    return f"/api/v1/sows/{contract.sow.pk}/"


def test_a_read_carries_an_etag_and_if_none_match_gives_304(client, contract, token):
    first = client.get(sow_url(contract), **auth(token))
    again = client.get(sow_url(contract), **auth(token, **{"If-None-Match": first["ETag"]}))

    assert first.status_code == 200
    assert first["ETag"].startswith('"')
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_patch_without_if_match_is_428_and_changes_nothing(client, tenant_a, contract, token):
    response = patch(client, sow_url(contract), {"title": "Renamed"}, token)

    assert response.status_code == 428
    contract.sow.refresh_from_db()
    assert contract.sow.title != "Renamed"


def test_patch_with_the_current_etag_changes_and_audits_then_the_old_etag_is_412(client, tenant_a, contract, token):
    etag = client.get(sow_url(contract), **auth(token))["ETag"]

    changed = patch(client, sow_url(contract), {"title": "Leadership academy"}, token, **{"If-Match": etag})
    stale = patch(client, sow_url(contract), {"title": "Someone else's idea"}, token, **{"If-Match": etag})

    assert changed.status_code == 200
    assert changed.json()["title"] == "Leadership academy"
    assert changed["ETag"] != etag
    assert changed["ETag"] == client.get(sow_url(contract), **auth(token))["ETag"]
    assert stale.status_code == 412
    contract.sow.refresh_from_db()
    assert contract.sow.title == "Leadership academy"
    with tenant_a.scope():
        assert AuditEvent.objects.filter(action="sow.updated").count() == 1


def test_a_replayed_patch_carries_the_etag_of_the_change_it_replays(client, tenant_a, contract, token):
    etag = client.get(sow_url(contract), **auth(token))["ETag"]
    body, headers = {"title": "Leadership academy"}, {"If-Match": etag, "Idempotency-Key": "rename-1"}

    changed = patch(client, sow_url(contract), body, token, **headers)
    replayed = patch(client, sow_url(contract), body, token, **headers)

    assert (changed.status_code, replayed.status_code, replayed["Idempotent-Replayed"]) == (200, 200, "true")
    assert replayed["ETag"] == changed["ETag"] == client.get(sow_url(contract), **auth(token))["ETag"] != etag
    assert replayed.content == changed.content


def test_a_change_made_in_the_web_app_makes_the_integrators_etag_stale(client, tenant_a, contract, token):
    url = f"/api/v1/sla-targets/{contract.sla_target.pk}/"
    etag = client.get(url, **auth(token))["ETag"]
    with tenant_a.scope():
        SlaTarget.objects.filter(pk=contract.sla_target.pk).update(target=Decimal("91.00"))

    response = patch(client, url, {"target": "95.00"}, token, **{"If-Match": etag})

    assert response.status_code == 412
    assert "GET it again" in response.json()["detail"]


def test_target_and_schedule_changes_go_through_the_sla_services(client, tenant_a, contract, token):
    target_url = f"/api/v1/sla-targets/{contract.sla_target.pk}/"
    schedule_url = f"/api/v1/sla-schedules/{contract.sla_target.schedule_id}/"

    target = patch(client, target_url, {"target": "95.5"}, token, **{"If-Match": "*"})
    schedule = patch(client, schedule_url, {"at_risk_percent": "10"}, token, **{"If-Match": "*"})

    assert (target.status_code, schedule.status_code) == (200, 200)
    assert target.json()["target"] == "95.50"
    assert schedule.json()["at_risk_percent"] == "10.00"
    with tenant_a.scope():
        assert SlaTarget.objects.get(pk=contract.sla_target.pk).target == Decimal("95.50")
        assert SlaSchedule.objects.get().at_risk_percent == Decimal("10.00")
        assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
            "sla_target.updated",
            "sla_schedule.updated",
        }


@pytest.mark.parametrize(
    ("body", "field"),
    [({"allocation_percent": "250"}, "allocation_percent"), ({"target": "not a number"}, "target")],
)
def test_bad_values_are_400_with_field_errors(client, contract, token, body, field):
    url = f"/api/v1/sla-targets/{contract.sla_target.pk}/"
    before = client.get(url, **auth(token)).json()

    response = patch(client, url, body, token, **{"If-Match": "*"})

    assert response.status_code == 400
    assert field in response.json()
    assert client.get(url, **auth(token)).json() == before


def test_a_model_rule_refused_by_the_service_is_400_too(client, contract, token):
    url = f"/api/v1/sla-schedules/{contract.sla_target.schedule_id}/"

    response = patch(client, url, {"formal_review_after": 5, "exit_right_after": 2}, token, **{"If-Match": "*"})

    assert response.status_code == 400
    assert response.json() == {"exit_right_after": ["The exit right cannot come before the formal review."]}


def test_only_contract_managers_may_change_contract_objects(client, tenant_a, contract):
    read_token = api_token(tenant_a, scope="read")
    provider_token = api_token(tenant_a, provider=tenant_a.provider)

    refused = {
        patch(client, sow_url(contract), {"title": "x"}, raw, **{"If-Match": "*"}).status_code
        for raw in (read_token, provider_token)
    }

    assert refused == {403}


def test_put_is_not_offered(client, contract, token):
    response = client.put(sow_url(contract), {"title": "x"}, content_type="application/json", **auth(token))

    assert response.status_code == 405
