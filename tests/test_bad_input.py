"""Bad input sweep (issue 9): every form of the web app and every CSV import, fed generated junk.

Never a server error; and when the input is refused, nothing is written (every write of MLS is audited, so the
audit log not growing means no write happened). Forms are found on the pages themselves, so a new form is swept
as soon as its route is in tests/url_matrix.py.
"""

import base64
import copy
import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mls.enums import Role
from mls.models import AuditEvent, WebhookDelivery
from scheduling.imports import SHEETS, RowError, import_csv, template_csv
from scheduling.models import Course, Session
from tests.conftest import Tenant
from tests.factories import WebhookEndpointFactory, api_token
from tests.factories.scheduling import LearnerFactory
from tests.url_matrix import ORGANIZATION_ROUTES

pytestmark = pytest.mark.integration

POST_ROUTES = sorted(name for name, route in ORGANIZATION_ROUTES.items() if "POST" in route.methods)
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
NOT_FIELDS = {"csrfmiddlewaretoken"}

# Values a careless or hostile user types: blanks, huge numbers, negative amounts, bad dates, markup, SQL, unicode.
JUNK = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "-0.01",
            "1e309",
            "99999999999999999999",
            "2026-02-30",
            "31/12/2026",
            "NaN",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            '=HYPERLINK("http://x")',
            "\u202etxt.exe",
            "on",
            "true",
        ]
    ),
    st.text(max_size=300),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
)


def audit_count(tenant: object) -> int:
    with tenant.scope():
        return AuditEvent.objects.count()


@pytest.fixture(scope="module")
def sweep_tenant(build_once):
    """Built once for the module's hundred-odd sweeps; a slug of its own, so a test here may still build `tenant_a`."""
    return build_once(lambda: Tenant("Acme Corp", "acme-sweep").with_route_objects())


@pytest.fixture
def tenant(sweep_tenant, db):
    return copy.deepcopy(sweep_tenant)


def form_fields(client, url: str) -> list[str]:
    page = client.get(url)
    if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
        return []
    return sorted(set(FIELD.findall(page.content.decode())) - NOT_FIELDS)


@pytest.mark.parametrize("name", POST_ROUTES)
def test_every_form_refuses_junk_without_a_server_error_or_a_write(client, tenant, name):
    route = ORGANIZATION_ROUTES[name]
    role = Role.OWNER if Role.OWNER in route.allowed_roles else route.first_allowed_role()
    client.force_login(tenant.user(role))
    url = reverse(name, kwargs={"organization_slug": tenant.organization.slug, **route.kwargs(tenant)})
    fields = form_fields(client, url) if "GET" in route.methods else []

    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.fixed_dictionaries(dict.fromkeys(fields, JUNK)))
    def post_junk(data: dict[str, str]) -> None:
        before = audit_count(tenant)
        response = client.post(url, data)
        assert response.status_code < 500, (name, data)
        if response.status_code not in (301, 302, 303, 204):
            assert audit_count(tenant) == before, f"{name} refused the input but wrote something: {data}"

    post_junk()


def csv_cell() -> st.SearchStrategy[str]:
    return JUNK.map(lambda value: value.replace("\x00", ""))


@pytest.mark.parametrize("kind", sorted(SHEETS))
def test_every_csv_import_refuses_junk_rows_whole(tenant, kind):
    """Rows under the import's own header, every cell junk: all rows are written or none, and never an error."""
    header = template_csv(kind).splitlines()[0]
    columns = header.count(",") + 1
    owner = tenant.user(Role.OWNER)
    model = SHEETS[kind].model

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(st.lists(csv_cell(), min_size=columns, max_size=columns), min_size=1, max_size=5))
    def import_junk(rows: list[list[str]]) -> None:
        text = "\n".join([header, *(",".join(_quoted(cell) for cell in row) for row in rows)]) + "\n"
        with tenant.scope():
            before = model.objects.count()
            result = import_csv(kind=kind, organization=tenant.organization, text=text, actor=owner)
            written = model.objects.count() - before
        if result.errors:
            assert written == 0
            assert all(error.row >= 1 for error in result.errors)
        else:
            assert written == result.created

    import_junk()


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def test_the_sweep_fills_real_forms(client, tenant):
    """Guards the sweep itself: it finds the fields of the forms, not only empty posts."""
    client.force_login(tenant.user(Role.OWNER))
    with_fields = [
        name
        for name in POST_ROUTES
        if Role.OWNER in ORGANIZATION_ROUTES[name].allowed_roles
        and "GET" in ORGANIZATION_ROUTES[name].methods
        and form_fields(
            client,
            reverse(
                name, kwargs={"organization_slug": tenant.organization.slug, **ORGANIZATION_ROUTES[name].kwargs(tenant)}
            ),
        )
    ]

    assert len(with_fields) >= 25, with_fields


