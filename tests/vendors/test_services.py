"""Suppliers, instructors and qualifications: the client maintains all, a provider only its own; audited."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from mls.enums import Role
from mls.models import AuditEvent
from scheduling import services as delivery_services
from tests.factories import ProviderFactory
from tests.factories.engagements import EngagementFactory
from tests.factories.scheduling import CourseFactory, InstructorFactory, at
from vendors import services
from vendors.models import Instructor, InstructorQualification, Supplier

pytestmark = pytest.mark.unit


@pytest.fixture
def acme(tenant_a):
    """Tenant A with a second provider, Contoso, whose suppliers and trainers Northwind's manager must not touch."""
    with tenant_a.scope():
        tenant_a.contoso = ProviderFactory(organization=tenant_a.organization, name="Contoso")
        tenant_a.pm = tenant_a.members[Role.PROVIDER_MANAGER]
        yield tenant_a


def audit(action):
    return list(AuditEvent.objects.filter(action=action).values_list("actor_label", "object_id", "before", "after"))


# --- Suppliers -----------------------------------------------------------------------------------------------


def test_provider_manager_adds_a_supplier_of_their_provider_and_it_is_audited(acme):
    supplier = services.add_supplier(
        membership=acme.pm,
        provider=acme.provider,
        name="Brightpath",
        categories="leadership",
        insurance_expires_on=date(2027, 3, 31),
    )

    assert audit("supplier.added") == [
        (
            acme.pm.user.email,
            str(supplier.pk),
            None,
            {
                "provider": acme.provider.pk,
                "name": "Brightpath",
                "categories": "leadership",
                "regions": "",
                "rate_card": "",
                "insurance_expires_on": "2027-03-31",
                "contract_expires_on": None,
            },
        )
    ]


def test_provider_manager_cannot_add_a_supplier_of_another_provider(acme):
    with pytest.raises(ValidationError) as error:
        services.add_supplier(membership=acme.pm, provider=acme.contoso, name="Brightpath")

    assert error.value.message_dict == {
        "provider": ["You maintain only Northwind Learning's suppliers and instructors."]
    }
    assert Supplier.objects.count() == 0


def test_provider_manager_cannot_edit_another_providers_supplier_even_into_their_own(acme):
    theirs = Supplier.objects.create(organization=acme.organization, provider=acme.contoso, name="Contoso Partners")

    with pytest.raises(ValidationError, match="only Northwind Learning's"):
        services.update_supplier(supplier=theirs, membership=acme.pm, provider=acme.provider, name="Mine now")

    theirs.refresh_from_db()
    assert (theirs.provider, theirs.name) == (acme.contoso, "Contoso Partners")
    assert audit("supplier.updated") == []


@pytest.mark.parametrize("role", [Role.OWNER, Role.PROCUREMENT])
def test_client_owner_and_procurement_edit_any_providers_supplier(acme, role):
    supplier = Supplier.objects.create(organization=acme.organization, provider=acme.contoso, name="Old name")

    services.update_supplier(
        supplier=supplier, membership=acme.members[role], provider=acme.contoso, name="New name", regions="UK"
    )

    [(_, _, before, after)] = audit("supplier.updated")
    assert (before["name"], after["name"], after["regions"]) == ("Old name", "New name", "UK")


@pytest.mark.parametrize("role", [Role.LD_DIRECTOR, Role.VIEWER])
def test_other_client_roles_cannot_maintain_suppliers(acme, role):
    with pytest.raises(ValidationError, match="maintain suppliers"):
        services.add_supplier(membership=acme.members[role], provider=acme.provider, name="Brightpath")

    assert Supplier.objects.count() == 0


def test_supplier_names_are_unique_per_provider(acme):
    owner = acme.members[Role.OWNER]
    services.add_supplier(membership=owner, provider=acme.provider, name="Brightpath")

    services.add_supplier(membership=owner, provider=acme.contoso, name="Brightpath")
    with pytest.raises(ValidationError) as error:
        services.add_supplier(membership=owner, provider=acme.provider, name="Brightpath")

    assert error.value.message_dict == {"name": ["Northwind Learning already has a supplier named Brightpath."]}


def test_supplier_with_instructors_keeps_its_provider(acme):
    owner = acme.members[Role.OWNER]
    supplier = services.add_supplier(membership=owner, provider=acme.provider, name="Brightpath")
    services.add_instructor(membership=owner, provider=acme.provider, supplier=supplier, name="Ines", email="i@x.test")

    with pytest.raises(ValidationError) as error:
        services.update_supplier(supplier=supplier, membership=owner, provider=acme.contoso, name="Brightpath")

    assert list(error.value.message_dict) == ["provider"]


def test_supplier_of_a_provider_in_another_organization_is_refused(acme, tenant_b):
    with pytest.raises(ValidationError) as error:
        services.add_supplier(membership=acme.members[Role.OWNER], provider=tenant_b.provider, name="Brightpath")

    assert error.value.message_dict == {"provider": ["Choose a provider of this organization."]}


