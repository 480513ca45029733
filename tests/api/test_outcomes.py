"""Outcome measurements over the API: a side submits a gain-share line's value of a month with its evidence, the other
side verifies or rejects it; refusals are 400 with field errors (or 403 for a role that may not) and write nothing;
`?month=YYYY-MM` lists one month; the list's queries do not grow with its rows."""

from datetime import date
from decimal import Decimal

import pytest

from engagements import services
from engagements.enums import LineBasis
from engagements.models import OutcomeMeasurement
from mls.enums import Role
from mls.models import AuditEvent
from tests.factories import ProviderFactory, api_token
from tests.factories.engagements import EngagementFactory, SowFactory, outcome_based_version

pytestmark = pytest.mark.integration

URL = "/api/v1/outcome-measurements/"
EVIDENCE = "Service desk report https://reports.example/ftf-2026-03"


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


def signed_outcome_line(tenant, provider=None):
    engagement = EngagementFactory(organization=tenant.organization, provider=provider or tenant.provider)
    sow = SowFactory(engagement=engagement)
    with tenant.scope():
        version = services.sign_version(version=outcome_based_version(sow), actor=tenant.user(Role.PROCUREMENT))
        return version.service_lines.get(basis=LineBasis.GAIN_SHARE)


@pytest.fixture
def line(tenant_a):
    return signed_outcome_line(tenant_a)


@pytest.fixture
def provider_token(tenant_a):
    return api_token(tenant_a, provider=tenant_a.provider)


@pytest.fixture
def owner_token(tenant_a):
    return api_token(tenant_a)


def body(line, **fields):
    return {"service_line": line.pk, "month": "2026-03", "value": "80.00", "evidence": EVIDENCE, **fields}


def post(client, url, data, token):
    return client.post(url, data, content_type="application/json", **auth(token))


def submitted(tenant, line, month=date(2026, 3, 1), role=Role.PROVIDER_MANAGER):
    with tenant.scope():
        return services.submit_outcome_measurement(
            service_line=line, membership=tenant.members[role], month=month, value=Decimal("80"), evidence=EVIDENCE
        )


def counts(tenant):
    with tenant.scope():
        return OutcomeMeasurement.objects.count(), AuditEvent.objects.count()


def test_providers_token_submits_a_value(client, tenant_a, line, provider_token):
    response = post(client, URL, body(line), provider_token)

    with tenant_a.scope():
        measurement = OutcomeMeasurement.objects.get()
        event = AuditEvent.objects.get(action="outcome_measurement.submitted")
    assert response.status_code == 201, response.json()
    assert {k: response.json()[k] for k in ("id", "service_line", "month", "value", "status", "submitted_side")} == {
        "id": measurement.pk,
        "service_line": line.pk,
        "month": "2026-03",
        "value": "80.00",
        "status": "submitted",
        "submitted_side": "provider",
    }
    assert (response.json()["engagement"], event.object_id) == (line.version.sow.engagement_id, str(measurement.pk))


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"month": "2026-13"}, {"month": ["'2026-13' is not a month; use YYYY-MM, e.g. 2026-09."]}),
        ({"month": "2026-03-01"}, {"month": ["'2026-03-01' is not a month; use YYYY-MM, e.g. 2026-09."]}),
        ({"month": "0000-01"}, {"month": ["Give a month of the years 1900 to 2200."]}),
        ({"month": "2200-01"}, {"month": ["2200-01 has not begun: record its outcome once it is measured."]}),
        ({"value": "a lot"}, {"value": ["A valid number is required."]}),
        ({"value": "1234567890123"}, {"value": ["Ensure that there are no more than 12 digits in total."]}),
        ({"evidence": ""}, {"evidence": ["This field may not be blank."]}),
        ({"service_line": "x"}, {"service_line": ["Incorrect type. Expected pk value, received str."]}),
    ],
)
def test_bad_input_is_400_with_field_errors_and_writes_nothing(client, tenant_a, line, provider_token, fields, errors):
    before = counts(tenant_a)

    response = post(client, URL, body(line, **fields), provider_token)

    assert (response.status_code, response.json()) == (400, errors)
    assert counts(tenant_a) == before


def test_a_line_that_is_not_a_gain_share_is_a_field_error(client, tenant_a, line, provider_token):
    with tenant_a.scope():
        base_fee = line.version.service_lines.get(basis=LineBasis.FIXED)

    response = post(client, URL, body(base_fee), provider_token)

    assert (response.status_code, response.json()) == (
        400,
        {"service_line": ["Only a gain-share line of an outcome-based SoW takes outcome values."]},
    )


def test_another_organizations_or_providers_line_is_not_found(client, tenant_a, tenant_b, line, provider_token):
    foreign = signed_outcome_line(tenant_b)
    other_provider = signed_outcome_line(tenant_a, ProviderFactory(organization=tenant_a.organization, name="Contoso"))
    before = counts(tenant_a), counts(tenant_b)

    responses = [post(client, URL, body(other), provider_token) for other in (foreign, other_provider)]

    assert [(r.status_code, r.json()) for r in responses] == [
        (400, {"service_line": [f'Invalid pk "{other.pk}" - object does not exist.']})
        for other in (foreign, other_provider)
    ]
    assert (counts(tenant_a), counts(tenant_b)) == before