# --- Hostile input (issue 18): each case answered 500 before -------------------------------------------------

FAR_FUTURE = "9999-12-31T23:00"  # in a zone behind UTC, year 10000 in UTC


def _delivery_forms(tenant) -> dict[str, tuple[str, dict[str, object], str]]:
    """route name -> (a valid post, the moment field the far-future value goes into)."""
    engagement = tenant.contract.engagement
    with tenant.scope():
        course = tenant.contract.session.course
    return {
        "scheduling:tickets": (
            {"engagement": engagement.pk, "category": "enrollment", "subject": "Help", "opened_at": "2026-03-02T09:00"},
            "opened_at",
        ),
        "scheduling:outages": (
            {
                "engagement": engagement.pk,
                "description": "SSO down",
                "starts_at": "2026-03-02T09:00",
                "ends_at": "2026-03-02T10:00",
            },
            "ends_at",
        ),
        "scheduling:session_create": (
            {
                "engagement": engagement.pk,
                "course": course.pk,
                "modality": "vilt",
                "starts_at": "2026-03-09T09:00",
                "ends_at": "2026-03-09T12:00",
                "capacity": "10",
                "join_url": "https://meet.example/x",
            },
            "ends_at",
        ),
    }


@pytest.mark.parametrize("timezone", ["America/New_York", "America/Los_Angeles"])
@pytest.mark.parametrize("name", ["scheduling:tickets", "scheduling:outages", "scheduling:session_create"])
def test_a_far_future_moment_typed_behind_utc_is_a_form_error_and_writes_nothing(client, tenant, name, timezone):
    tenant.organization.timezone = timezone
    tenant.organization.save(update_fields=["timezone"])
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    url = reverse(name, kwargs={"organization_slug": tenant.organization.slug})
    data, field = _delivery_forms(tenant)[name]
    before = audit_count(tenant)

    refused = client.post(url, {**data, field: FAR_FUTURE})
    written = audit_count(tenant)
    accepted = client.post(url, data)

    assert refused.status_code == 400
    assert refused.context["form"].errors == {field: ["Give a year from 1900 to 2200."]}
    assert written == before
    assert accepted.status_code == 302  # the same post with a sane moment is taken: the year alone was refused
    assert client.get(url).status_code == 200  # and the tenant's list still reads


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("scheduling:learners", {"q": "Ada\x00"}),
        ("org:audit_log", {"action": "session.\x00cancelled"}),
        ("org:audit_log", {"object_type": "\x00"}),
        ("engagements:list", {"q": "\x00"}),
    ],
)
def test_a_nul_in_a_search_or_filter_is_a_400(client, tenant_a, name, params):
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(reverse(name, kwargs={"organization_slug": tenant_a.organization.slug}), params)

    assert (response.status_code, response.content.decode()) == (
        400,
        "A NUL character cannot be searched for or stored.",
    )


def test_a_nul_in_an_api_filter_is_a_400_with_the_parameter_named(client, tenant_a):
    raw = api_token(tenant_a)

    response = client.get("/api/v1/learners/", {"email": "ada@x.test\x00"}, HTTP_AUTHORIZATION=f"Token {raw}")

    assert (response.status_code, response.json()) == (
        400,
        {"email": ["A NUL character cannot be searched for or stored."]},
    )


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/v1/learners/", "[" * 100_000, "JSON parse error - nested more than 32 levels deep."),
        ("/api/v1/xapi/statements", "[" * 100_000, "JSON parse error - nested more than 32 levels deep."),
        ("/api/v1/webhooks/", "[" * 100_000, "JSON parse error - nested more than 32 levels deep."),
        ("/api/v1/sessions/bulk/", "[" * 100_000, "JSON parse error - nested more than 32 levels deep."),
        ("/api/v1/learners/bulk/", _nested(33), "JSON parse error - nested more than 32 levels deep."),
        (
            "/api/v1/learners/",
            json.dumps({"external_id": "HR-1", "name": json.loads(_nested(40))}),
            "JSON parse error - nested more than 32 levels deep.",
        ),
    ],
    ids=[
        "100k-brackets",
        "100k-brackets-xapi",
        "100k-brackets-webhooks",
        "100k-brackets-bulk",
        "33-levels",
        "deep-field",
    ],
)
def test_a_json_body_nested_too_deep_is_a_400(client, tenant_a, path, body, message):
    raw = api_token(tenant_a)
    before = audit_count(tenant_a)

    response = client.post(
        path,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {raw}",
        HTTP_X_EXPERIENCE_API_VERSION="1.0.3",
    )

    assert response.status_code == 400
    assert [error[: len(message)] for error in response.json()["non_field_errors"]] == [message]
    assert audit_count(tenant_a) == before


