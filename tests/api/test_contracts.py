"""Contract writes over the API (issue 4's bad input at API level): engagements and their MSA terms, a SoW draft's
priced lines. Every refusal is 400 with field errors and writes nothing; a signed SoW is not edited."""

from datetime import date

import pytest

from engagements import services
from engagements.models import Engagement, ServiceLine
from mls.enums import Role
from mls.models import AuditEvent
from tests.factories import api_token
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration


def auth(raw: str, **headers: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": f"Token {raw}",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }


def engagement_body(tenant: object, **fields: object) -> dict:
    return {
        "provider": tenant.provider.pk,
        "name": "Leadership academy",
        "engagement_model": "managed_services",
        "vendor_model": "master_service_provider",
        "currency": "GBP",
        "timezone": "Europe/London",
        "holiday_country": "GB",
        "start_date": "2027-01-01",
        "end_date": "2029-12-31",
        "annual_value": "250000.00",
        **fields,
    }


@pytest.fixture
def token(tenant_a):
    return api_token(tenant_a)


def count(tenant: object, model: type) -> int:
    with tenant.scope():
        return model.objects.count()


def test_a_contract_manager_creates_an_engagement(client, tenant_a, token):
    response = client.post(
        "/api/v1/engagements/", engagement_body(tenant_a), content_type="application/json", **auth(token)
    )

    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "Leadership academy"
    assert response["ETag"]
    with tenant_a.scope():
        assert AuditEvent.objects.filter(action="engagement.created").count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"end_date": "2026-12-31"}, "end_date", "The end date must be after the start date."),
        ({"termination_notice_days": 30}, "termination_notice_days", "greater than or equal to 60"),
        ({"renewal_notice_days": 120}, "renewal_notice_days", "less than or equal to 90"),
        ({"annual_value": "-1"}, "annual_value", "greater than or equal to 0"),
        ({"timezone": "Mars/Olympus"}, "timezone", ""),
        ({"start_date": "soon"}, "start_date", "Date has wrong format"),
    ],
)
def test_bad_msa_terms_are_400_with_field_errors_and_nothing_is_written(
    client, tenant_a, token, fields, field, message
):
    before = count(tenant_a, Engagement)

    response = client.post(
        "/api/v1/engagements/", engagement_body(tenant_a, **fields), content_type="application/json", **auth(token)
    )

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert message in response.json()[field][0]
    assert count(tenant_a, Engagement) == before


def test_another_organizations_provider_is_not_found(client, tenant_a, tenant_b, token):
    response = client.post(
        "/api/v1/engagements/",
        engagement_body(tenant_a, provider=tenant_b.provider.pk),
        content_type="application/json",
        **auth(token),
    )

    assert response.status_code == 400
    assert list(response.json()) == ["provider"]


def test_patching_msa_terms_out_of_range_is_400_and_keeps_the_engagement(client, tenant_a, token):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    url = f"/api/v1/engagements/{engagement.pk}/"

    refused = client.patch(
        url, {"transition_period_days": 200}, content_type="application/json", **auth(token, **{"If-Match": "*"})
    )
    accepted = client.patch(
        url, {"transition_period_days": 120}, content_type="application/json", **auth(token, **{"If-Match": "*"})
    )

    assert refused.status_code == 400
    assert list(refused.json()) == ["transition_period_days"]
    assert accepted.status_code == 200
    engagement.refresh_from_db()
    assert engagement.transition_period_days == 120


def test_a_provider_token_may_not_create_engagements(client, tenant_a):
    raw = api_token(tenant_a, provider=tenant_a.provider)

    response = client.post(
        "/api/v1/engagements/", engagement_body(tenant_a), content_type="application/json", **auth(raw)
    )

    assert response.status_code == 403


# --- Priced lines of a SoW draft ---------------------------------------------------------------------------------


@pytest.fixture
def draft_sow(tenant_a):
    engagement = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    with tenant_a.scope():
        return services.create_sow(
            engagement=engagement,
            actor=tenant_a.user(Role.OWNER),
            reference="SOW-9",
            title="Onboarding",
            effective_from=date(2026, 1, 1),
            pricing_model="per_learner",
        )


