"""Platform outages on the web, in CSV and in the API: logged and corrected by the engagement's provider (or an
owner), with the same time checks everywhere, bad input refused with nothing written, and audit before/after."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent
from scheduling import services
from scheduling.imports import RowError, import_csv, template_csv
from scheduling.models import Outage
from tests.factories import ProviderFactory, api_token
from tests.factories.engagements import EngagementFactory

pytestmark = pytest.mark.integration
ONE_ENGAGEMENT = "Give the engagement by exactly one of engagement (its name), engagement_id or engagement_external_id."

API = "/api/v1/outages/"
MARCH_3 = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
MARCH_3_0740 = datetime(2026, 3, 3, 7, 40, tzinfo=UTC)


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def auth(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {raw}"}


@pytest.fixture
def engagement(tenant_a):
    return EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Managed 2026")


@pytest.fixture
def others(tenant_a):
    """An engagement of another provider of the same client."""
    provider = ProviderFactory(organization=tenant_a.organization, name="Contoso Training")
    return EngagementFactory(organization=tenant_a.organization, provider=provider, name="Contoso 2026")


def logged(tenant, engagement, **fields) -> Outage:
    with tenant.scope():
        return services.log_outage(
            engagement=engagement,
            membership=tenant.members[Role.OWNER],
            starts_at=fields.get("starts_at", MARCH_3),
            ends_at=fields.get("ends_at", MARCH_3_0740),
            planned=fields.get("planned", False),
            description=fields.get("description", "SSO down"),
        )


def outages(tenant) -> list[tuple]:
    with tenant.scope():
        return list(
            Outage.objects.order_by("starts_at").values_list(
                "external_id", "engagement__name", "starts_at", "ends_at", "planned", "description"
            )
        )


# --- Web ---------------------------------------------------------------------------------------------------


def test_outage_edit_corrects_the_times_and_audits_before_and_after(client, tenant_a, engagement):
    outage = logged(tenant_a, engagement)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    data = {"engagement": engagement.pk, "starts_at": "2026-03-03T07:00", "ends_at": "2026-03-03T09:15"}

    response = client.post(org_url(tenant_a, "scheduling:outage_edit", pk=outage.pk), {**data, "description": "SSO"})

    assert response.status_code == 302
    # London in March (before the 29th) is GMT: local times are UTC.
    assert outages(tenant_a) == [("", "Managed 2026", MARCH_3, datetime(2026, 3, 3, 9, 15, tzinfo=UTC), False, "SSO")]
    with tenant_a.scope():
        [event] = AuditEvent.objects.filter(action="outage.updated")
    assert (event.actor, event.object_id) == (tenant_a.user(Role.PROVIDER_MANAGER), str(outage.pk))
    assert (event.before["ends_at"], event.after["ends_at"]) == ("2026-03-03T07:40:00Z", "2026-03-03T09:15:00Z")
    assert (event.before["description"], event.after["description"]) == ("SSO down", "SSO")


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"ends_at": "2026-03-03T06:00"}, {"ends_at": ["The end must come after the start."]}),
        (
            {"starts_at": "2099-03-03T06:00", "ends_at": "2099-03-03T07:00"},
            {
                "starts_at": ["An unplanned outage is logged once it has started; plan maintenance as planned."],
                "ends_at": ["This is more than 366 days ahead; check the year."],
            },
        ),
    ],
)
def test_outage_edit_with_bad_times_shows_form_errors_and_writes_nothing(client, tenant_a, engagement, change, errors):
    outage = logged(tenant_a, engagement)
    client.force_login(tenant_a.user(Role.OWNER))
    data = {"engagement": engagement.pk, "starts_at": "2026-03-03T07:00", "ends_at": "2026-03-03T07:40"}

    response = client.post(
        org_url(tenant_a, "scheduling:outage_edit", pk=outage.pk), {**data, "description": "SSO down", **change}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert outages(tenant_a) == [("", "Managed 2026", MARCH_3, MARCH_3_0740, False, "SSO down")]
    with tenant_a.scope():
        assert AuditEvent.objects.filter(action="outage.updated").count() == 0


def test_planned_maintenance_may_be_logged_ahead(tenant_a, engagement):
    with tenant_a.scope():
        ahead = services.log_outage(
            engagement=engagement,
            membership=tenant_a.members[Role.PROVIDER_MANAGER],
            starts_at=datetime(2027, 1, 2, 22, 0, tzinfo=UTC),
            ends_at=datetime(2027, 1, 2, 23, 0, tzinfo=UTC),
            planned=True,
            description="Upgrade",
        )

    assert ahead.planned is True


def test_outage_of_another_provider_is_not_found_by_a_provider_manager(client, tenant_a, others):
    theirs = logged(tenant_a, others)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    page = client.get(org_url(tenant_a, "scheduling:outage_edit", pk=theirs.pk))
    post = client.post(org_url(tenant_a, "scheduling:outage_edit", pk=theirs.pk), {"description": "Mine now"})

    assert (page.status_code, post.status_code) == (404, 404)
    assert outages(tenant_a)[0][-1] == "SSO down"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LD_DIRECTOR, Role.PROCUREMENT])
def test_outage_edit_is_refused_to_client_roles_that_do_not_log_delivery(client, tenant_a, engagement, role):
    outage = logged(tenant_a, engagement)
    client.force_login(tenant_a.user(role))

    response = client.post(org_url(tenant_a, "scheduling:outage_edit", pk=outage.pk), {"description": "Changed"})

    assert response.status_code == 403
    assert outages(tenant_a)[0][-1] == "SSO down"


@pytest.mark.parametrize(("role", "queries"), [(Role.VIEWER, 8), (Role.PROVIDER_MANAGER, 11)])
@pytest.mark.parametrize("count", [1, 3])
def test_outage_list_query_count_is_constant(
    client, tenant_a, engagement, django_assert_num_queries, role, queries, count
):
    for day in range(1, count + 1):
        logged(tenant_a, engagement, starts_at=MARCH_3.replace(day=day), ends_at=MARCH_3_0740.replace(day=day))
    client.force_login(tenant_a.user(role))

    # Queries: session, user, organization, membership, switcher, unread, count, page; a provider manager's page
    # also asks which engagements it may log for (whether any, the form's choices, the rows it may edit).
    with django_assert_num_queries(queries):
        response = client.get(org_url(tenant_a, "scheduling:outages"))

    assert len(response.context["page"].object_list) == count


# --- CSV ---------------------------------------------------------------------------------------------------

HEADER = "external_id,engagement,engagement_id,starts_at,ends_at,planned,description\n"


def run(tenant, text: str, role: str = Role.OWNER):
    with tenant.scope():
        return import_csv(kind="outages", organization=tenant.organization, text=text, actor=tenant.user(role))


def test_outage_import_names_the_engagement_by_name_or_id_and_upserts_by_external_id(tenant_a, engagement):
    created = run(
        tenant_a,
        HEADER + "O-1,Managed 2026,,2026-03-03T07:00:00+00:00,2026-03-03T07:40:00+00:00,,SSO down\n"
        f"O-2,,{engagement.pk},2026-03-10T22:00:00Z,2026-03-10T23:00:00Z,yes,Upgrade\n",
    )
    updated = run(tenant_a, HEADER + "O-2,Managed 2026,,2026-03-10T22:00:00Z,2026-03-10T23:30:00Z,,Upgrade\n")

    assert (created.created, created.errors, updated.updated, updated.errors) == (2, [], 1, [])
    assert outages(tenant_a) == [
        ("O-1", "Managed 2026", MARCH_3, MARCH_3_0740, False, "SSO down"),
        # A blank planned cell keeps what is stored.
        ("O-2", "Managed 2026", datetime(2026, 3, 10, 22, tzinfo=UTC), datetime(2026, 3, 10, 23, 30, tzinfo=UTC),
         True, "Upgrade"),
    ]  # fmt: skip


def test_outage_template_example_imports(tenant_a):
    EngagementFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Managed learning 2026")

    result = run(tenant_a, template_csv("outages"))

    assert (result.created, result.errors) == (1, [])


def test_outage_import_with_bad_rows_names_each_cell_and_writes_nothing(tenant_a, engagement, tenant_b):
    foreign = EngagementFactory(organization=tenant_b.organization, provider=tenant_b.provider)

    result = run(
        tenant_a,
        HEADER + "O-1,Managed 2026,,2026-03-03T07:00:00Z,2026-03-03T07:40:00Z,,Fine\n"
        f"O-2,Managed 2026,{engagement.pk},2026-03-03T07:00:00Z,2026-03-03T07:40:00Z,,Both\n"
        ",,,2026-03-03T07:00:00Z,2026-03-03T06:00:00Z,,\n"
        f"O-4,,{foreign.pk},2099-03-03T07:00:00Z,2099-03-03T08:00:00Z,sometimes,Future\n"
        "O-5,,x,2026-03-03 07:00,2026-03-03T07:40:00Z,,Bad\n",
    )

    assert result.errors == [
        RowError(3, "engagement_id", ONE_ENGAGEMENT),
        RowError(4, "external_id", "external_id is required."),
        RowError(4, "engagement", ONE_ENGAGEMENT),
        RowError(4, "ends_at", "The outage must end after it starts."),
        RowError(4, "description", "description is required."),
        RowError(5, "engagement_id", f"No engagement with id '{foreign.pk}' in this organization."),
        RowError(5, "planned", "'sometimes' is not yes or no; use true or false."),
        RowError(5, "starts_at", "An unplanned outage is logged once it has started; plan maintenance as planned."),
        RowError(5, "ends_at", "This is more than 366 days ahead; check the year."),
        RowError(6, "engagement_id", "'x' is not an engagement id (a whole number)."),
        RowError(6, "starts_at", "'2026-03-03 07:00' has no UTC offset; add it, e.g. 2026-03-02T09:00:00+00:00."),
    ]
    assert outages(tenant_a) == []


def test_provider_manager_imports_outages_of_its_own_providers_engagements_only(tenant_a, engagement, others):
    result = run(
        tenant_a,
        HEADER + "O-1,Managed 2026,,2026-03-03T07:00:00Z,2026-03-03T07:40:00Z,,Ours\n"
        "O-2,Contoso 2026,,2026-03-03T07:00:00Z,2026-03-03T07:40:00Z,,Theirs\n",
        role=Role.PROVIDER_MANAGER,
    )

    assert result.errors == [
        RowError(
            3,
            "engagement",
            "'Contoso 2026' belongs to another provider; you can import only your provider's delivery.",
        )
    ]
    assert outages(tenant_a) == []


# --- API ---------------------------------------------------------------------------------------------------

ITEM = {"external_id": "O-1", "starts_at": "2026-03-03T07:00:00Z", "ends_at": "2026-03-03T07:40:00Z"}


def test_outage_api_upserts_by_external_id_and_answers_as_reading_back(client, tenant_a, engagement):
    token = api_token(tenant_a)
    item = {**ITEM, "engagement_id": engagement.pk, "planned": False, "description": "SSO down"}

    created = client.post(API, item, content_type="application/json", **auth(token))
    updated = client.post(API, {**item, "description": "SSO"}, content_type="application/json", **auth(token))

    assert (created.status_code, updated.status_code) == (201, 200)
    read = client.get(f"{API}{created.json()['id']}/", **auth(token)).json()
    assert updated.json() == read
    assert (read["external_id"], read["engagement"], read["description"]) == ("O-1", engagement.pk, "SSO")
    assert outages(tenant_a) == [("O-1", "Managed 2026", MARCH_3, MARCH_3_0740, False, "SSO")]


def test_outage_api_bad_item_is_400_with_field_errors_and_writes_nothing(client, tenant_a, engagement):
    token = api_token(tenant_a)
    items = [
        {**ITEM, "engagement": "Managed 2026", "description": "Fine"},
        {**ITEM, "external_id": "O-2", "engagement": "Nope", "ends_at": "2026-03-03T06:00:00Z", "description": "x"},
    ]

    response = client.post(f"{API}bulk/", items, content_type="application/json", **auth(token))

    assert response.status_code == 400
    assert response.json() == {
        "written": False,
        "errors": [
            {
                "index": 1,
                "errors": {
                    "engagement": ["No engagement 'Nope' in this organization."],
                    "ends_at": ["The outage must end after it starts."],
                },
            }
        ],
    }
    assert outages(tenant_a) == []


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.VIEWER, 403), (Role.PROCUREMENT, 403), (Role.LD_DIRECTOR, 403), (Role.PROVIDER_MANAGER, 201)],
)
def test_outage_api_write_needs_log_delivery(client, tenant_a, engagement, role, status):
    client.force_login(tenant_a.user(role))
    item = {**ITEM, "engagement": "Managed 2026", "description": "SSO down"}

    response = client.post(
        API, item, content_type="application/json", HTTP_X_MLS_ORGANIZATION=tenant_a.organization.slug
    )

    assert response.status_code == status
    assert len(outages(tenant_a)) == (status == 201)


def test_provider_token_sees_and_writes_outages_of_its_provider_only(client, tenant_a, engagement, others):
    theirs = logged(tenant_a, others)
    raw = api_token(tenant_a, provider=tenant_a.provider)

    listed = client.get(API, **auth(raw))
    detail = client.get(f"{API}{theirs.pk}/", **auth(raw))
    write = client.post(
        API, {**ITEM, "engagement_id": others.pk, "description": "x"}, content_type="application/json", **auth(raw)
    )

    assert (listed.json()["results"], detail.status_code) == ([], 404)
    assert (write.status_code, list(write.json())) == (400, ["engagement_id"])
    assert len(outages(tenant_a)) == 1


@pytest.mark.parametrize("count", [1, 3])
def test_outage_api_list_queries_do_not_grow_with_rows(client, tenant_a, engagement, count, django_assert_num_queries):
    token = api_token(tenant_a)
    for day in range(1, count + 1):
        logged(tenant_a, engagement, starts_at=MARCH_3.replace(day=day), ends_at=MARCH_3_0740.replace(day=day))

    # The caller (token, organization and owner in one), the token's first "last used", the page.
    with django_assert_num_queries(3):
        response = client.get(API, **auth(token))

    assert len(response.json()["results"]) == count