def test_a_json_body_nested_32_levels_is_read(client, tenant_a):
    """The limit is MAX_JSON_DEPTH itself: 32 nested arrays reach the bulk endpoint's own check."""
    raw = api_token(tenant_a)

    response = client.post(
        "/api/v1/learners/bulk/", _nested(32), content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}"
    )

    assert (response.status_code, response.json()) == (
        400,
        {"written": False, "non_field_errors": ["Send a JSON array of objects."], "errors": []},
    )


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1899-12", "2201-01"])
def test_a_statement_month_outside_the_sane_years_is_404_on_the_web_and_400_in_the_api(client, tenant, month):
    sow = tenant.contract.sow
    client.force_login(tenant.user(Role.PROCUREMENT))
    raw = api_token(tenant)

    pages = [
        client.get(reverse(name, kwargs={"organization_slug": tenant.organization.slug, "pk": sow.pk, "month": month}))
        for name in ("reporting:statement", "reporting:statement_pdf", "reporting:statement_csv")
    ]
    api = client.get("/api/v1/statements/", {"sow": sow.pk, "month": month}, HTTP_AUTHORIZATION=f"Token {raw}")
    sane = client.get("/api/v1/statements/", {"sow": sow.pk, "month": "2026-03"}, HTTP_AUTHORIZATION=f"Token {raw}")

    assert [page.status_code for page in pages] == [404, 404, 404]
    assert (api.status_code, api.json()) == (400, {"month": ["Give the month as YYYY-MM."]})
    assert (sane.status_code, sane.json()["month"]) == (200, "2026-03-01")


@pytest.mark.parametrize(
    "cursor",
    [
        "cD0yMDI2LTAxLTAx",  # p=2026-01-01: a date where the ordering is by id
        base64.b64encode(b"p=abc&r=1").decode(),
        "not base64 at all",
    ],
)
def test_a_forged_cursor_is_404(client, tenant_a, cursor):
    raw = api_token(tenant_a)

    response = client.get("/api/v1/learners/", {"cursor": cursor}, HTTP_AUTHORIZATION=f"Token {raw}")

    assert (response.status_code, response.json()) == (404, {"detail": "Invalid cursor"})


def test_a_cursor_the_api_made_still_pages(client, tenant_a):
    raw = api_token(tenant_a)
    with tenant_a.scope():
        learners = [LearnerFactory(organization=tenant_a.organization) for _ in range(2)]

    first = client.get("/api/v1/learners/", {"page_size": 1}, HTTP_AUTHORIZATION=f"Token {raw}").json()
    second = client.get(first["next"], HTTP_AUTHORIZATION=f"Token {raw}").json()

    assert [first["results"][0]["id"], second["results"][0]["id"]] == [learner.pk for learner in learners]


@pytest.mark.parametrize("moment", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_a_moment_outside_the_sane_years_is_a_400_in_the_api_upsert_and_filters(client, tenant, moment):
    raw = api_token(tenant)
    ticket = {
        "external_id": "T-1",
        "engagement": tenant.contract.engagement.name,
        "category": "enrollment",
        "subject": "Help",
        "opened_at": "2026-03-02T09:00:00+00:00",
    }
    before = audit_count(tenant)

    refused = client.post(
        "/api/v1/tickets/",
        {**ticket, "opened_at": moment},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {raw}",
    )
    written = audit_count(tenant)
    accepted = client.post(
        "/api/v1/tickets/", ticket, content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}"
    )
    filtered = client.get("/api/v1/tickets/", {"updated_since": moment}, HTTP_AUTHORIZATION=f"Token {raw}")

    assert (refused.status_code, refused.json()) == (
        400,
        {"opened_at": [f"'{moment}' is out of range: Give a year from 1900 to 2200."]},
    )
    assert written == before
    assert accepted.status_code == 201
    assert (filtered.status_code, filtered.json()) == (400, {"updated_since": ["Give a year from 1900 to 2200."]})


