"""Issue 17's acceptance "from the API alone": a brand-new organization, with nothing but its owner, creates its
provider, an engagement, a SoW and an SLA schedule with targets through the REST API, and reads them back; bad
input on each of those writes is a 400 with field errors and writes nothing; providers change with If-Match."""

import pytest

from engagements.models import Engagement, Sow, SowVersion
from mls.enums import Role
from mls.models import AuditEvent, Membership, Provider
from mls.services import create_api_token, create_organization
from mls.tenancy import organization_scope
from slas.models import SlaSchedule, SlaTarget
from tests.factories import UserFactory, api_token
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.integration

ENGAGEMENT = {
    "name": "Leadership academy 2027",
    "engagement_model": "managed_services",
    "vendor_model": "master_service_provider",
    "currency": "GBP",
    "timezone": "Europe/London",
    "holiday_country": "GB",
    "start_date": "2027-01-01",
    "end_date": "2029-12-31",
    "annual_value": "579000.00",
}


class Caller:
    """The new owner calling the API with a token, or signed in (the web app's own calls)."""

    def __init__(self, client, organization, credential: str) -> None:
        self.client, self.organization = client, organization
        if credential == "token":
            with organization_scope(organization):
                membership = Membership.objects.get()
                _, raw = create_api_token(membership=membership, name="Onboarding", scope="read_write")
            self.headers = {"HTTP_AUTHORIZATION": f"Token {raw}"}
        else:
            with organization_scope(organization):
                owner = Membership.objects.get().user
            client.force_login(owner)
            self.headers = {"HTTP_X_MLS_ORGANIZATION": organization.slug}

    def post(self, path: str, body: object):
        return self.client.post(f"/api/v1/{path}", body, content_type="application/json", **self.headers)

    def get(self, path: str):
        return self.client.get(f"/api/v1/{path}", **self.headers)


@pytest.fixture
def new_organization(db):
    """What sign-up leaves: an organization whose only row is its owner's membership."""
    return create_organization(owner=UserFactory(email="founder@globex.test"), name="Globex")


@pytest.fixture(params=["token", "session"])
def caller(request, client, new_organization) -> Caller:
    return Caller(client, new_organization, request.param)


def created(response) -> dict:
    assert response.status_code == 201, response.json()
    assert response["ETag"]
    return response.json()


def test_a_new_organization_sets_up_its_first_engagement_from_the_api_alone(caller, new_organization):
    provider = created(caller.post("providers/", {"name": "Northwind Learning", "contact_email": "am@northwind.test"}))
    engagement = created(caller.post("engagements/", {**ENGAGEMENT, "provider": provider["id"]}))
    sow = created(
        caller.post(
            "sows/",
            {
                "engagement": engagement["id"],
                "reference": "SOW-001",
                "title": "Leadership programme",
                "effective_from": "2027-01-01",
                "pricing_model": "retainer",
            },
        )
    )
    line = caller.post(
        f"sows/{sow['id']}/service-lines/", {"name": "Managed service", "basis": "fixed", "amount": "48250.00"}
    )
    schedule = created(caller.post("sla-schedules/", {"engagement": engagement["id"], "at_risk_percent": "12.00"}))
    targets = [
        created(caller.post("sla-targets/", {"schedule": schedule["id"], "active_from": "2027-01-01", **fields}))
        for fields in (
            {"metric": "support_first_response", "target": "95.00", "allocation_percent": "40.00"},
            {"metric": "session_delivery_rate", "target": "98.00", "allocation_percent": "35.00", "min_sample": 3},
        )
    ]

    assert line.status_code == 201
    read_back = {
        "providers": caller.get("providers/").json()["results"],
        "engagements": caller.get(f"engagements/?provider={provider['id']}").json()["results"],
        "sows": caller.get(f"sows/?engagement={engagement['id']}").json()["results"],
        "schedules": caller.get(f"sla-schedules/?engagement={engagement['id']}").json()["results"],
        "targets": caller.get(f"sla-targets/?engagement={engagement['id']}").json()["results"],
    }
    assert [(p["id"], p["name"], p["contact_email"]) for p in read_back["providers"]] == [
        (provider["id"], "Northwind Learning", "am@northwind.test")
    ]
    assert [(e["id"], e["provider"], e["name"]) for e in read_back["engagements"]] == [
        (engagement["id"], provider["id"], "Leadership academy 2027")
    ]
    assert [(s["id"], s["reference"], s["title"]) for s in read_back["sows"]] == [
        (sow["id"], "SOW-001", "Leadership programme")
    ]
    # The ladder comes from the engagement's MSA defaults (2 breached months to a formal review, 3 to exit).
    assert [
        (s["id"], s["at_risk_percent"], s["grace_days"], s["formal_review_after"], s["exit_right_after"])
        for s in read_back["schedules"]
    ] == [(schedule["id"], "12.00", 5, 2, 3)]
    # support_first_response's threshold defaults to the catalog's 8 hours; delivery rate has none.
    assert sorted(
        (t["metric"], t["target"], t["threshold"], t["min_sample"], t["allocation_percent"])
        for t in read_back["targets"]
    ) == [
        ("session_delivery_rate", "98.00", None, 3, "35.00"),
        ("support_first_response", "95.00", 8, 5, "40.00"),
    ]
    assert sorted(t["id"] for t in read_back["targets"]) == sorted(t["id"] for t in targets)
    with organization_scope(new_organization):
        version = SowVersion.objects.get()
        actions = sorted(AuditEvent.objects.exclude(object_type="mls.apitoken").values_list("action", flat=True))
        actors = set(AuditEvent.objects.values_list("actor_label", flat=True))
    assert (version.sow_id, version.number, version.status, version.pricing_model) == (
        sow["id"],
        1,
        "draft",
        "retainer",
    )
    assert actions == [
        "engagement.created",
        "member.added",
        "organization.created",
        "provider.added",
        "service_line.added",
        "sla_schedule.created",
        "sla_target.created",
        "sla_target.created",
        "sow.created",
        "sow_version.created",
    ]
    assert actors == {"founder@globex.test"}


