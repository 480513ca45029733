"""A learner's language and timezone (what their emails, portal and certificates use) come in through the learner
sheet, as on the CSV upload and the API upsert, which share it."""

import pytest

from mls.enums import Role
from scheduling.imports import ImportResult, RowError, import_csv
from scheduling.models import Learner

pytestmark = pytest.mark.integration

HEADER = "external_id,name,email,language,timezone"


def run(tenant, text: str) -> ImportResult:
    with tenant.scope():
        return import_csv(kind="learners", organization=tenant.organization, text=text, actor=tenant.user(Role.OWNER))


def stored(tenant) -> list[tuple[str, str, str]]:
    with tenant.scope():
        return list(Learner.objects.order_by("external_id").values_list("external_id", "language", "timezone"))


def test_learner_sheet_sets_language_and_timezone_and_a_blank_cell_keeps_them(tenant_a):
    run(tenant_a, "\n".join([HEADER, "L-1,Ada,ada@x.example,de,Europe/Berlin", "L-2,Bo,bo@x.example,,"]))

    again = run(tenant_a, "\n".join([HEADER, "L-1,Ada,ada@x.example,,", "L-2,Bo,bo@x.example,DE,America/New_York"]))

    assert (again.created, again.updated, again.errors) == (0, 1, [])
    assert stored(tenant_a) == [("L-1", "de", "Europe/Berlin"), ("L-2", "de", "America/New_York")]


def test_learner_sheet_refuses_an_unknown_language_or_zone_by_row_and_writes_nothing(tenant_a):
    result = run(tenant_a, "\n".join([HEADER, "L-1,Ada,ada@x.example,fr,", "L-2,Bo,bo@x.example,en-gb,Mars/Olympus"]))

    assert [(error.row, error.column) for error in result.errors] == [(2, "language"), (3, "timezone")]
    assert result.errors[0] == RowError(2, "language", "'fr' is not allowed here; use one of: en-gb, de.")
    assert stored(tenant_a) == []