# --- The same rule on every path: far-future moments behind UTC, session capacity -------------------------------

LOS_ANGELES_FAR_FUTURE = "9999-12-31T23:00:00-08:00"  # year 10000 in UTC


def _behind_utc(tenant: object) -> None:
    tenant.organization.timezone = "America/Los_Angeles"
    tenant.organization.save(update_fields=["timezone"])


def _api_items(tenant: object) -> dict[str, dict[str, str]]:
    """A valid item per resource, as the API upserts it and as a CSV row (the sheet's own columns)."""
    engagement = tenant.contract.engagement.name
    with tenant.scope():
        course = tenant.contract.session.course.code
    return {
        "tickets": {
            "external_id": "T-1",
            "engagement": engagement,
            "category": "enrollment",
            "subject": "Help",
            "opened_at": "2026-03-02T09:00:00-08:00",
        },
        "outages": {
            "external_id": "O-1",
            "engagement": engagement,
            "description": "SSO down",
            "starts_at": "2026-03-02T09:00:00-08:00",
            "ends_at": "2026-03-02T10:00:00-08:00",
        },
        "sessions": {
            "external_id": "S-1",
            "engagement": engagement,
            "course_code": course,
            "modality": "vilt",
            "starts_at": "2026-03-09T09:00:00-08:00",
            "ends_at": "2026-03-09T12:00:00-08:00",
            "capacity": "10",
            "join_url": "https://meet.example/x",
        },
    }


MOMENT_FIELDS = {"tickets": "opened_at", "outages": "ends_at", "sessions": "ends_at"}


def _csv(*items: dict[str, str]) -> str:
    header = list(items[0])
    return "\n".join([",".join(header), *(",".join(_quoted(item[column]) for column in header) for item in items)])


@pytest.mark.parametrize("moment", [LOS_ANGELES_FAR_FUTURE, "9999-12-31T23:00"])  # naive: the organization's zone
@pytest.mark.parametrize("kind", sorted(MOMENT_FIELDS))
def test_a_far_future_moment_behind_utc_is_a_400_in_the_api_and_writes_nothing(client, tenant, kind, moment):
    _behind_utc(tenant)
    raw = api_token(tenant)
    item = _api_items(tenant)[kind]
    field = MOMENT_FIELDS[kind]
    before = audit_count(tenant)

    refused = client.post(
        f"/api/v1/{kind}/", {**item, field: moment}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}"
    )
    written = audit_count(tenant)
    accepted = client.post(f"/api/v1/{kind}/", item, content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}")
    listed = client.get(f"/api/v1/{kind}/", HTTP_AUTHORIZATION=f"Token {raw}")

    assert (refused.status_code, refused.json()) == (
        400,
        {field: [f"'{moment}' is out of range: Give a year from 1900 to 2200."]}
        if "-08:00" in moment
        else {field: [f"'{moment}' has no UTC offset; add it, e.g. 2026-03-02T09:00:00+00:00."]},
    )
    assert written == before
    assert (accepted.status_code, listed.status_code) == (201, 200)


@pytest.mark.parametrize("kind", sorted(MOMENT_FIELDS))
def test_a_far_future_moment_behind_utc_is_a_row_numbered_csv_error_and_writes_nothing(tenant, kind):
    _behind_utc(tenant)
    item = _api_items(tenant)[kind]
    field = MOMENT_FIELDS[kind]
    owner = tenant.user(Role.OWNER)
    before = audit_count(tenant)

    with tenant.scope():
        result = import_csv(
            kind=kind,
            organization=tenant.organization,
            text=_csv(item, {**item, "external_id": "X-2", field: LOS_ANGELES_FAR_FUTURE}),
            actor=owner,
        )

    assert (result.created, result.errors) == (
        0,
        [RowError(3, field, f"'{LOS_ANGELES_FAR_FUTURE}' is out of range: Give a year from 1900 to 2200.")],
    )
    assert audit_count(tenant) == before