# --- Instructors ---------------------------------------------------------------------------------------------


def test_instructor_with_a_supplier_of_another_provider_is_refused(acme):
    contoso_supplier = Supplier.objects.create(organization=acme.organization, provider=acme.contoso, name="CP")

    with pytest.raises(ValidationError) as error:
        services.add_instructor(
            membership=acme.members[Role.OWNER],
            provider=acme.provider,
            supplier=contoso_supplier,
            name="Ines",
            email="ines@x.test",
        )

    assert error.value.message_dict == {"supplier": ["CP is a supplier of Contoso, not of Northwind Learning."]}
    assert Instructor.objects.count() == 0


def test_provider_manager_adds_an_instructor_of_their_provider_and_it_is_audited(acme):
    instructor = services.add_instructor(membership=acme.pm, provider=acme.provider, name="Ines", email="ines@x.test")

    assert audit("instructor.added") == [
        (
            acme.pm.user.email,
            str(instructor.pk),
            None,
            {"provider": acme.provider.pk, "supplier": None, "name": "Ines", "email": "ines@x.test"},
        )
    ]


def test_provider_manager_cannot_add_an_instructor_of_another_provider(acme):
    with pytest.raises(ValidationError, match="only Northwind Learning's"):
        services.add_instructor(membership=acme.pm, provider=acme.contoso, name="Dora", email="dora@x.test")

    assert Instructor.objects.count() == 0


def test_provider_manager_cannot_edit_another_providers_instructor(acme):
    theirs = InstructorFactory(organization=acme.organization, provider=acme.contoso, name="Carl")

    with pytest.raises(ValidationError, match="only Northwind Learning's"):
        services.update_instructor(
            instructor=theirs, membership=acme.pm, provider=acme.provider, name="Carl", email=theirs.email
        )

    assert list(Instructor.objects.values_list("name", "provider")) == [("Carl", acme.contoso.pk)]


def test_instructor_email_is_unique_in_the_organization_whatever_its_case(acme):
    InstructorFactory(organization=acme.organization, provider=acme.contoso, email="ines@x.test")

    with pytest.raises(ValidationError) as error:
        services.add_instructor(membership=acme.pm, provider=acme.provider, name="Ines", email="Ines@X.test")

    assert error.value.message_dict == {"email": ["Another instructor already has the email Ines@X.test."]}


def test_instructor_with_sessions_keeps_their_provider(acme):
    instructor = InstructorFactory(organization=acme.organization, provider=acme.provider)
    delivery_services.request_session(
        engagement=EngagementFactory(organization=acme.organization, provider=acme.provider),
        membership=acme.pm,
        course=CourseFactory(organization=acme.organization),
        modality="vilt",
        starts_at=at(2, 9),
        ends_at=at(2, 12),
        capacity=10,
        join_url="https://meet.example/x",
        instructors=[instructor],
    )

    with pytest.raises(ValidationError) as error:
        services.update_instructor(
            instructor=instructor,
            membership=acme.members[Role.OWNER],
            provider=acme.contoso,
            name=instructor.name,
            email=instructor.email,
        )

    assert list(error.value.message_dict) == ["provider"]


# --- Qualifications ------------------------------------------------------------------------------------------


def test_qualification_added_and_removed_are_both_audited(acme):
    instructor = InstructorFactory(organization=acme.organization, provider=acme.provider)
    expires = date(2031, 6, 30)  # still valid whenever the suite runs

    qualification = services.add_qualification(
        instructor=instructor, membership=acme.pm, name="First aid", expires_on=expires
    )
    pk = str(qualification.pk)
    services.remove_qualification(qualification=qualification, membership=acme.pm)

    snapshot = {"instructor": instructor.pk, "name": "First aid", "expires_on": expires.isoformat()}
    assert audit("qualification.added") == [(acme.pm.user.email, pk, None, snapshot)]
    assert audit("qualification.removed") == [(acme.pm.user.email, pk, snapshot, None)]
    assert InstructorQualification.objects.count() == 0


def test_provider_manager_cannot_remove_another_providers_qualification(acme):
    theirs = InstructorFactory(organization=acme.organization, provider=acme.contoso)
    qualification = InstructorQualification.objects.create(
        organization=acme.organization, instructor=theirs, name="PRINCE2"
    )

    with pytest.raises(ValidationError, match="only Northwind Learning's"):
        services.remove_qualification(qualification=qualification, membership=acme.pm)

    assert InstructorQualification.objects.count() == 1


def test_the_same_qualification_is_not_recorded_twice(acme):
    instructor = InstructorFactory(organization=acme.organization, provider=acme.provider)
    services.add_qualification(instructor=instructor, membership=acme.pm, name="First aid")

    with pytest.raises(ValidationError) as error:
        services.add_qualification(instructor=instructor, membership=acme.pm, name="first aid")

    assert list(error.value.message_dict) == ["name"]
    assert instructor.qualifications.count() == 1
