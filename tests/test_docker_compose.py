"""docker-compose.yml: valid against the Compose spec, and runs the stack the project expects."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
APP_SERVICES = ["web", "worker", "beat"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def test_compose_file_validates_against_compose_spec():
    check_jsonschema = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(check_jsonschema), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_services_are_exactly_the_stack(services: dict):
    assert set(services) == {"migrate", "web", "worker", "beat", "postgres", "redis"}


def test_web_command_runs_gunicorn_wsgi_app(services: dict):
    command = services["web"]["command"]
    assert command[0] == "gunicorn"
    assert command[1] == "mls.wsgi:application"
    assert services["web"]["ports"] == ["8000:8000"]


@pytest.mark.parametrize(("service", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_celery_service_command_uses_mls_app(services: dict, service: str, subcommand: str):
    command = services[service]["command"]
    assert command[:4] == ["celery", "-A", "mls", subcommand]


def test_beat_command_uses_database_scheduler(services: dict):
    command = services["beat"]["command"]
    assert command[command.index("--scheduler") + 1] == "django_celery_beat.schedulers:DatabaseScheduler"


def test_migrate_command_runs_migrations(services: dict):
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_waits_for_datastores_and_migrations(services: dict, service: str):
    assert services[service]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


@pytest.mark.parametrize("service", ["migrate", *APP_SERVICES])
def test_app_service_environment_is_production_like(services: dict, service: str):
    environment = services[service]["environment"]
    assert environment["DEBUG"] == "false"
    assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert environment["SECURE_SSL_REDIRECT"] == "false"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["DATABASE_URL"] == "postgres://mls:${POSTGRES_PASSWORD:-mls}@postgres:5432/mls"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_takes_the_proxy_count_and_session_lifetimes_from_the_host(services: dict, service: str):
    environment = services[service]["environment"]
    assert environment["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-0}"
    assert environment["SESSION_IDLE_TIMEOUT"] == "${SESSION_IDLE_TIMEOUT:-1800}"
    assert environment["SESSION_ABSOLUTE_LIFETIME"] == "${SESSION_ABSOLUTE_LIFETIME:-43200}"


@pytest.mark.parametrize(("service", "probe"), [("postgres", "pg_isready"), ("redis", "redis-cli ping")])
def test_datastore_service_has_healthcheck(services: dict, service: str, probe: str):
    assert probe in " ".join(services[service]["healthcheck"]["test"])


def test_web_healthcheck_hits_login_page(services: dict):
    assert "http://127.0.0.1:8000/accounts/login/" in " ".join(services["web"]["healthcheck"]["test"])
