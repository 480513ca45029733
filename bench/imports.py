"""Benchmark: CSV import of learners vs a bare bulk_create floor, measured in the same run.

Run on PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/mls .venv/bin/python bench/imports.py [rows]
Everything happens inside a transaction that is rolled back, so the database is left as it was.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mls.settings")

import django
import report

django.setup()

from django.db import transaction  # noqa: E402

from mls.enums import Role  # noqa: E402
from mls.models import Membership, Organization, User  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402
from scheduling.imports import import_csv  # noqa: E402
from scheduling.models import Learner  # noqa: E402


class Rollback(Exception):
    pass


def learners_csv(rows: int, prefix: str) -> str:
    lines = ["external_id,name,email,business_unit,region"]
    lines += [f"{prefix}-{n},Learner {n},{prefix.lower()}{n}@bench.example,Retail,UK" for n in range(rows)]
    return "\n".join(lines) + "\n"


def measure(rows: int) -> tuple[float, float, float]:
    timings = {}
    try:
        with transaction.atomic():
            organization = Organization.objects.create(name="Bench", slug="bench-imports")
            owner = User.objects.create_user("owner@bench.example")  # an import is made by a member who may
            with organization_scope(organization):
                Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
                started = time.perf_counter()
                Learner.objects.bulk_create(
                    Learner(organization=organization, external_id=f"F-{n}", name=f"L {n}", email=f"f{n}@bench.example")
                    for n in range(rows)
                )
                timings["floor"] = time.perf_counter() - started

                text = learners_csv(rows, "HR")
                started = time.perf_counter()
                result = import_csv(kind="learners", organization=organization, text=text, actor=owner)
                timings["import"] = time.perf_counter() - started
                assert (result.created, result.errors) == (rows, []), result.errors[:3]

                text = text.replace("Learner ", "Renamed ")
                started = time.perf_counter()
                result = import_csv(kind="learners", organization=organization, text=text, actor=owner)
                timings["reimport"] = time.perf_counter() - started
                assert result.updated == rows
            raise Rollback
    except Rollback:
        pass
    return timings["floor"], timings["import"], timings["reimport"]


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    floor, first, again = measure(rows)
    print(f"| learners CSV ({rows:,} rows) | seconds | ratio to bulk_create floor |")
    print("|---|---|---|")
    print(f"| floor: bulk_create, no validation | {floor:.2f} | 1.0× |")
    print(f"| import (validate + create) | {first:.2f} | {first / floor:.1f}× |")
    print(f"| re-import (every name changed) | {again:.2f} | {again / floor:.1f}× |")
    report.ratio(f"CSV import, {rows:,} learners", first, floor, floor="bulk_create without validation")
    report.ratio(f"CSV re-import, {rows:,} learners changed", again, floor, floor="bulk_create without validation")


if __name__ == "__main__":
    main()