CAPACITY_ERRORS = {
    "0": "Ensure this value is greater than or equal to 1.",
    "-1": "Ensure this value is greater than or equal to 1.",
    "1001": "Ensure this value is less than or equal to 1000.",
    "99999": "Ensure this value is less than or equal to 1000.",
}


@pytest.mark.parametrize("capacity", sorted(CAPACITY_ERRORS))
def test_a_session_capacity_outside_1_to_1000_is_refused_alike_on_the_web_api_bulk_and_csv(client, tenant, capacity):
    message = CAPACITY_ERRORS[capacity]
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    raw = api_token(tenant)
    form, _ = _delivery_forms(tenant)["scheduling:session_create"]
    item = _api_items(tenant)["sessions"]
    bad = {**item, "external_id": "S-2", "capacity": capacity}
    before = audit_count(tenant)

    web = client.post(
        reverse("scheduling:session_create", kwargs={"organization_slug": tenant.organization.slug}),
        {**form, "capacity": capacity},
    )
    api = client.post("/api/v1/sessions/", bad, content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}")
    bulk = client.post(
        "/api/v1/sessions/bulk/", [item, bad], content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}"
    )
    with tenant.scope():
        sheet = import_csv(
            kind="sessions", organization=tenant.organization, text=_csv(item, bad), actor=tenant.user(Role.OWNER)
        )

    assert (web.status_code, web.context["form"].errors) == (400, {"capacity": [message]})
    assert (api.status_code, api.json()) == (400, {"capacity": [message]})
    assert (bulk.status_code, bulk.json()) == (
        400,
        {"written": False, "errors": [{"index": 1, "errors": {"capacity": [message]}}]},
    )
    assert (sheet.created, sheet.errors) == (0, [RowError(3, "capacity", message)])
    assert audit_count(tenant) == before


@pytest.mark.parametrize("capacity", ["1", "1000"])
def test_a_session_capacity_at_either_bound_is_taken_by_the_api_and_csv(client, tenant, capacity):
    raw = api_token(tenant)
    item = {**_api_items(tenant)["sessions"], "capacity": capacity}

    api = client.post("/api/v1/sessions/", item, content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}")
    with tenant.scope():
        sheet = import_csv(
            kind="sessions",
            organization=tenant.organization,
            text=_csv({**item, "external_id": "S-2"}),
            actor=tenant.user(Role.OWNER),
        )

    assert (api.status_code, api.json()["capacity"]) == (201, int(capacity))
    assert (sheet.created, sheet.errors) == (1, [])


@pytest.mark.parametrize("where", ["course title", "organization name"])
def test_a_line_break_in_a_course_title_or_organization_name_does_not_fail_cancelling_a_session(
    client, tenant, where, django_capture_on_commit_callbacks, time_machine
):
    """The cancellation answered 500 after its commit, and its webhook was never created (the email hook raised
    first)."""
    session = tenant.contract.session
    time_machine.move_to(session.starts_at - timedelta(days=1), tick=False)  # learners hear of what is to come
    with tenant.scope():
        endpoint = WebhookEndpointFactory(organization=tenant.organization, events=["session.cancelled"])
        if where == "course title":
            Course.objects.filter(pk=session.course_id).update(title="Leading teams\r\nBcc: spy@evil.test")
    if where == "organization name":
        tenant.organization.name = "Acme\r\nBcc: spy@evil.test"
        tenant.organization.save(update_fields=["name"])
    client.force_login(tenant.user(Role.PROVIDER_MANAGER))
    url = reverse("scheduling:session_cancel", kwargs={"organization_slug": tenant.organization.slug, "pk": session.pk})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"cancelled_by": "client", "reason": "Trainer ill"})

    assert response.status_code == 302
    title = "Leading teams Bcc: spy@evil.test" if where == "course title" else "Leading teams"
    assert [(m.subject, m.to, m.message()["Bcc"]) for m in mail.outbox] == [
        (f"Cancelled: {title} on 02 Mar 2026", ["ada@acme.example"], None)
    ]
    with tenant.scope():
        assert Session.objects.get(pk=session.pk).status == "cancelled"
        assert list(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event", flat=True)) == [
            "session.cancelled"
        ]
