"""Tenant tasks: scope entered from organization_id, enqueued only after commit, and a real worker on Redis."""

import time

import pytest
from django.core import mail
from django.db import transaction
from django_scopes import ScopeError

from mls import services
from mls.celery import TenantTask, app
from mls.enums import Role
from mls.models import Invitation, Organization
from tests.conftest import in_process_worker
from tests.factories import OrganizationFactory, ProviderFactory

pytestmark = pytest.mark.integration


@app.task(base=TenantTask)
def count_providers_task(*, organization_id: int) -> int:
    from mls.models import Provider

    return Provider.objects.count()


def test_tenant_task_runs_inside_its_organizations_scope(db):
    a, b = OrganizationFactory(), OrganizationFactory()
    ProviderFactory.create_batch(2, organization=a)
    ProviderFactory.create_batch(3, organization=b)

    assert count_providers_task.delay(organization_id=a.pk).get() == 2
    assert count_providers_task.delay(organization_id=b.pk).get() == 3


def test_tenant_task_without_organization_id_is_refused(db):
    with pytest.raises(TypeError, match="organization_id"):
        count_providers_task.delay()


def test_tenant_task_for_missing_organization_raises(db):
    with pytest.raises(Organization.DoesNotExist):
        count_providers_task.delay(organization_id=987654)


def test_tenant_task_scope_does_not_leak_to_the_caller(db):
    organization = OrganizationFactory()
    count_providers_task.delay(organization_id=organization.pk)

    with pytest.raises(ScopeError):
        list(Invitation.objects.all())


@pytest.mark.django_db(transaction=True)
def test_invitation_email_is_not_sent_when_the_transaction_rolls_back(tenant_a):
    class Abort(Exception):
        pass

    @transaction.atomic
    def invite_then_fail() -> None:
        services.invite_member(
            organization=tenant_a.organization,
            invited_by=tenant_a.user(Role.OWNER),
            email="rolled.back@example.test",
            role=Role.VIEWER,
        )
        raise Abort

    with tenant_a.scope(), pytest.raises(Abort):
        invite_then_fail()

    assert mail.outbox == []
    with tenant_a.scope():
        assert Invitation.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_invitation_email_is_sent_by_a_real_worker_over_redis(tenant_a, worker_queue):
    with in_process_worker(worker_queue):
        with tenant_a.scope():
            invitation = services.invite_member(
                organization=tenant_a.organization,
                invited_by=tenant_a.user(Role.OWNER),
                email="worker@example.test",
                role=Role.VIEWER,
            )
        deadline = time.monotonic() + 20
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)

    assert [m.to for m in mail.outbox] == [["worker@example.test"]]
    assert services.invitation_url(invitation) in mail.outbox[0].body
