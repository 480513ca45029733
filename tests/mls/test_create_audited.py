"""`audit.create_audited`: new rows and the audit events that record them (one per row, naming it) are written
together or not at all: two bulk INSERTs in one transaction (a savepoint inside an enclosing one)."""

import pytest
from django.db import IntegrityError, connection, transaction

from mls import audit
from mls.models import AuditEvent
from scheduling.models import Learner
from tests.conftest import Tenant

pytestmark = pytest.mark.unit


def _events(tenant: Tenant, learners: list[Learner]) -> list[AuditEvent]:
    return [
        audit.audit_event(
            organization=tenant.organization, actor=None, action="import.learners", obj=learner,
            after={"name": learner.name},
        )
        for learner in learners
    ]  # fmt: skip


def _create(tenant: Tenant, *keys: str) -> list[Learner]:
    learners = _learners(tenant, *keys)
    audit.create_audited(learners, _events(tenant, learners))
    return learners


def _learners(tenant: Tenant, *keys: str) -> list[Learner]:
    organization = tenant.organization
    return [Learner(organization=organization, external_id=key, name=key, email=f"{key}@a.example") for key in keys]


def test_rows_get_their_ids_and_defaults_and_each_its_event_naming_it(tenant_a):
    with tenant_a.scope():
        learners = _learners(tenant_a, "HR-1", "HR-2")

        audit.create_audited(learners, _events(tenant_a, learners))

        stored = {learner.external_id: learner for learner in Learner.objects.all()}
        events = AuditEvent.objects.filter(action="import.learners").order_by("id")
    assert [learner.pk for learner in learners] == [stored["HR-1"].pk, stored["HR-2"].pk]
    assert [learner.updated_at for learner in learners] == [stored["HR-1"].updated_at, stored["HR-2"].updated_at]
    assert not any(learner._state.adding for learner in learners)
    assert [(e.object_type, e.object_id, e.after) for e in events] == [
        ("scheduling.learner", str(stored["HR-1"].pk), {"name": "HR-1"}),
        ("scheduling.learner", str(stored["HR-2"].pk), {"name": "HR-2"}),
    ]


def test_each_event_names_its_row_whatever_the_number_of_rows(tenant_a):
    with tenant_a.scope():
        learners = _create(tenant_a, *(f"HR-{n}" for n in range(600)))

        named = dict(AuditEvent.objects.values_list("object_id", "after"))
    assert named == {str(learner.pk): {"name": learner.external_id} for learner in learners}


def test_a_row_without_its_event_is_refused(tenant_a):
    with tenant_a.scope():
        learners = _learners(tenant_a, "HR-1", "HR-2")

        with pytest.raises(ValueError, match=r"^2 rows need 2 audit events, not 1\.$"):
            audit.create_audited(learners, _events(tenant_a, learners[:1]))

        assert not Learner.objects.exists()


def test_inside_a_transaction_it_is_two_inserts_in_a_savepoint(tenant_a, django_assert_num_queries):
    with tenant_a.scope(), django_assert_num_queries(4):
        [learner] = _create(tenant_a, "HR-1")

    with tenant_a.scope():
        assert list(AuditEvent.objects.values_list("object_id", "after")) == [(str(learner.pk), {"name": "HR-1"})]


def test_a_refused_row_writes_no_event_and_leaves_the_transaction_usable(tenant_a):
    with tenant_a.scope():
        _create(tenant_a, "HR-1")

        with pytest.raises(IntegrityError):
            _create(tenant_a, "HR-2", "HR-1")

        assert sorted(Learner.objects.values_list("external_id", flat=True)) == ["HR-1"]
        assert list(AuditEvent.objects.filter(action="import.learners").values_list("after", flat=True)) == [
            {"name": "HR-1"}
        ]


def test_only_new_rows_are_taken(tenant_a):
    with tenant_a.scope():
        [stored] = _learners(tenant_a, "HR-1")
        stored.save()

        with pytest.raises(ValueError, match="not a new row"):
            audit.create_audited([stored], _events(tenant_a, [stored]))

        assert not AuditEvent.objects.filter(action="import.learners").exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_is_two_committed_inserts(django_assert_num_queries):
    tenant = Tenant("Acme Corp", "acme")
    assert not connection.in_atomic_block

    with tenant.scope(), django_assert_num_queries(4):  # BEGIN, the rows, their events, COMMIT
        _create(tenant, "HR-1")

    with tenant.scope():
        assert Learner.objects.filter(external_id="HR-1").exists()
        assert AuditEvent.objects.filter(action="import.learners").count() == 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_refused_row_writes_nothing():
    tenant = Tenant("Acme Corp", "acme")
    with tenant.scope():
        _create(tenant, "HR-1")

        with pytest.raises(IntegrityError):
            _create(tenant, "HR-2", "HR-1")

        with transaction.atomic():  # the connection is still usable
            assert sorted(Learner.objects.values_list("external_id", flat=True)) == ["HR-1"]
            assert AuditEvent.objects.filter(action="import.learners").count() == 1
