"""The data-portability export: every tenant table of the organization, nothing of another, no credentials."""

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.core.cache import cache
from django.db import models
from django.test.utils import isolate_apps
from django.urls import reverse

from mls.enums import Role
from mls.models import AuditEvent, TenantModel
from reporting import portability, services
from reporting.enums import ExportStatus
from reporting.models import DataExport
from tests.factories.engagements import signed_contract_with_proposal

pytestmark = pytest.mark.integration


def org_url(tenant, name, **kwargs):
    return reverse(name, kwargs={"organization_slug": tenant.organization.slug, **kwargs})


def concrete_subclasses(base: type) -> set[type]:
    """Every non-abstract subclass of `base`, found through the class tree (not the app registry the export uses)."""
    found = set()
    for subclass in base.__subclasses__():
        if not subclass._meta.abstract and not subclass._meta.proxy:
            found.add(subclass)
        found |= concrete_subclasses(subclass)
    return found


@pytest.fixture
def tenants(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        tenant.contract = signed_contract_with_proposal(tenant)
    return tenant_a, tenant_b


def export_through_the_pages(client, tenant, django_capture_on_commit_callbacks) -> DataExport:
    client.force_login(tenant.user(Role.OWNER))
    confirm = client.get(org_url(tenant, "reporting:data_export_request"))
    assert confirm.context["title"] == "Export all of the organization's data?"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(org_url(tenant, "reporting:data_export_request"))
    assert response["Location"] == org_url(tenant, "reporting:exports")
    with tenant.scope():
        return DataExport.objects.exclude(pk=tenant.contract.data_export.pk).get()


def test_portability_export_holds_every_tenant_table_of_the_organization_and_nothing_else(
    client, tenants, django_capture_on_commit_callbacks
):
    a, _b = tenants

    export = export_through_the_pages(client, a, django_capture_on_commit_callbacks)
    response = client.get(org_url(a, "reporting:data_export_download", pk=export.pk))

    assert export.status == ExportStatus.SUCCEEDED
    assert response["Content-Disposition"].startswith('attachment; filename="mls-acme-data-')
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == export.sha256
    archive = zipfile.ZipFile(io.BytesIO(content))
    manifest = json.loads(archive.read("manifest.json"))
    tables = {entry["table"]: entry for entry in manifest["tables"]}
    # Every tenant model, including any added later, is a table of the export.
    assert set(tables) == {model._meta.label_lower for model in concrete_subclasses(TenantModel)}
    with a.scope():
        counts = {model._meta.label_lower: model.objects.count() for model in concrete_subclasses(TenantModel)}
        counts["mls.auditevent"] -= AuditEvent.objects.filter(action="export.succeeded").count()  # after the ZIP
    assert {name: entry["rows"] for name, entry in tables.items()} == counts
    assert export.row_counts == counts
    assert (counts["scheduling.session"], counts["mls.membership"]) == (1, 5)  # the fixture's, not B's too
    for name, entry in tables.items():
        csv_bytes, json_bytes = archive.read(entry["csv"]["file"]), archive.read(entry["json"]["file"])
        assert hashlib.sha256(csv_bytes).hexdigest() == entry["csv"]["sha256"]
        assert hashlib.sha256(json_bytes).hexdigest() == entry["json"]["sha256"]
        csv_rows = list(csv.DictReader(io.StringIO(csv_bytes.decode(), newline="")))
        json_rows = json.loads(json_bytes)
        assert len(csv_rows) == len(json_rows) == entry["rows"], name
        # B's rows are a step away (same names, neighbouring ids): none of them is here.
        assert {row["organization_id"] for row in csv_rows} <= {str(a.organization.pk)}, name
        assert {row["organization_id"] for row in json_rows} <= {a.organization.pk}, name


def test_members_are_exported_without_credentials(client, tenants, django_capture_on_commit_callbacks):
    a, _b = tenants

    export = export_through_the_pages(client, a, django_capture_on_commit_callbacks)

    with export.file.open("rb") as handle:
        archive = zipfile.ZipFile(handle)
        members = json.loads(archive.read("json/mls.membership.json"))
        manifest = json.loads(archive.read("manifest.json"))
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert sorted((m["user__email"], m["role"]) for m in members) == sorted(
        (a.user(role).email, role) for role in Role.values
    )
    assert "password" not in {key for member in members for key in member}
    assert b"md5$" not in everything  # the test hasher's password hashes are nowhere
    assert "passwords" in manifest["notes"]["credentials"]


@isolate_apps("reporting")
def test_columns_named_like_secrets_are_left_out_and_listed():
    class WebhookEndpoint(TenantModel):
        url = models.URLField()
        secret = models.CharField(max_length=64)
        token_hash = models.CharField(max_length=64)

        class Meta(TenantModel.Meta):
            app_label = "reporting"

    table = portability.table_of(WebhookEndpoint)

    assert table.columns == ("id", "organization_id", "url")
    assert table.redacted == ("secret", "token_hash")


def test_the_real_credential_and_binary_columns_are_left_out():
    tables = {model._meta.label_lower: portability.table_of(model) for model in portability.tenant_models()}

    assert tables["mls.apitoken"].redacted == ("secret_hash",)
    assert tables["mls.webhookendpoint"].redacted == ("secret",)
    assert tables["mls.idempotencykey"].redacted == ("response_body",)


def test_a_second_export_is_refused_while_one_is_being_built(client, tenant_a):
    client.force_login(tenant_a.user(Role.OWNER))
    client.post(org_url(tenant_a, "reporting:data_export_request"))  # queued: its task waits for the commit

    response = client.post(org_url(tenant_a, "reporting:data_export_request"))

    assert response.status_code == 400
    assert "An export is already being built" in response.content.decode()
    with tenant_a.scope():
        assert list(DataExport.objects.values_list("status", flat=True)) == [ExportStatus.QUEUED]
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["export.requested"]


def test_building_is_idempotent_and_audited(tenant_a):
    with tenant_a.scope():
        export = services.request_portability_export(
            organization=tenant_a.organization, membership=tenant_a.members[Role.OWNER]
        )
        first = services.build_portability_export(export)
        again = services.build_portability_export(export)

        assert (first.status, again.sha256, again.file.name) == (ExportStatus.SUCCEEDED, first.sha256, first.file.name)
        assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
            "export.requested",
            "export.succeeded",
        ]


