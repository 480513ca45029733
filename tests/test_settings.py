"""Settings from the environment: production passes `check --deploy`; zero-config runs on SQLite."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # each test starts manage.py in a subprocess

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#k2Lq9-production-like-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "mls.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


# Configuration of this test run that must not reach the subprocess under test.
NOT_INHERITED = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        # A guard against a hang, not a speed check: migrating and seeding the demo took over 120 s on a loaded
        # machine (seven other test runs sharing two cores).
        timeout=600,
        check=False,
    )


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


HARDENING_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.ALLAUTH_TRUSTED_PROXY_COUNT, settings.SESSION_IDLE_TIMEOUT, settings.SESSION_ABSOLUTE_LIFETIME, "
    "settings.SESSION_COOKIE_AGE)"
)


def test_proxy_count_and_session_lifetimes_come_from_the_environment_with_safe_defaults():
    defaults = manage("shell", "-c", HARDENING_SETTINGS, env=PRODUCTION_ENV)
    behind_proxies = manage(
        "shell",
        "-c",
        HARDENING_SETTINGS,
        env={
            **PRODUCTION_ENV,
            "TRUSTED_PROXY_COUNT": "2",
            "SESSION_IDLE_TIMEOUT": "600",
            "SESSION_ABSOLUTE_LIFETIME": "3600",
        },
    )

    assert defaults.returncode == 0, defaults.stderr
    assert defaults.stdout.splitlines()[-1].split() == [
        "0",
        "1800",
        "43200",
        "43200",
    ]  # no proxy trusted; 30 min idle; 12 h in all
    assert behind_proxies.stdout.splitlines()[-1].split() == ["2", "600", "3600", "3600"]


def test_production_settings_refuse_to_start_without_secret_key():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})

    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_invalid_boolean_in_environment_is_reported_by_name():
    result = manage("check", env={**PRODUCTION_ENV, "DEBUG": "maybe"})

    assert result.returncode == 1
    assert "DEBUG must be true or false, got 'maybe'" in result.stderr


def test_zero_config_default_migrates_and_seeds_demo_on_sqlite(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'mls.sqlite3'}"}  # the default, relocated away from the dev DB

    migrate = manage("migrate", "--noinput", env=env)
    seed = manage("seed_demo", env=env)
    seed_again = manage("seed_demo", env=env)

    assert migrate.returncode == 0, migrate.stderr
    assert seed.returncode == 0, seed.stderr
    assert "director@demo.test" in seed.stdout
    assert "demo-pass-2026" in seed.stdout
    assert "provider2@demo.test" in seed.stdout
    # The demo's delivery is measured: a year of months finalized with breaches and service credits.
    slas = re.findall(
        r"SLAs of .*: \d targets, 1?\d months finalized with [1-9]\d* breach(?:es)?, £[1-9][\d,.]* of service .*",
        seed.stdout,
    )
    assert len(slas) == 2, seed.stdout  # Northwind's engagement and Kestrel's
    assert seed_again.returncode == 0, seed_again.stderr  # idempotent
    assert [line for line in slas if line in seed_again.stdout] == slas


# New learners and their audit events: bulk_create of both in one transaction, on SQLite as on PostgreSQL.
IMPORT_ON_SQLITE = """
from mls.models import AuditEvent, Membership, User
from mls.services import create_organization
from mls.tenancy import organization_scope
from scheduling.imports import import_records
from scheduling.models import Learner
organization = create_organization(owner=User.objects.create_user("o@sq.test", "sq-pass-2026"), name="SQ")
with organization_scope(organization):
    owner = Membership.objects.select_related("user", "organization").get()
    items = [{"external_id": f"SQ-{n}", "name": f"Learner {n}", "email": f"sq{n}@sq.test"} for n in range(2)]
    result = import_records(kind="learners", organization=organization, records=items, membership=owner)
    again = import_records(kind="learners", organization=organization, records=items[:1], membership=owner)
    events = AuditEvent.objects.filter(action="import.learners").order_by("id")
    ids = [row.pk for row in result.rows]
    print(result.created, result.errors, again.unchanged, [e.after["name"] for e in events],
        [int(e.object_id) for e in events] == ids == list(
        Learner.objects.filter(external_id__startswith="SQ-").order_by("external_id").values_list("id", flat=True)))
"""


def test_an_import_of_new_rows_writes_them_and_their_audit_events_on_sqlite(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'mls.sqlite3'}"}
    assert manage("migrate", "--noinput", env=env).returncode == 0

    result = manage("shell", "-c", IMPORT_ON_SQLITE, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "2 [] 1 ['Learner 0', 'Learner 1'] True"
