"""Benchmark: a bounded load run against a real gunicorn on loopback (issue 18): the dashboard and an API list.

    .venv/bin/python bench/load.py [--seconds 60] [--concurrency 20] [--workers 3] [--redis-down]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/mls_bench_load, created, migrated and seeded with the
demo tenant (`seed_demo`: a year of delivery for the Acme engagement) if missing, and kept. REDIS_URL (default
redis://127.0.0.1:6379/0) is the server's cache and broker; `--redis-down` points both at a closed port instead,
to measure degraded service (the cache in process memory, the delayed-work banner on the dashboard).

The server runs as docker-compose runs it (`gunicorn mls.wsgi:application`, sync workers, DEBUG off, static files
collected into staticfiles/ when they changed), on 127.0.0.1 with a free port, except that the API throttle's rate
is raised so that every call is counted but none refused. `concurrency` client threads each send, for `seconds`,
the director's dashboard (a session) and a page of 100 learners (`/api/v1/learners/`, a read token) in turn, each
request on a new connection with a 10 s timeout; anything but a 200 is an error. Printed: requests, throughput,
p50/p95/p99 and errors per request, and the p50 of the same requests sent one at a time before the load (the
floor: what queueing on 2 CPUs adds is the ratio). The load generator shares the machine's CPUs with the server.
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import report
import setup

BENCH_SECRET_KEY = "bench-only-load-secret-key-never-used-in-production-0123456789"  # noqa: S105 - bench only
setup.django("mls_bench_load", SECRET_KEY=BENCH_SECRET_KEY, CELERY_TASK_ALWAYS_EAGER="true")

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from mls.enums import Role  # noqa: E402
from mls.models import Membership, Organization  # noqa: E402
from mls.services import create_api_token, revoke_api_token  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402

DIRECTOR = "director@demo.test"
OWNER = "owner@demo.test"
WARM_UP_SECONDS = 5
ALONE = 30  # requests of each kind sent one at a time: the floor
TIMEOUT = 10


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    headers: dict[str, str]


@dataclass
class Outcome:
    seconds: list[float] = field(default_factory=list)
    errors: int = 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def send(port: int, target: Target) -> tuple[float, bool]:
    """One request on a new connection: its seconds, and whether it answered 200."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", target.path, headers={"Host": "127.0.0.1", **target.headers})
        response = connection.getresponse()
        response.read()
        ok = response.status == 200
    except OSError:
        ok = False
    finally:
        connection.close()
    return time.perf_counter() - started, ok


def load(port: int, targets: list[Target], seconds: float, concurrency: int) -> dict[str, Outcome]:
    """`concurrency` threads sending the targets in turn until `seconds` have passed."""
    outcomes = {target.name: Outcome() for target in targets}
    deadline = time.perf_counter() + seconds
    counting = threading.Lock()

    def client(offset: int) -> None:
        n = offset
        while time.perf_counter() < deadline:
            target = targets[n % len(targets)]
            n += 1
            elapsed, ok = send(port, target)
            with counting:
                outcomes[target.name].seconds.append(elapsed)
                outcomes[target.name].errors += not ok

    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def wait_for_server(port: int, server: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        if send(port, Target("login", "/accounts/login/", {}))[1]:
            return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {seconds} s")


def static_collected() -> bool:
    """Whether staticfiles/ is newer than our static files and the locked dependencies (whose packages ship the
    rest): collecting and compressing takes minutes on this machine, so it is done again only then."""
    manifest = setup.ROOT / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return False
    sources = [setup.ROOT / "uv.lock", *(setup.ROOT / "static").rglob("*")]
    return manifest.stat().st_mtime > max(source.stat().st_mtime for source in sources)


def start_server(port: int, workers: int, redis_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,  # the sessions made here are signed with it
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "API_THROTTLE_RATE": "100000000/hour",  # counted on every call, never refused
        "LOG_LEVEL": "WARNING",
    }
    if not static_collected():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=setup.ROOT,
            env=env,
            check=True,
        )
    command = [sys.executable, "-m", "gunicorn", "mls.wsgi:application", f"--bind=127.0.0.1:{port}"]
    command += [f"--workers={workers}", "--log-level=warning"]
    return subprocess.Popen(command, cwd=setup.ROOT, env=env)  # noqa: S603 - our argv


def percentile(seconds: list[float], p: int) -> float:
    return statistics.quantiles(seconds, n=100, method="inclusive")[p - 1]


def ms(seconds: list[float], p: int) -> str:
    return f"{percentile(seconds, p) * 1000:.1f}"


def demo_tenant() -> tuple[Organization, Membership, Membership]:
    call_command("migrate", verbosity=0)
    if not Organization.objects.filter(slug="acme").exists():
        call_command("seed_demo")
    organization = Organization.objects.get(slug="acme")
    with organization_scope(organization):
        members = Membership.objects.select_related("organization", "user")
        return organization, members.get(user__email=DIRECTOR), members.get(user__email=OWNER, role=Role.OWNER)


def main(seconds: float, concurrency: int, workers: int, redis_down: bool) -> None:
    organization, director, owner = demo_tenant()
    session = Client()
    session.force_login(director.user)
    with organization_scope(organization):
        token, raw = create_api_token(membership=owner, name="load bench", scope="read")
    targets = [
        Target("dashboard", f"/o/{organization.slug}/", {"Cookie": f"sessionid={session.cookies['sessionid'].value}"}),
        Target("API list", "/api/v1/learners/?page_size=100", {"Authorization": f"Token {raw}"}),
    ]
    redis_url = (
        f"redis://127.0.0.1:{free_port()}/0" if redis_down else os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    port = free_port()
    server = start_server(port, workers, redis_url)
    try:
        wait_for_server(port, server, 120)
        load(port, targets, WARM_UP_SECONDS, concurrency)  # every worker has loaded its URLconf, templates, pools
        alone = {t.name: statistics.median(send(port, t)[0] for _ in range(ALONE)) for t in targets}
        outcomes = load(port, targets, seconds, concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
        with organization_scope(organization):
            revoke_api_token(token=token, membership=owner)
    mode = "Redis at a closed port (degraded)" if redis_down else f"Redis at {redis_url}"
    print(f"gunicorn, {workers} sync workers; {concurrency} clients for {seconds:.0f} s; {mode}")
    print("| request | requests | per second | p50 ms | p95 ms | p99 ms | errors | alone p50 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, outcome in outcomes.items():
        taken = outcome.seconds
        print(
            f"| {name} | {len(taken)} | {len(taken) / seconds:.1f} | {ms(taken, 50)} | {ms(taken, 95)} | "
            f"{ms(taken, 99)} | {outcome.errors} | {alone[name] * 1000:.1f} |"
        )
        report.ratio(
            f"{name} p50 under {concurrency} concurrent clients{' (Redis down)' if redis_down else ''}",
            percentile(outcome.seconds, 50),
            alone[name],
            floor="the same request alone (p50)",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (docker-compose runs 3)")
    parser.add_argument("--redis-down", action="store_true", help="cache and broker at a closed port")
    arguments = parser.parse_args()
    main(arguments.seconds, arguments.concurrency, arguments.workers, arguments.redis_down)
