"""The 403, 404 and 500 pages: styled like every page, with the site's navigation and a message that says what
happened and where to go (DEBUG is off in tests, so Django renders them as in production)."""

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from mls.enums import Role

pytestmark = pytest.mark.integration


def words(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_non_member_gets_the_styled_404_with_navigation_to_their_own_organizations(client, tenant_a, tenant_b):
    client.force_login(tenant_b.user(Role.OWNER))

    response = client.get(reverse("reporting:dashboard", kwargs={"organization_slug": tenant_a.organization.slug}))
    content = words(response)

    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]
    assert "We could not find that page" in content
    assert "or it belongs to an organization you are not a member of" in content
    assert f'href="{reverse("organization_list")}"' in response.content.decode()
    assert f"Go to {tenant_b.organization.name}" in content
    assert tenant_b.user(Role.OWNER).email in content  # the header's account menu
    assert f'href="{tenant_b.organization.get_absolute_url()}"' in response.content.decode()  # the switcher


def test_an_unknown_organization_and_a_foreign_one_get_the_same_404_page(client, tenant_a, tenant_b):
    client.force_login(tenant_b.user(Role.OWNER))

    foreign = client.get(reverse("reporting:dashboard", kwargs={"organization_slug": tenant_a.organization.slug}))
    unknown = client.get(reverse("reporting:dashboard", kwargs={"organization_slug": "no-such-org"}))

    assert (foreign.status_code, unknown.status_code) == (404, 404)
    assert words(foreign) == words(unknown)


def test_a_members_missing_object_404_keeps_the_organizations_navigation(client, tenant_a):
    client.force_login(tenant_a.user(Role.VIEWER))
    slug = tenant_a.organization.slug

    response = client.get(reverse("engagements:detail", kwargs={"organization_slug": slug, "pk": 999999}))

    assert response.status_code == 404
    assert "We could not find that page" in words(response)
    assert 'aria-label="Main"' in response.content.decode()
    assert f'href="{reverse("reporting:dashboard", kwargs={"organization_slug": slug})}"' in response.content.decode()
    assert f"Go to the {tenant_a.organization.name} dashboard" in words(response)


def test_a_refused_page_gets_the_styled_403_naming_the_members_role(client, tenant_a):
    client.force_login(tenant_a.user(Role.VIEWER))

    response = client.get(reverse("engagements:create", kwargs={"organization_slug": tenant_a.organization.slug}))
    content = words(response)

    assert response.status_code == 403
    assert [t.name for t in response.templates][:2] == ["403.html", "base.html"]
    assert "Your role may not do this" in content
    assert f"As Viewer in {tenant_a.organization.name}, you cannot open this page or make this change." in content
    assert 'aria-label="Main"' in response.content.decode()


def test_the_500_page_renders_without_a_request_context_and_without_a_query():
    request = RequestFactory().get("/o/acme/")  # no user, no session: what a failing middleware may leave

    response = server_error(request)  # no `db` fixture: any query would raise
    content = words(response)

    assert response.status_code == 500
    assert "Something went wrong on our side" in content
    assert "What you saved before is kept" in content
    assert f'href="{reverse("home")}"' in response.content.decode()  # the brand link and "Go to your dashboard"


@pytest.mark.urls("tests.mls.urls_failing")
def test_a_failing_view_answers_the_styled_500(tenant_a):
    client = Client(raise_request_exception=False)
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get("/failing/")

    assert response.status_code == 500
    assert "Something went wrong on our side" in words(response)
    assert 'class="site-header"' in response.content.decode()
