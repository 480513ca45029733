"""A viewer reads everything and writes nothing: no page of the access matrix offers it a write.

A write offered is (a) a link, form or htmx call to an organization route the matrix does not give viewers, or
(b) any POST form or htmx write at all, apart from the viewer's own account and inbox (sign out, switch
organization, notifications, the store-nothing contract review) — a form posting back to the page it is on
counts, whatever the route allows."""

import copy
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve, reverse

from mls.enums import Role
from tests.conftest import Tenant
from tests.url_matrix import ORGANIZATION_ROUTES

pytestmark = pytest.mark.integration

VIEWER_PAGES = sorted(
    name
    for name, route in ORGANIZATION_ROUTES.items()
    if Role.VIEWER in route.allowed_roles and "GET" in route.methods and route.ok == 200
)
# What a viewer may post: its own session, organization choice and inbox, never the tenant's records; and the
# contract-review tool, whose POST only analyses the pasted text and stores nothing.
VIEWER_OWN_WRITES = frozenset(
    {"account_logout", "set_language", "org:notifications", "home", "organization_list", "engagements:contract_review"}
)
HTMX_WRITES = ("hx-post", "hx-put", "hx-patch", "hx-delete")


class Targets(HTMLParser):
    """(kind, method, path) of every link, form and htmx call of a page."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.found.append(("link", "get", attributes["href"]))
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self.found.append(("form", method, attributes.get("action") or self.page_path))
        for write in HTMX_WRITES:
            if attributes.get(write) is not None:
                self.found.append(("htmx", write, attributes[write] or self.page_path))


def route_name(target: str, page_path: str) -> str | None:
    split = urlsplit(target)
    if split.scheme or split.netloc or target.startswith("#"):
        return None
    try:
        return resolve(split.path or page_path).view_name
    except Resolver404:
        return None


def writes_offered(html: str, page_path: str) -> list[tuple[str, str, str | None]]:
    parser = Targets(page_path)
    parser.feed(html)
    offered = []
    for kind, method, target in parser.found:
        name = route_name(target, page_path)
        route = ORGANIZATION_ROUTES.get(name or "")
        forbidden_route = route is not None and Role.VIEWER not in route.allowed_roles
        posts = method not in {"get"}
        if forbidden_route or (posts and name not in VIEWER_OWN_WRITES):
            offered.append((kind, target, name))
    return offered


@pytest.fixture(scope="module")
def matrix_tenant(build_once):
    return build_once(lambda: Tenant("Acme Corp", "acme-viewer").with_route_objects())


@pytest.mark.parametrize("name", VIEWER_PAGES)
def test_viewer_is_offered_no_write_on_any_page(client, matrix_tenant, db, name):
    tenant = copy.deepcopy(matrix_tenant)
    path = reverse(
        name, kwargs={"organization_slug": tenant.organization.slug, **ORGANIZATION_ROUTES[name].kwargs(tenant)}
    )
    client.force_login(tenant.user(Role.VIEWER))

    response = client.get(path)

    assert response.status_code == 200
    if not response["Content-Type"].startswith("text/html"):
        return  # a download (ICS, CSV, PDF) offers nothing
    assert writes_offered(response.content.decode(), path) == []


def test_the_check_sees_a_write_offered_to_a_viewer():
    page = reverse("engagements:list", kwargs={"organization_slug": "acme"})
    create = reverse("engagements:create", kwargs={"organization_slug": "acme"})
    html = f'<a href="{create}">New</a><form method="post"><button>Save</button></form><a href="{page}">List</a>'

    assert writes_offered(html, page) == [("link", create, "engagements:create"), ("form", page, "engagements:list")]