def test_a_viewer_is_403_on_every_outcome_write_and_nothing_is_written(client, tenant_a, line):
    measurement = submitted(tenant_a, line)
    client.force_login(tenant_a.user(Role.VIEWER))
    before = counts(tenant_a)

    statuses = [
        client.post(
            url, data, content_type="application/json", HTTP_X_MLS_ORGANIZATION=tenant_a.organization.slug
        ).status_code
        for url, data in [
            (URL, body(line, month="2026-02")),
            (f"{URL}{measurement.pk}/verify/", {}),
            (f"{URL}{measurement.pk}/reject/", {"reason": "No"}),
        ]
    ]

    assert statuses == [403, 403, 403]
    assert counts(tenant_a) == before


def test_the_client_verifies_the_providers_value(client, tenant_a, line, owner_token):
    measurement = submitted(tenant_a, line)

    response = post(client, f"{URL}{measurement.pk}/verify/", {}, owner_token)
    again = post(client, f"{URL}{measurement.pk}/verify/", {}, owner_token)

    assert (response.status_code, response.json()["status"]) == (200, "verified")
    assert (again.status_code, again.json()) == (400, {"non_field_errors": ["This value is already verified."]})
    with tenant_a.scope():
        assert AuditEvent.objects.filter(action="outcome_measurement.verified").count() == 1


def test_the_submitting_side_cannot_verify_or_reject(client, tenant_a, line, provider_token):
    measurement = submitted(tenant_a, line)
    before = counts(tenant_a)

    statuses = [
        post(client, f"{URL}{measurement.pk}/{decision}/", {"reason": "Mine"}, provider_token).status_code
        for decision in ("verify", "reject")
    ]

    assert statuses == [403, 403]
    assert counts(tenant_a) == before


def test_the_provider_rejects_the_clients_value_with_a_reason(client, tenant_a, line, provider_token):
    measurement = submitted(tenant_a, line, role=Role.LD_DIRECTOR)

    missing = post(client, f"{URL}{measurement.pk}/reject/", {}, provider_token)
    blank = post(client, f"{URL}{measurement.pk}/reject/", {"reason": " "}, provider_token)
    rejected = post(client, f"{URL}{measurement.pk}/reject/", {"reason": "Counts reopened tickets"}, provider_token)

    assert (missing.status_code, missing.json()) == (400, {"reason": ["This field is required."]})
    assert (blank.status_code, blank.json()) == (400, {"reason": ["This field may not be blank."]})
    assert (rejected.status_code, rejected.json()["status"], rejected.json()["rejection_reason"]) == (
        200,
        "rejected",
        "Counts reopened tickets",
    )


def test_list_filters_by_month(client, tenant_a, line, owner_token):
    march = submitted(tenant_a, line, date(2026, 3, 1))
    submitted(tenant_a, line, date(2026, 2, 1))

    filtered = client.get(URL, {"month": "2026-03"}, **auth(owner_token))
    bad = client.get(URL, {"month": "2026-3"}, **auth(owner_token))

    assert [row["id"] for row in filtered.json()["results"]] == [march.pk]
    assert (bad.status_code, bad.json()) == (400, {"month": ["'2026-3' is not a month; use YYYY-MM, e.g. 2026-09."]})


def test_a_providers_token_lists_its_provider_values_only(client, tenant_a, tenant_b, line, provider_token):
    own = submitted(tenant_a, line)
    other_line = signed_outcome_line(tenant_a, ProviderFactory(organization=tenant_a.organization, name="Contoso"))
    hidden = submitted(tenant_a, other_line, role=Role.OWNER)
    submitted(tenant_b, signed_outcome_line(tenant_b))

    listed = client.get(URL, **auth(provider_token))
    detail = client.get(f"{URL}{hidden.pk}/", **auth(provider_token))

    assert [row["id"] for row in listed.json()["results"]] == [own.pk]
    assert detail.status_code == 404


@pytest.mark.parametrize("months", [1, 3])
def test_list_queries_do_not_grow_with_rows(client, tenant_a, line, owner_token, months, django_assert_num_queries):
    for month in range(1, months + 1):
        submitted(tenant_a, line, date(2026, month, 1))

    # The caller (token, organization and owner in one), the token's first "last used", the page.
    with django_assert_num_queries(3):
        response = client.get(URL, **auth(owner_token))

    assert len(response.json()["results"]) == months


def test_the_statement_charges_the_gain_share_once_the_value_submitted_over_the_api_is_verified_over_it(
    client, tenant_a, line, provider_token, owner_token
):
    statement_url = f"/api/v1/statements/?sow={line.version.sow_id}&month=2026-03"
    created = post(client, URL, body(line, value="75.00"), provider_token).json()

    before = client.get(statement_url, **auth(owner_token)).json()
    post(client, f"{URL}{created['id']}/verify/", {}, owner_token)
    after = client.get(statement_url, **auth(owner_token)).json()

    # Base fee 10000.00; 75.00 >= baseline 70 + uplift 5, so once verified: 15 % × 10000.00 = 1500.00.
    assert [(row["name"], row["amount"]) for row in before["lines"]] == [
        ("Base fee", "10000.00"),
        ("First-time-fix gain share", "0.00"),
    ]
    assert before["lines"][1]["detail"] == (
        "not charged: outcome 75 awaiting verification by the client (15 % of £10,000.00)"
    )
    assert [(row["name"], row["amount"]) for row in after["lines"]] == [
        ("Base fee", "10000.00"),
        ("First-time-fix gain share", "1500.00"),
    ]
    assert (after["lines"][1]["detail"], after["total"]) == (
        "15 % of £10,000.00; outcome 75 vs target 75 (baseline 70 + uplift 5) met",
        "11500.00",
    )
