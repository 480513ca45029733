import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.test import TestCase, override_settings
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from mls.celery import app as celery_app
from mls.enums import Role
from mls.models import ApiToken, Membership, Provider
from mls.tenancy import organization_scope
from tests.factories import (
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
    ProviderFactory,
    WebhookDeliveryFactory,
    api_token,
)
from tests.factories.engagements import (
    ProviderDelivery,
    provider_delivery,
    signed_contract_with_proposal,
    submitted_outcome,
)
from tests.factories.reporting import stored_qbr

# Hypothesis' per-example deadline is a wall-clock assertion: it failed a chart test at 257 ms when other work
# loaded the machine. Speed is measured in bench/, never asserted in the suite (DEVELOPERS.md).
hypothesis_settings.register_profile("mls", deadline=None)
hypothesis_settings.load_profile("mls")


@pytest.fixture(autouse=True)
def _default_language_afterwards() -> Iterator[None]:
    """LocaleMiddleware (or a test) activates a language for the thread and nothing resets it: a German request
    would leave every later test of the process in German."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def pytest_configure(config: pytest.Config) -> None:
    """Each xdist worker talks to Redis db REDIS_URL's + its number (gw0 REDIS_URL's own, gw1 the next): a worker
    test's broker keys and results never meet another process's, and worker subprocesses inherit the same URL."""
    worker, url = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("REDIS_URL")
    if not (worker and url):
        return
    base, _, db = url.rstrip("/").rpartition("/")
    if not db.isdigit():  # redis://host:port without a db number means db 0
        base, db = url.rstrip("/"), "0"
    os.environ["REDIS_URL"] = f"{base}/{int(db) + int(worker.removeprefix('gw'))}"
    celery_app.conf.broker_url = celery_app.conf.result_backend = os.environ["REDIS_URL"]


@pytest.fixture
def worker_queue(worker_id: str) -> Iterator[str]:
    """A Celery queue of this test's own (named after the xdist worker) that tasks go to by default while it
    lasts, on this worker's Redis db; removed afterwards with its binding, so a run leaves no queue behind."""
    assert celery_app.conf.broker_url.startswith("redis://"), "this test needs REDIS_URL (a real broker)"
    name = f"tests-{worker_id}-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue, celery_app.conf.task_always_eager
    # Celery builds its table of queues once, on first use, around the default queue of that moment: build it with
    # the usual default first, so later tests' workers are not left on this test's queue.
    assert previous[0] in celery_app.amqp.queues
    celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = name, False
    try:
        yield name
    finally:
        celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = previous
        # The queue's list and kombu's binding sets for the exchange of the same name (kombu ≥ 5.6 keeps both
        # `_kombu.binding.<name>` and `_kombu.binding_permanent.<name>`).
        broker = redis.Redis.from_url(celery_app.conf.broker_url)
        broker.delete(name, *broker.scan_iter(f"_kombu.binding*.{name}"))
        # What the test's worker left on this xdist worker's own db: its tasks' results and its control
        # (pidbox) bindings. A run leaves the db as it found it, so two runs in a row start alike.
        leftovers = [*broker.scan_iter("celery-task-meta-*"), *broker.scan_iter("_kombu.binding*pidbox*")]
        broker.delete("_kombu.binding_deadlines", *leftovers)


def in_process_worker(queue: str) -> AbstractContextManager:
    """A Celery worker thread on `queue` only (from `worker_queue`), started once it answers a ping."""
    celery_app.loader.import_module("celery.contrib.testing.tasks")  # the worker's ping task
    return start_worker(celery_app, pool="solo", perform_ping_check=True, shutdown_timeout=10, queues=[queue])


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    """The suite's contract is PostgreSQL (constraints, triggers); SQLite is only the zero-config run path."""
    if "django_db_setup" in request.fixturenames and connection.vendor != "postgresql":
        pytest.fail("The test suite runs on PostgreSQL: use scripts/test or set DATABASE_URL=postgres://...")


