"""Supplier and instructor pages: forms keep input on errors, a provider sees and edits only its own, expiry
dates stand out, constant query counts."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent
from tests.factories import ProviderFactory
from tests.factories.scheduling import InstructorFactory
from vendors.models import Instructor, InstructorQualification, Supplier

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


@pytest.fixture
def contoso(tenant_a):
    """A second provider of tenant A: Northwind's account manager must neither see nor write its records."""
    return ProviderFactory(organization=tenant_a.organization, name="Contoso")


SUPPLIER = {"name": "Brightpath", "categories": "leadership", "regions": "UK", "rate_card": "£1,200 a day"}


def test_provider_manager_adds_a_supplier_choosing_only_their_provider(client, tenant_a, contoso):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    url = org_url(tenant_a, "vendors:supplier_create")

    form = client.get(url).context["form"]
    response = client.post(url, {**SUPPLIER, "provider": tenant_a.provider.pk, "contract_expires_on": "2027-06-30"})

    assert list(form.fields["provider"].queryset) == [tenant_a.provider]
    assert form.initial["provider"] == tenant_a.provider.pk
    assert response.status_code == 302
    assert response["Location"] == org_url(tenant_a, "vendors:suppliers")
    with tenant_a.scope():
        assert list(Supplier.objects.values_list("provider", "name", "rate_card", "contract_expires_on")) == [
            (tenant_a.provider.pk, "Brightpath", "£1,200 a day", date(2027, 6, 30))
        ]


def test_provider_manager_posting_another_provider_is_refused_on_the_form(client, tenant_a, contoso):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(org_url(tenant_a, "vendors:supplier_create"), {**SUPPLIER, "provider": contoso.pk})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["provider"]
    with tenant_a.scope():
        assert Supplier.objects.count() == 0


def test_supplier_form_with_a_bad_date_keeps_the_input_and_writes_nothing(client, tenant_a):
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    response = client.post(
        org_url(tenant_a, "vendors:supplier_create"),
        {**SUPPLIER, "provider": tenant_a.provider.pk, "insurance_expires_on": "31/02/2027"},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["insurance_expires_on"]
    assert b'value="31/02/2027"' in response.content
    assert b'value="Brightpath"' in response.content
    with tenant_a.scope():
        assert Supplier.objects.count() == 0


def test_duplicate_supplier_name_shows_on_the_name_field(client, tenant_a):
    Supplier.objects.create(organization=tenant_a.organization, provider=tenant_a.provider, name="Brightpath")
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(org_url(tenant_a, "vendors:supplier_create"), {**SUPPLIER, "provider": tenant_a.provider.pk})

    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["Northwind Learning already has a supplier named Brightpath."]}


def test_supplier_edit_saves_and_audits_the_change(client, tenant_a):
    supplier = Supplier.objects.create(organization=tenant_a.organization, provider=tenant_a.provider, name="Old")
    client.force_login(tenant_a.user(Role.PROCUREMENT))
    url = org_url(tenant_a, "vendors:supplier_edit", pk=supplier.pk)

    initial = client.get(url).context["form"].initial
    response = client.post(url, {**SUPPLIER, "provider": tenant_a.provider.pk})

    assert (initial["name"], initial["provider"]) == ("Old", tenant_a.provider.pk)
    assert response.status_code == 302
    with tenant_a.scope():
        event = AuditEvent.objects.get(action="supplier.updated")
    assert (event.before["name"], event.after["name"], event.after["regions"]) == ("Old", "Brightpath", "UK")


def test_provider_manager_cannot_open_another_providers_supplier_or_instructor(client, tenant_a, contoso):
    supplier = Supplier.objects.create(organization=tenant_a.organization, provider=contoso, name="Theirs")
    instructor = InstructorFactory(organization=tenant_a.organization, provider=contoso)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    responses = [
        client.get(org_url(tenant_a, "vendors:supplier_edit", pk=supplier.pk)),
        client.post(org_url(tenant_a, "vendors:supplier_edit", pk=supplier.pk), {**SUPPLIER, "provider": contoso.pk}),
        client.get(org_url(tenant_a, "vendors:instructor", pk=instructor.pk)),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    with tenant_a.scope():
        assert Supplier.objects.get().name == "Theirs"


@pytest.mark.parametrize("role", [Role.LD_DIRECTOR, Role.VIEWER])
def test_roles_without_the_permission_cannot_post_a_supplier(client, tenant_a, role):
    client.force_login(tenant_a.user(role))

    response = client.post(org_url(tenant_a, "vendors:supplier_create"), {**SUPPLIER, "provider": tenant_a.provider.pk})

    assert response.status_code == 403
    with tenant_a.scope():
        assert Supplier.objects.count() == 0


# --- Instructors and qualifications ------------------------------------------------------------------------


def test_new_instructor_leads_to_their_page_to_record_qualifications(client, tenant_a):
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant_a, "vendors:instructor_create"),
        {"name": "Ines", "email": "ines@x.test", "provider": tenant_a.provider.pk, "supplier": ""},
    )

    with tenant_a.scope():
        instructor = Instructor.objects.get()
    assert (instructor.name, instructor.provider, instructor.supplier) == ("Ines", tenant_a.provider, None)
    assert response["Location"] == org_url(tenant_a, "vendors:instructor", pk=instructor.pk)