def add_line(client, sow, token: str, **fields: object):
    body = {"name": "Learners", "basis": "per_learner", **fields}
    return client.post(f"/api/v1/sows/{sow.pk}/service-lines/", body, content_type="application/json", **auth(token))


def test_a_per_learner_line_with_graduated_bands_is_added_to_the_draft(client, tenant_a, draft_sow, token):
    response = add_line(
        client, draft_sow, token, bands=[{"up_to": 100, "rate": "40.00"}, {"up_to": None, "rate": "35.00"}]
    )

    assert response.status_code == 201, response.json()
    assert response.json()["bands"] == [{"up_to": 100, "rate": "40.00"}, {"up_to": None, "rate": "35.00"}]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"bands": [{"up_to": 100, "rate": "-5.00"}, {"up_to": None, "rate": "35.00"}]}, "bands"),  # negative rate
        (
            {"bands": [{"up_to": 100, "rate": "40"}, {"up_to": 50, "rate": "35"}, {"up_to": None, "rate": "30"}]},
            "bands",
        ),
        ({"bands": [{"up_to": None, "rate": "40"}, {"up_to": 100, "rate": "35"}]}, "bands"),  # unbounded not last
        ({"bands": []}, "bands"),
        ({"basis": "fixed", "amount": "-100.00"}, "amount"),
        ({"basis": "unit", "unit_price": "-2.00", "usage_key": "completions"}, "unit_price"),
    ],
)
def test_bad_prices_and_bands_are_400_and_nothing_is_written(client, tenant_a, draft_sow, token, fields, field):
    response = add_line(client, draft_sow, token, **fields)

    assert response.status_code == 400
    assert field in response.json()
    assert count(tenant_a, ServiceLine) == 0


def test_a_signed_sow_has_no_draft_to_price(client, tenant_a, token):
    engagement, _ = sla_engagement(tenant_a)  # one SoW, its retainer version signed
    with tenant_a.scope():
        sow = engagement.sows.get()

    response = add_line(client, sow, token, basis="fixed", amount="100.00")

    assert response.status_code == 400
    assert "change request" in response.json()["non_field_errors"][0]


def test_an_engagements_external_id_is_set_on_create_and_changed_by_patch(client, tenant_a, token):
    created = client.post(
        "/api/v1/engagements/", engagement_body(tenant_a, external_id="ERP-7"), content_type="application/json",
        **auth(token),
    )  # fmt: skip
    url = f"/api/v1/engagements/{created.json()['id']}/"

    patched = client.patch(
        url, {"external_id": "ERP-8"}, content_type="application/json", **auth(token, **{"If-Match": "*"})
    )

    assert (created.status_code, created.json()["external_id"]) == (201, "ERP-7")
    assert (patched.status_code, patched.json()["external_id"]) == (200, "ERP-8")
    with tenant_a.scope():
        event = AuditEvent.objects.get(action="engagement.updated")
    assert (event.before["external_id"], event.after["external_id"]) == ("ERP-7", "ERP-8")


def test_an_external_id_another_engagement_has_is_400_on_external_id_and_nothing_is_written(
    client, tenant_a, tenant_b, token
):
    EngagementFactory(organization=tenant_b.organization, provider=tenant_b.provider, external_id="ERP-7")
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Ops", external_id="ERP-7")
    other = EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Sales")

    refused = client.post(
        "/api/v1/engagements/", engagement_body(tenant_a, external_id="ERP-7"), content_type="application/json",
        **auth(token),
    )  # fmt: skip
    patched = client.patch(
        f"/api/v1/engagements/{other.pk}/", {"external_id": "ERP-7"}, content_type="application/json",
        **auth(token, **{"If-Match": "*"}),
    )  # fmt: skip

    assert (refused.status_code, refused.json()) == (
        400,
        {"external_id": ["Engagement Ops already has external_id ERP-7."]},
    )
    assert (patched.status_code, patched.json()) == (
        400,
        {"external_id": ["Engagement Ops already has external_id ERP-7."]},
    )
    assert count(tenant_a, Engagement) == 2
    other.refresh_from_db()
    assert other.external_id == ""