def _settings_for_tests(media_root: Path, cache_location: str) -> dict[str, object]:
    """What every test runs under, and so every fixture that writes data, whatever its scope."""
    return {
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Uploads (SLA evidence) go to a temporary directory, never into the checkout's media/.
        "MEDIA_ROOT": media_root,
        # A fresh cache per test: allauth's rate limits must not carry over between tests or runs.
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": cache_location}},
    }


@pytest.fixture(autouse=True)
def _test_settings(settings, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name, value in _settings_for_tests(tmp_path_factory.getbasetemp() / "media", request.node.nodeid).items():
        setattr(settings, name, value)


@contextmanager
def _tasks_run_inline() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    """Unit and view tests run tasks inline; the real-worker tests switch this off for themselves."""
    with _tasks_run_inline():
        yield


Built = TypeVar("Built")


@pytest.fixture(scope="module")
def build_once(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Callable[[], Built]], Built]]:
    """`build_once(make)` in a module-scoped fixture: `make()` writes its rows once for the whole module, inside a
    transaction around the module's tests that is rolled back at the module's end (nothing is committed, so other
    modules and --reuse-db runs never see them). Each `db` test runs in a savepoint inside it, so what a test writes
    is rolled back after it; hand a test `copy.deepcopy` of what `make()` returned (as Django's TestData does), so
    that what it changes in memory does not reach the next test either.

    For building the same expensive data for hundreds of tests (the access matrices). Not for modules with
    `transactional_db` tests: those would truncate the tables under the open transaction."""
    # Django's class-level transaction, the one `TestCase.setUpTestData` writes in, opened for this module.
    module_transaction = type("ModuleTransaction", (TestCase,), {})
    with django_db_blocker.unblock():
        module_transaction.setUpClass()

    def build(make: Callable[[], Built]) -> Built:
        settings = _settings_for_tests(tmp_path_factory.getbasetemp() / "media", request.node.nodeid)
        with django_db_blocker.unblock(), override_settings(**settings), _tasks_run_inline():
            return make()

    yield build
    with django_db_blocker.unblock():
        module_transaction.tearDownClass()
        module_transaction.doClassCleanups()


@dataclass
class SecondProvider:
    provider: Provider
    manager: Membership
    delivery: ProviderDelivery


class Tenant:
    """One client organization with a member of every role, built the same way for A and B."""

    def __init__(self, name: str, slug: str) -> None:
        self.organization = OrganizationFactory(name=name, slug=slug)
        self.provider = ProviderFactory(organization=self.organization, name="Northwind Learning")
        self.members = {
            role: MembershipFactory(
                organization=self.organization,
                role=role,
                provider=self.provider if role == Role.PROVIDER_MANAGER else None,
            )
            for role in Role.values
        }

    def user(self, role: str):
        return self.members[role].user

    def scope(self):
        return organization_scope(self.organization)

    def with_route_objects(self) -> "Tenant":
        """One of every object the organization's routes name (tests/url_matrix.py builds URLs from them)."""
        self.invitation = InvitationFactory(organization=self.organization)
        self.webhook_delivery = WebhookDeliveryFactory(organization=self.organization)
        api_token(self)
        with self.scope():
            self.api_token = ApiToken.objects.get()
        self.contract = signed_contract_with_proposal(self)
        self.outcome = submitted_outcome(self)
        return self

    def with_second_provider(self) -> "Tenant":
        """A second provider (Southwind) with its own account manager and delivery (`other.delivery`): what the
        first provider's manager, `members[PROVIDER_MANAGER]`, must neither read nor write."""
        provider = ProviderFactory(organization=self.organization, name="Southwind Training")
        manager = MembershipFactory(organization=self.organization, role=Role.PROVIDER_MANAGER, provider=provider)
        self.other = SecondProvider(provider, manager, provider_delivery(self, manager))
        return self

    @cached_property
    def qbr(self):
        """A stored QBR revision of the access tests' contract (`contract` is set by those tests)."""
        with self.scope():
            return stored_qbr(self.contract.engagement)


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant("Acme Corp", "acme")


@pytest.fixture
def tenant_b(db) -> Tenant:
    # Same names as A on purpose: a leak would be indistinguishable by name, so tests compare ids.
    return Tenant("Acme Corp", "acme-2")
