"""The data-portability archive: every tenant table of one organization as CSV and JSON, with a manifest.

The client owns its delivery data and may take all of it at exit (the seeds' data-portability clause). Tables are
found through the app registry, every concrete `TenantModel`, so a table added later is exported without touching
this module; each is read through its tenant-scoped manager and filtered by the organization once more.

Credentials never leave: users' passwords, MFA secrets and sessions live outside the tenant tables, and any tenant
column whose name says it holds a secret (`SECRET_COLUMN`: API token hashes, webhook secrets, ...) is left out and
listed in the manifest. Members are exported with who they are (email, name, role), not how they sign in.
"""

import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import BinaryField
from django.utils import timezone

from mls.models import Organization, TenantModel

from .exports import ROWS_PER_CHUNK, csv_chunks

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SECRET_COLUMN = re.compile(r"password|secret|token|hash|otp|private_key", re.IGNORECASE)
# Who a member is, read from the user row (which is not a tenant table and holds the credentials).
MEMBER_COLUMNS = {"mls.membership": ("user__email", "user__first_name", "user__last_name")}
NOTES = {
    "csv": "UTF-8, comma-separated, one header row. Text cells starting with = + - @ TAB or CR are prefixed with "
    "an apostrophe so spreadsheets do not run them as formulas; the JSON files hold the exact values.",
    "times": "ISO 8601 with the offset of the organization's timezone; dates ISO 8601; decimals exact (JSON: strings).",
    "credentials": "Not exported: user passwords, two-factor secrets and sign-in sessions (outside the "
    "organization's tables), and the columns listed under redacted_columns. Members are exported in "
    "mls.membership with their email, name and role.",
    "files": "Uploaded files (e.g. SLA evidence) are referenced by their stored name, not included.",
}


def tenant_models() -> list[type[TenantModel]]:
    """Every concrete tenant table, in a stable order."""
    found = (model for model in apps.get_models() if issubclass(model, TenantModel) and not model._meta.proxy)
    return sorted(found, key=lambda model: model._meta.label_lower)


@dataclass(frozen=True)
class Table:
    model: type[TenantModel]
    columns: tuple[str, ...]  # values_list lookups; also the header
    redacted: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.model._meta.label_lower

    def rows(self, organization: Organization) -> Iterator[tuple]:
        queryset = self.model._default_manager.filter(organization=organization).order_by("pk")
        return queryset.values_list(*self.columns).iterator(chunk_size=ROWS_PER_CHUNK)


def table_of(model: type[TenantModel]) -> Table:
    fields = model._meta.concrete_fields
    # Secrets stay; so do raw bytes (e.g. an API answer kept for Idempotency-Key replays), which are no record of
    # the engagement and have no faithful CSV or JSON form.
    redacted = tuple(
        field.attname for field in fields if SECRET_COLUMN.search(field.name) or isinstance(field, BinaryField)
    )
    columns = tuple(field.attname for field in fields if field.attname not in redacted)
    return Table(model, columns + MEMBER_COLUMNS.get(model._meta.label_lower, ()), redacted)


class _Counted:
    """Rows passed through, counted."""

    def __init__(self, rows: Iterable[tuple]) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[tuple]:
        for row in self.rows:
            self.count += 1
            yield row


def _json_chunks(columns: Sequence[str], rows: Iterable[tuple], zone: tzinfo) -> Iterator[str]:
    """A JSON array of one object per row, written a row at a time."""
    encoder = DjangoJSONEncoder(ensure_ascii=False)
    yield "["
    separator = "\n"
    for row in rows:
        values = (value.astimezone(zone) if isinstance(value, datetime) else value for value in row)
        yield separator + encoder.encode(dict(zip(columns, values, strict=True)))
        separator = ",\n"
    yield "\n]\n"


def _write_member(archive: zipfile.ZipFile, name: str, chunks: Iterable[str]) -> str:
    """Write one file of the archive from text chunks; its SHA-256."""
    digest = hashlib.sha256()
    with archive.open(name, "w", force_zip64=True) as member:
        for chunk in chunks:
            data = chunk.encode()
            digest.update(data)
            member.write(data)
    return digest.hexdigest()


def write_archive(
    archive: zipfile.ZipFile,
    organization: Organization,
    *,
    requested_by: str,
    progress: Callable[[int, int], None],
) -> dict:
    """Write every table (CSV and JSON) and the manifest into `archive`; returns the manifest.

    Call it inside one transaction (REPEATABLE READ on PostgreSQL) so the tables agree with each other.
    """
    zone = ZoneInfo(organization.timezone)
    tables = [table_of(model) for model in tenant_models()]
    entries = []
    for done, table in enumerate(tables, start=1):
        rows = _Counted(table.rows(organization))
        csv_sha256 = _write_member(archive, f"csv/{table.name}.csv", csv_chunks(table.columns, rows, zone))
        json_sha256 = _write_member(
            archive, f"json/{table.name}.json", _json_chunks(table.columns, table.rows(organization), zone)
        )
        entries.append(
            {
                "table": table.name,
                "rows": rows.count,
                "columns": list(table.columns),
                "csv": {"file": f"csv/{table.name}.csv", "sha256": csv_sha256},
                "json": {"file": f"json/{table.name}.json", "sha256": json_sha256},
            }
        )
        progress(done, len(tables))
    manifest = {
        "format_version": FORMAT_VERSION,
        "organization": {
            "id": organization.pk,
            "name": organization.name,
            "slug": organization.slug,
            "timezone": organization.timezone,
            "currency": organization.currency,
        },
        "generated_at": timezone.now().astimezone(zone).isoformat(),
        "requested_by": requested_by,
        "notes": NOTES,
        "redacted_columns": {table.name: list(table.redacted) for table in tables if table.redacted},
        "tables": entries,
    }
    archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def row_counts(manifest: dict) -> dict[str, int]:
    return {entry["table"]: entry["rows"] for entry in manifest["tables"]}
