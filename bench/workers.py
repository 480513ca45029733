"""Benchmark: SLA recompute of several engagements by real Celery worker processes, 1 process vs 2.

Run: .venv/bin/python bench/workers.py [enrollments per engagement] [engagements]
On the bench database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/mls_bench) and Redis (REDIS_URL,
default redis://127.0.0.1:6379/5). The engagements (one organization each, built like bench/slas.py's tenant) are
kept between runs. Each measurement starts a worker with 1 or 2 processes on a queue of its own, waits until it
answers a ping, then times from enqueueing one `recompute_engagement_slas_task` per engagement to the last
result (best of 3 batches). The ratio is 2 processes' time over 1 process's: 0.5× would be perfect scaling.
"""

import importlib.util
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import report

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # `slas` is the app; the SLA benchmark is loaded by path as `sla_bench`
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
_spec = importlib.util.spec_from_file_location("sla_bench", BENCH / "slas.py")
sla_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sla_bench)  # sets up Django on the bench database

from mls.celery import app  # noqa: E402
from mls.models import Organization  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402
from slas.tasks import recompute_engagement_slas_task  # noqa: E402


def engagements(per_engagement: int, count: int) -> list[tuple[int, int]]:
    """(organization id, engagement id) of `count` bench tenants, built once."""
    found = []
    for index in range(count):
        slug = f"workers-bench-{per_engagement}-{index}"
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            print(f"Building {slug} ({per_engagement:,} enrollments) …", flush=True)
            with sla_bench.transaction.atomic():
                engagement = sla_bench.build(per_engagement, slug=slug)
            found.append((engagement.organization_id, engagement.pk))
            continue
        with organization_scope(organization):
            found.append((organization.pk, sla_bench.Engagement.objects.get().pk))
    with sla_bench.connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return found


def timed_recompute(processes: int, targets: list[tuple[int, int]], runs: int = 3) -> float:
    """The best of `runs` batches on one worker (its processes and their connections warm after the first)."""
    queue = f"bench-workers-{uuid.uuid4().hex[:8]}"
    name = f"{queue}@%h"
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "mls", "worker", f"--concurrency={processes}", "--pool=prefork",
         f"--queues={queue}", f"--hostname={name}", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
         "--prefetch-multiplier=1", "-O", "fair"],
        cwd=ROOT, env={**os.environ, "CELERY_TASK_DEFAULT_QUEUE": queue},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name.replace("%h", os.uname().nodename)], timeout=1):
            if time.monotonic() > deadline:
                raise SystemExit("the bench worker did not start")
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            results = [
                recompute_engagement_slas_task.apply_async(
                    kwargs={"organization_id": organization_id, "engagement_id": engagement_id}, queue=queue
                )
                for organization_id, engagement_id in targets
            ]
            for result in results:
                result.get(timeout=600)
            timings.append(time.perf_counter() - started)
        return min(timings)
    finally:
        worker.terminate()
        worker.wait(60)


def main() -> None:
    per_engagement = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    sla_bench.call_command("migrate", verbosity=0)
    targets = engagements(per_engagement, count)
    one = timed_recompute(1, targets)
    two = timed_recompute(2, targets)
    print(f"| recompute {count} engagements × {per_engagement:,} enrollments | seconds | ratio to 1 process |")
    print("|---|---|---|")
    print(f"| 1 worker process | {one:.2f} | 1.00× |")
    print(f"| 2 worker processes | {two:.2f} | {two / one:.2f}× |")
    report.ratio(
        f"SLA recompute, {count} engagements, 2 worker processes",
        two,
        one,
        floor="the same work on 1 worker process",
        target=f"0.5× is perfect scaling ({os.cpu_count()} CPUs)",
    )


if __name__ == "__main__":
    main()