@pytest.fixture
def onboarded(new_organization):
    """The new organization with its provider, engagement and SLA schedule (and the owner's token)."""
    tenant = type("NewTenant", (), {})()
    tenant.organization = new_organization
    with organization_scope(new_organization):
        owner = Membership.objects.get()
        tenant.members = {Role.OWNER: owner}
        tenant.user = lambda role: tenant.members[role].user
        tenant.scope = lambda: organization_scope(new_organization)
        tenant.provider = Provider.objects.create(organization=new_organization, name="Northwind Learning")
    tenant.engagement, tenant.schedule = sla_engagement(tenant, targets={})
    tenant.token = api_token(tenant)
    return tenant


def rows(organization) -> dict[str, int]:
    with organization_scope(organization):
        return {
            model.__name__: model.objects.count()
            for model in (Provider, Engagement, Sow, SowVersion, SlaSchedule, SlaTarget, AuditEvent)
        }


def sow_body(engagement_id: int, **fields: object) -> dict:
    base = {"reference": "SOW-9", "title": "T", "effective_from": "2027-01-01", "pricing_model": "retainer"}
    return {"engagement": engagement_id, **base, **fields}


def target_body(schedule_id: int, **fields: object) -> dict:
    base = {"metric": "session_delivery_rate", "target": "98", "allocation_percent": "40", "active_from": "2027-01-01"}
    return {"schedule": schedule_id, **base, **fields}


def bad_bodies(t) -> list[tuple[str, object, dict]]:
    """(resource, body, the whole 400 answer) for input the API refuses."""
    engagement, schedule = t.engagement.pk, t.schedule.pk
    return [
        ("providers/", {"name": ""}, {"name": ["This field may not be blank."]}),
        (
            "providers/",
            {"name": "NORTHWIND learning"},
            {"name": ["There is already a provider named NORTHWIND learning."]},
        ),
        (
            "providers/",
            {"name": "Contoso", "contact_email": "nope"},
            {"contact_email": ["Enter a valid email address."]},
        ),
        (
            "providers/",
            [{"name": "Contoso"}],
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
        ),
        ("sows/", sow_body(999999), {"engagement": ['Invalid pk "999999" - object does not exist.']}),
        ("sows/", sow_body(engagement, pricing_model="barter"), {"pricing_model": ['"barter" is not a valid choice.']}),
        (
            "sows/",
            sow_body(engagement, reference=t.sow_reference),
            {"reference": [f"{t.engagement} already has a SoW {t.sow_reference}."]},
        ),
        (
            "sla-schedules/",
            {"engagement": engagement},
            {"engagement": [f"{t.engagement} already has an SLA schedule: change that one."]},
        ),
        (
            "sla-schedules/",
            {"engagement": engagement, "at_risk_percent": "0"},
            {"at_risk_percent": ["Ensure this value is greater than or equal to 0.01."]},
        ),
        ("sla-targets/", target_body(schedule, metric="happiness"), {"metric": ['"happiness" is not a valid choice.']}),
        (
            "sla-targets/",
            target_body(schedule, metric="support_first_response", target="101"),
            {"target": ["The target of this metric must be between 0 and 100."]},
        ),
        (
            "sla-targets/",
            target_body(schedule, threshold=4),
            {"threshold": ["This metric has no threshold parameter."]},
        ),
    ]


