"""Entering a tenant scope. The only way MLS code should call django-scopes' `scope()`.

django-scopes treats `scope(organization=None)` as "no filter", which would silently read every tenant's rows.
`organization_scope` refuses that, so a missing organization fails closed instead of open.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django_scopes import scope

from .models import Organization


@contextmanager
def organization_scope(organization: Organization | int) -> Iterator[None]:
    organization_id = organization.pk if isinstance(organization, Organization) else organization
    if not isinstance(organization_id, int) or isinstance(organization_id, bool):
        raise ValueError(f"organization_scope needs a saved Organization or its id, got {organization!r}")
    with scope(organization=organization_id):
        yield