def test_progress_is_polled_with_htmx_while_running(client, tenant_a):
    with tenant_a.scope():
        export = DataExport.objects.create(organization=tenant_a.organization, status=ExportStatus.RUNNING)
    cache.set(services.progress_key(export), (13, 40))
    client.force_login(tenant_a.user(Role.OWNER))

    response = client.get(org_url(tenant_a, "reporting:data_export", pk=export.pk), HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert content.lstrip().startswith(f'<div id="export-status-{export.pk}"')
    assert 'hx-trigger="every 1s"' in content
    assert '<progress max="100" value="32"' in content  # 13 of 40 tables → 32.5 → 32 % (round half to even)


def test_an_unfinished_export_cannot_be_downloaded(client, tenant_a):
    with tenant_a.scope():
        export = DataExport.objects.create(organization=tenant_a.organization, status=ExportStatus.RUNNING)
    client.force_login(tenant_a.user(Role.OWNER))

    assert client.get(org_url(tenant_a, "reporting:data_export_download", pk=export.pk)).status_code == 404


@pytest.mark.parametrize("count", [1, 3])
def test_exports_page_lists_data_exports_in_constant_queries(client, tenant_a, count, django_assert_num_queries):
    with tenant_a.scope():
        for _ in range(count):
            DataExport.objects.create(
                organization=tenant_a.organization, requested_by=tenant_a.user(Role.OWNER), status="failed"
            )
    client.force_login(tenant_a.user(Role.OWNER))

    # session, user, organization, membership; header: organizations, unread notifications; the engagement
    # choices of the filter; the count and the page of data exports
    with django_assert_num_queries(9):
        response = client.get(org_url(tenant_a, "reporting:exports"))

    assert len(response.context["page"].object_list) == count