def test_instructor_edit_refuses_a_supplier_of_another_provider_on_the_supplier_field(client, tenant_a, contoso):
    theirs = Supplier.objects.create(organization=tenant_a.organization, provider=contoso, name="CP")
    instructor = InstructorFactory(organization=tenant_a.organization, provider=tenant_a.provider, name="Ines")
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.post(
        org_url(tenant_a, "vendors:instructor", pk=instructor.pk),
        {"name": "Ines B.", "email": instructor.email, "provider": tenant_a.provider.pk, "supplier": theirs.pk},
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"supplier": ["CP is a supplier of Contoso, not of Northwind Learning."]}
    assert b'value="Ines B."' in response.content  # the user's input, not the stored name
    instructor.refresh_from_db()
    assert instructor.name == "Ines"


def test_qualification_with_a_bad_date_is_shown_on_the_instructor_page(client, tenant_a):
    instructor = InstructorFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))

    response = client.post(
        org_url(tenant_a, "vendors:qualification_add", pk=instructor.pk),
        {"qualification-name": "First aid", "qualification-expires_on": "soon"},
    )

    assert response.status_code == 400
    assert list(response.context["qualification_form"].errors) == ["expires_on"]
    assert b'value="First aid"' in response.content
    with tenant_a.scope():
        assert InstructorQualification.objects.count() == 0


def test_qualification_is_added_then_removed_only_after_confirmation(client, tenant_a):
    instructor = InstructorFactory(organization=tenant_a.organization, provider=tenant_a.provider)
    client.force_login(tenant_a.user(Role.PROVIDER_MANAGER))
    client.post(
        org_url(tenant_a, "vendors:qualification_add", pk=instructor.pk),
        {"qualification-name": "First aid", "qualification-expires_on": "2027-01-31"},
    )
    with tenant_a.scope():
        qualification = InstructorQualification.objects.get()
    url = org_url(tenant_a, "vendors:qualification_remove", pk=qualification.pk)

    confirm = client.get(url)
    with tenant_a.scope():
        still_there = InstructorQualification.objects.count()
    removed = client.post(url)

    assert confirm.context["action"] == "Remove qualification"
    assert still_there == 1
    assert removed["Location"] == org_url(tenant_a, "vendors:instructor", pk=instructor.pk)
    with tenant_a.scope():
        assert InstructorQualification.objects.count() == 0


# --- Supplier list -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "shown"),
    [
        (-1, '<span class="badge badge--red">Expired {on}</span>'),
        (0, '<span class="badge badge--amber">Expires {on} (today)</span>'),
        (30, '<span class="badge badge--amber">Expires {on} (in 30 days)</span>'),
        (31, "{on}"),
    ],
    ids=["yesterday", "today", "in-30-days", "in-31-days"],
)
def test_supplier_list_flags_contract_and_insurance_dates_past_or_within_30_days(
    client, tenant_a, time_machine, days, shown
):
    time_machine.move_to(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=False)
    on = date(2026, 6, 15) + timedelta(days=days)
    Supplier.objects.create(
        organization=tenant_a.organization,
        provider=tenant_a.provider,
        name="Brightpath",
        contract_expires_on=on,
        insurance_expires_on=on,
    )
    client.force_login(tenant_a.user(Role.VIEWER))

    content = client.get(org_url(tenant_a, "vendors:suppliers")).content.decode()

    shown = shown.format(on=f"{on:%-d %b %Y}")
    assert f"<td>Contract: {shown}<br>Insurance: {shown}</td>" in content


@pytest.mark.parametrize("count", [1, 3])
def test_supplier_list_query_count_is_constant(client, tenant_a, django_assert_num_queries, count):
    org = tenant_a.organization
    for n in range(count):
        supplier = Supplier.objects.create(organization=org, provider=tenant_a.provider, name=f"S{n}")
        instructor = InstructorFactory(organization=org, provider=tenant_a.provider, supplier=supplier)
        InstructorQualification.objects.create(organization=org, instructor=instructor, name="First aid")
    client.force_login(tenant_a.user(Role.PROCUREMENT))

    # Queries: session, user, organization, membership, switcher, unread, suppliers with their figures,
    # instructors with provider and supplier, their qualifications.
    with django_assert_num_queries(9):
        response = client.get(org_url(tenant_a, "vendors:suppliers"))

    assert (len(response.context["suppliers"]), len(response.context["instructors"])) == (count, count)
