"""A page offers a write gated by a permission (`{% may "<permission>" %}`) to exactly the roles holding it: the
template asks the permission the write's route and service ask, so the button and the write agree."""

import copy

import pytest
from django.urls import reverse

from mls.actions import may
from mls.enums import ROLE_PERMISSIONS, Permission
from tests.conftest import Tenant
from tests.url_matrix import ORGANIZATION_ROUTES

pytestmark = pytest.mark.integration

# (page, the write it links to, the permission both ask)
GATED_WRITES = [
    ("engagements:list", "engagements:create", Permission.MANAGE_CONTRACTS),
    ("engagements:detail", "engagements:edit", Permission.MANAGE_CONTRACTS),
    ("engagements:detail", "engagements:sow_create", Permission.MANAGE_CONTRACTS),
    ("reporting:qbrs", "reporting:qbr_regenerate", Permission.MANAGE_CONTRACTS),
    ("scheduling:course", "scheduling:course_edit", Permission.MANAGE_COURSES),
    ("scheduling:venues", "scheduling:venue_create", Permission.MANAGE_VENUES),
    ("scheduling:compliance", "scheduling:requirement_create", Permission.MANAGE_COMPLIANCE),
    ("scheduling:compliance_report", "scheduling:requirement_edit", Permission.MANAGE_COMPLIANCE),
    ("slas:engagement", "slas:target_create", Permission.MANAGE_SLAS),
    ("vendors:providers", "vendors:provider_create", Permission.MANAGE_PROVIDERS),
    ("vendors:suppliers", "vendors:supplier_create", Permission.MANAGE_SUPPLIERS),
    # Acting for a side of the contract (engagements.services.acting_side): the permission, on the engagement of
    # the member's own provider, which the matrix tenant's contract is for a provider manager.
    ("engagements:detail", "engagements:meeting_create", Permission.PROPOSE_CHANGES),
    ("engagements:detail", "engagements:dispute_create", Permission.PROPOSE_CHANGES),
    ("slas:engagement", "slas:relief_create", Permission.PROPOSE_CHANGES),
    ("slas:engagement", "slas:manual_create", Permission.PROPOSE_CHANGES),
]


@pytest.fixture(scope="module")
def matrix_tenant(build_once):
    return build_once(lambda: Tenant("Acme Corp", "acme-buttons").with_route_objects())


def _path(tenant: Tenant, name: str) -> str:
    kwargs = {"organization_slug": tenant.organization.slug, **ORGANIZATION_ROUTES[name].kwargs(tenant)}
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize(("page", "write", "permission"), GATED_WRITES)
def test_a_permission_gated_write_is_offered_to_the_roles_holding_it(
    client, matrix_tenant, db, page, write, permission
):
    tenant = copy.deepcopy(matrix_tenant)
    page_path, write_path = _path(tenant, page), _path(tenant, write)
    roles = sorted(ORGANIZATION_ROUTES[page].allowed_roles - ORGANIZATION_ROUTES[page].hidden_from)

    offered = {}
    for role in roles:
        client.force_login(tenant.user(role))
        response = client.get(page_path)
        assert response.status_code == 200, role
        offered[role] = f'href="{write_path}"' in response.content.decode()

    assert offered == {role: permission in ROLE_PERMISSIONS[role] for role in roles}
    assert set(offered.values()) == {True, False}  # some roles were offered it and some were not


# (page, the write it offers, the registered `{% may %}` action both ask, the object the page asks it on)
OBJECT_GATED_WRITES = [
    ("slas:engagement", "slas:relief_decide", "relief.decide", lambda t: t.contract.engagement),
    ("scheduling:sessions", "scheduling:session_create", "delivery.log", lambda t: t.contract.engagement),
    ("scheduling:session", "scheduling:session_cancel", "delivery.log", lambda t: t.contract.session.engagement),
    ("scheduling:session", "scheduling:enrollment_cancel", "delivery.log", lambda t: t.contract.session.engagement),
    ("vendors:suppliers", "vendors:supplier_edit", "supplier.edit", lambda t: t.contract.supplier),
    ("vendors:suppliers", "vendors:instructor", "instructor.edit", lambda t: t.contract.instructor),
]


@pytest.mark.parametrize(("page", "write", "action", "obj"), OBJECT_GATED_WRITES)
def test_an_object_gated_write_is_offered_exactly_when_the_services_check_allows_it(
    client, matrix_tenant, db, page, write, action, obj
):
    """The button asks the app's registered check, and that check agrees with who the access matrix lets write."""
    tenant = copy.deepcopy(matrix_tenant)
    page_path, write_path = _path(tenant, page), _path(tenant, write)
    roles = sorted(ORGANIZATION_ROUTES[page].allowed_roles - ORGANIZATION_ROUTES[page].hidden_from)

    offered, allowed = {}, {}
    for role in roles:
        client.force_login(tenant.user(role))
        response = client.get(page_path)
        assert response.status_code == 200, role
        html = response.content.decode()
        offered[role] = f'href="{write_path}"' in html or f'action="{write_path}"' in html
        with tenant.scope():
            allowed[role] = may(tenant.members[role], action, obj(tenant))

    assert offered == allowed
    assert allowed == {role: role in ORGANIZATION_ROUTES[write].allowed_roles for role in roles}
    assert set(offered.values()) == {True, False}
