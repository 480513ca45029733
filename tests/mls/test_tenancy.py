"""Fail-closed tenancy: every tenant model is scoped, constrained by organization, and unreadable unscoped."""

import pytest
from django.apps import apps
from django.db import models
from django_scopes import ScopeError

from mls.models import Organization, Provider, TenantModel, User
from mls.tenancy import organization_scope

pytestmark = pytest.mark.unit

OUR_APPS = {"mls", "vendors", "engagements", "scheduling", "slas", "reporting", "portal"}
NOT_TENANT_DATA = {Organization, User}  # the tenant itself, and people (who may belong to several tenants)


def tenant_models() -> list[type[models.Model]]:
    found = [m for m in apps.get_models() if m._meta.app_label in OUR_APPS and m not in NOT_TENANT_DATA]
    assert found, "no tenant models found"
    return found


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_tenant_model_has_direct_organization_foreign_key(model):
    field = model._meta.get_field("organization")

    assert isinstance(field, models.ForeignKey)
    assert field.related_model is Organization
    assert issubclass(model, TenantModel)


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_tenant_model_every_unique_constraint_includes_organization(model):
    constraints = [c for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    single_unique_fields = [f.name for f in model._meta.fields if f.unique and not f.primary_key]

    assert all("organization" in c.fields for c in constraints)
    assert any(list(c.fields) == ["organization", "id"] for c in constraints)
    assert single_unique_fields == []
    assert model._meta.unique_together == ()


@pytest.mark.django_db
@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_tenant_model_query_outside_scope_raises(model):
    with pytest.raises(ScopeError):
        list(model.objects.all())
    with pytest.raises(ScopeError):
        model.objects.filter(pk=1).exists()


def test_organization_scope_refuses_none_because_django_scopes_would_not_filter():
    with pytest.raises(ValueError, match="organization_scope needs"), organization_scope(None):
        pass


def test_organization_scope_refuses_unsaved_organization():
    with pytest.raises(ValueError, match="organization_scope needs"), organization_scope(Organization(name="x")):
        pass


def test_scope_shows_only_the_scoped_organizations_rows(tenant_a, tenant_b):
    with tenant_a.scope():
        visible = list(Provider.objects.values_list("id", flat=True))
        reverse_visible = list(tenant_b.organization.mls_provider_set.values_list("id", flat=True))

    assert visible == [tenant_a.provider.pk]
    # Even through another organization's reverse relation, the scope filters to A: nothing of B is visible.
    assert reverse_visible == []
