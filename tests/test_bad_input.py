"""Bad input sweep (issue 9): every form of the web app and every CSV import, fed generated junk.

Never a server error; and when the input is refused, nothing is written (every write of MLS is audited, so the
audit log not growing means no write happened). Forms are found on the pages themselves, so a new form is swept
as soon as its route is in tests/url_matrix.py.
"""

import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mls.enums import Role
from mls.models import AuditEvent
from scheduling.imports import SHEETS, import_csv, template_csv
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


@pytest.fixture
def tenant(tenant_a):
    return tenant_a.with_route_objects()


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