def test_bad_input_on_every_onboarding_write_is_a_400_with_field_errors_and_writes_nothing(client, onboarded):
    with onboarded.scope():
        onboarded.sow_reference = Sow.objects.get().reference
    before = rows(onboarded.organization)
    headers = {"HTTP_AUTHORIZATION": f"Token {onboarded.token}"}

    answers = [
        (resource, client.post(f"/api/v1/{resource}", body, content_type="application/json", **headers))
        for resource, body, _ in bad_bodies(onboarded)
    ]

    assert [(resource, r.status_code, r.json()) for resource, r in answers] == [
        (resource, 400, expected) for resource, _, expected in bad_bodies(onboarded)
    ]
    assert rows(onboarded.organization) == before


def test_another_organizations_engagement_or_schedule_is_not_found(client, onboarded, tenant_b):
    theirs, their_schedule = sla_engagement(tenant_b, targets={})
    headers = {"HTTP_AUTHORIZATION": f"Token {onboarded.token}"}
    before = rows(tenant_b.organization)

    sow = client.post("/api/v1/sows/", sow_body(theirs.pk), content_type="application/json", **headers)
    target = client.post(
        "/api/v1/sla-targets/", target_body(their_schedule.pk), content_type="application/json", **headers
    )

    assert (sow.status_code, sow.json()) == (
        400,
        {"engagement": [f'Invalid pk "{theirs.pk}" - object does not exist.']},
    )
    assert (target.status_code, list(target.json())) == (400, ["schedule"])
    assert rows(tenant_b.organization) == before


def test_a_provider_changes_with_if_match_and_a_stale_or_missing_etag_changes_nothing(client, onboarded):
    headers = {"HTTP_AUTHORIZATION": f"Token {onboarded.token}"}
    url = f"/api/v1/providers/{onboarded.provider.pk}/"
    etag = client.get(url, **headers)["ETag"]

    def patch(body: dict, **extra: str):
        return client.patch(url, body, content_type="application/json", **headers, **extra)

    missing = patch({"name": "Northwind Ltd"})
    changed = patch({"name": "Northwind Ltd"}, HTTP_IF_MATCH=etag)
    stale = patch({"name": "Northwind plc"}, HTTP_IF_MATCH=etag)
    bad = patch({"contact_email": "nope"}, HTTP_IF_MATCH=changed["ETag"])

    assert [missing.status_code, changed.status_code, stale.status_code, bad.status_code] == [428, 200, 412, 400]
    assert changed.json()["name"] == "Northwind Ltd"
    assert bad.json() == {"contact_email": ["Enter a valid email address."]}
    with onboarded.scope():
        assert Provider.objects.get().name == "Northwind Ltd"
        event = AuditEvent.objects.get(action="provider.updated")
    assert (event.before["name"], event.after["name"]) == ("Northwind Learning", "Northwind Ltd")


@pytest.mark.parametrize("role", [Role.LD_DIRECTOR, Role.PROVIDER_MANAGER, Role.VIEWER])
def test_roles_without_manage_providers_may_not_create_or_change_providers(client, tenant_a, role):
    client.force_login(tenant_a.user(role))
    headers = {"HTTP_X_MLS_ORGANIZATION": tenant_a.organization.slug}
    url = f"/api/v1/providers/{tenant_a.provider.pk}/"

    posted = client.post("/api/v1/providers/", {"name": "Contoso"}, content_type="application/json", **headers)
    patched = client.patch(url, {"name": "Renamed"}, content_type="application/json", HTTP_IF_MATCH="*", **headers)

    assert (posted.status_code, patched.status_code) == (403, 403)
    with tenant_a.scope():
        assert list(Provider.objects.values_list("name", flat=True)) == ["Northwind Learning"]


def test_a_provider_token_may_not_create_providers(client, tenant_a):
    raw = api_token(tenant_a, provider=tenant_a.provider)

    response = client.post(
        "/api/v1/providers/", {"name": "Contoso"}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}"
    )

    assert response.status_code == 403
    with tenant_a.scope():
        assert Provider.objects.count() == 1
