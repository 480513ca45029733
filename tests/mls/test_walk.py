"""Walk every route the test client can reach without arguments: never a server error, for anyone."""

import pytest
from django.urls import reverse

from mls.enums import Role
from tests.url_matrix import all_routes

pytestmark = pytest.mark.integration

# Routes that take no URL arguments, outside the admin (its own test suite is Django's).
PLAIN_ROUTES = sorted(
    {r.name for r in all_routes() if "<" not in r.route and r.name and not r.route.startswith("admin/")}
)


@pytest.mark.parametrize("who", ["anonymous", *Role.values])
def test_every_plain_route_answers_without_server_error(client, tenant_a, who):
    if who != "anonymous":
        client.force_login(tenant_a.user(who))

    statuses = {name: client.get(reverse(name)).status_code for name in PLAIN_ROUTES}

    assert {name: code for name, code in statuses.items() if code >= 500} == {}
    assert len(statuses) >= 20  # allauth's account pages are part of the walk


def test_walk_covers_the_tenancy_entry_points():
    assert {"home", "organization_list", "organization_create", "account_login", "account_signup"} <= set(PLAIN_ROUTES)
