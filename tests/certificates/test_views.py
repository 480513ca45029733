"""The member's download and revocation, the learner page's certificates, and the public verification page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from certificates import services
from certificates.models import Certificate
from mls.enums import Role
from mls.models import AuditEvent
from scheduling.models import Completion
from tests.certificates.conftest import COMPLETED_AT, ISSUED_AT, completion_of
from tests.factories.scheduling import CourseFactory, LearnerFactory

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def verify_url(code: str) -> str:
    return reverse("verification:certificate", kwargs={"code": code})


def _issued(certified) -> Certificate:
    with certified.tenant.scope():
        return services.issue_certificate(certified.completion, ISSUED_AT)


# --- Download -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.VIEWER, Role.PROVIDER_MANAGER])
def test_a_member_who_reads_the_completion_downloads_its_certificate(client, certified, role):
    client.force_login(certified.tenant.user(role))

    response = client.get(org_url(certified.tenant, "certificates:download", pk=certified.completion.pk))

    assert (response.status_code, response["Content-Type"], response["Content-Disposition"]) == (
        200,
        "application/pdf",
        'attachment; filename="certificate-gdpr-2-grace-hopper.pdf"',
    )
    assert response.content.startswith(b"%PDF-")
    with certified.tenant.scope():
        certificate = Certificate.objects.get()
        assert (certificate.completion, AuditEvent.objects.get().actor) == (
            certified.completion,
            certified.tenant.user(role),
        )


def test_downloading_twice_is_one_certificate(client, certified):
    client.force_login(certified.tenant.user(Role.OWNER))
    url = org_url(certified.tenant, "certificates:download", pk=certified.completion.pk)

    client.get(url)
    client.get(url)

    with certified.tenant.scope():
        assert Certificate.objects.count() == 1


def test_another_providers_manager_gets_404(client, certified):
    tenant = certified.tenant.with_second_provider()
    client.force_login(tenant.other.manager.user)

    response = client.get(org_url(tenant, "certificates:download", pk=certified.completion.pk))

    assert response.status_code == 404
    with tenant.scope():
        assert Certificate.objects.count() == 0


def test_a_foreign_tenants_member_gets_404(client, certified, tenant_b):
    client.force_login(tenant_b.user(Role.OWNER))

    responses = [
        client.get(org_url(tenant_b, "certificates:download", pk=certified.completion.pk)),
        client.get(org_url(certified.tenant, "certificates:download", pk=certified.completion.pk)),
    ]

    assert [response.status_code for response in responses] == [404, 404]
    with certified.tenant.scope():
        assert Certificate.objects.count() == 0


def test_a_revoked_certificate_is_not_downloaded(client, certified):
    certificate = _issued(certified)
    with certified.tenant.scope():
        services.revoke_certificate(
            certificate=certificate, membership=certified.tenant.members[Role.OWNER], note="Fraud", now=ISSUED_AT
        )
    client.force_login(certified.tenant.user(Role.VIEWER))

    response = client.get(org_url(certified.tenant, "certificates:download", pk=certified.completion.pk))

    assert (response.status_code, response["Content-Type"]) == (410, "text/html; charset=utf-8")
    assert "The certificate of Grace Hopper for Data protection essentials was revoked" in response.content.decode()


# --- The learner page ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_learner_page_lists_completions_with_certificates_in_constant_queries(
    client, certified, django_assert_num_queries, count
):
    tenant = certified.tenant
    with tenant.scope():
        extras = [
            Completion.objects.create(
                organization=tenant.organization,
                learner=certified.learner,
                course=CourseFactory(organization=tenant.organization, code=f"EXTRA-{number}"),
                completed_at=COMPLETED_AT - timedelta(days=number),
            )
            for number in range(1, count)
        ]
        certificates = [services.issue_certificate(c, ISSUED_AT) for c in (certified.completion, *extras)]
    client.force_login(tenant.user(Role.OWNER))

    with django_assert_num_queries(13):
        response = client.get(org_url(tenant, "scheduling:learner", pk=certified.learner.pk))

    page = response.content.decode()
    download = org_url(tenant, "certificates:download", pk=0).replace("/0/", "/(\\d+)/")
    assert [int(pk) for pk in re.findall(download, page)] == [c.pk for c in (certified.completion, *extras)]
    revoke = org_url(tenant, "certificates:revoke", pk=0).replace("/0/", "/(\\d+)/")
    assert [int(pk) for pk in re.findall(revoke, page)] == [c.pk for c in certificates]


def test_learner_page_hides_revoke_from_members_who_cannot_revoke(client, certified):
    _issued(certified)
    client.force_login(certified.tenant.user(Role.VIEWER))

    page = client.get(org_url(certified.tenant, "scheduling:learner", pk=certified.learner.pk)).content.decode()

    assert (page.count("Certificate (PDF)"), page.count("/revoke/")) == (1, 0)


# --- Revocation ------------------------------------------------------------------------------------------------


def test_revoking_through_the_page_says_so_on_the_verification_page(client, certified):
    certificate = _issued(certified)
    client.force_login(certified.tenant.user(Role.OWNER))

    response = client.post(org_url(certified.tenant, "certificates:revoke", pk=certificate.pk), {"note": "Fraud"})
    verified = client.get(verify_url(certificate.public_code))

    assert (response.status_code, response["Location"]) == (
        302,
        org_url(certified.tenant, "scheduling:learner", pk=certified.learner.pk),
    )
    assert (verified.context["facts"].status, verified.context["facts"].revocation) == ("revoked", "revoked")
    assert "Fraud" not in verified.content.decode()  # the member's note is for the audit log


def test_revoking_without_a_reason_keeps_the_certificate(client, certified):
    certificate = _issued(certified)
    client.force_login(certified.tenant.user(Role.OWNER))

    response = client.post(org_url(certified.tenant, "certificates:revoke", pk=certificate.pk), {"note": ""})

    assert (response.status_code, response.context["form"].errors) == (400, {"note": ["This field is required."]})
    with certified.tenant.scope():
        assert Certificate.objects.get().revoked_at is None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LD_DIRECTOR, Role.PROCUREMENT])
def test_roles_that_do_not_log_delivery_get_403_on_revoke(client, certified, role):
    certificate = _issued(certified)
    client.force_login(certified.tenant.user(role))

    response = client.post(org_url(certified.tenant, "certificates:revoke", pk=certificate.pk), {"note": "No"})

    assert response.status_code == 403
    with certified.tenant.scope():
        assert Certificate.objects.get().revoked_at is None


# --- The public verification page ------------------------------------------------------------------------------


@pytest.fixture
def with_neighbours(certified, tenant_b):
    """What could leak: the learner's other completion and certificate, another learner's, and tenant B's
    certificate of a learner with the same name."""
    tenant = certified.tenant
    with tenant.scope():
        other_course = CourseFactory(organization=tenant.organization, code="BOARD-9", title="Board briefing")
        own_other = Completion.objects.create(
            organization=tenant.organization, learner=certified.learner, course=other_course, completed_at=COMPLETED_AT
        )
        someone = LearnerFactory(organization=tenant.organization, name="Alan Turing", email="alan@acme.example")
        theirs = Completion.objects.create(
            organization=tenant.organization, learner=someone, course=certified.course, completed_at=COMPLETED_AT
        )
        for completion in (own_other, theirs):
            services.issue_certificate(completion, ISSUED_AT)
    foreign = completion_of(tenant_b)
    return _issued(certified), _issued(foreign)


def test_verification_page_shows_the_facts_and_nothing_else(
    client, certified, with_neighbours, django_assert_num_queries
):
    certificate, _foreign = with_neighbours

    with django_assert_num_queries(1):  # the certificate, its completion and learner in one join
        response = client.get(verify_url(certificate.public_code))

    page = response.content.decode()
    facts = response.context["facts"]
    assert (
        response.status_code,
        facts.status,
        facts.learner_name,
        facts.course_title,
        facts.course_code,
        str(facts.completed_on),
        facts.organization_name,
        facts.provider_name,
    ) == (
        200,
        "valid",
        "Grace Hopper",
        "Data protection essentials",
        "GDPR-2",
        "2026-03-03",
        "Acme Corp",
        "Northwind Learning",
    )
    assert "This certificate was issued by Acme Corp and is valid." in page
    assert "3 Mar 2026" in page
    for secret in ("grace@acme.example", "Board briefing", "BOARD-9", "Alan Turing", "alan@acme.example"):
        assert secret not in page
    assert f"/o/{certified.tenant.organization.slug}/" not in page
    assert '<meta name="robots" content="noindex, nofollow">' in page


def test_verification_page_of_a_german_learner_is_german(client, certified_de):
    certificate = _issued(certified_de)

    response = client.get(verify_url(certificate.public_code), HTTP_ACCEPT_LANGUAGE="en-GB")

    page = response.content.decode()
    assert response["Content-Language"] == "de"
    assert "Dieses Zertifikat wurde von Acme Corp ausgestellt und ist gültig." in page
    assert "Abgeschlossen am" in page
    assert "3. März 2026" in page


def test_unknown_tampered_and_foreign_codes_are_404(client, certified, with_neighbours):
    certificate, foreign = with_neighbours
    organization, secret = certificate.public_code.split("-")
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    codes = [
        f"{organization}-{flipped}",  # tampered
        f"{organization}-{secret[:-1]}",  # truncated
        f"{foreign.organization_id}-{secret}",  # A's secret under B's id
        f"{organization}-{foreign.code}",  # B's secret under A's id
        f"999999-{secret}",  # no such organization
        "not-a-code",
        f"0-{secret}",
    ]

    statuses = [client.get(verify_url(code)).status_code for code in codes]

    assert statuses == [404] * len(codes)


def test_a_code_typed_in_lower_case_is_the_same_code(client, certified):
    certificate = _issued(certified)

    response = client.get(verify_url(certificate.public_code.lower()))

    assert (response.status_code, response.context["facts"].serial) == (200, certificate.public_code)


def test_a_changed_completion_shows_its_certificate_as_superseded(client, certified):
    certificate = _issued(certified)
    with certified.tenant.scope():
        certified.completion.completed_at = COMPLETED_AT + timedelta(days=7)
        certified.completion.save()

    response = client.get(verify_url(certificate.public_code))

    page = response.content.decode()
    assert (response.context["facts"].status, response.context["facts"].revocation) == ("revoked", "superseded")
    assert "This certificate was revoked: it no longer certifies the completion." in page
    assert "Replaced by a newer certificate: the completion&#x27;s record changed." in page


def test_a_deleted_completion_shows_its_certificate_as_withdrawn(client, certified):
    certificate = _issued(certified)
    with certified.tenant.scope():
        certified.completion.delete()

    response = client.get(verify_url(certificate.public_code))

    assert (response.status_code, response.context["facts"].revocation) == (200, "withdrawn")
    assert "The completion record was withdrawn." in response.content.decode()
