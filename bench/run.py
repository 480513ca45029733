"""Run every benchmark on one generated tenant size and print one table of ratios (issue 9).

    bench/run [--scale small|full] [NAME ...]

NAMEs (a script without `.py`, e.g. `bench/run load`) run only those benchmarks; the table is then printed, not
written to a results file.

Each benchmark runs as its own process (they configure Django differently) on PostgreSQL (database
mls_bench_<scale>, built on first use and kept; BENCH_DATABASE_URL overrides it), against a floor measured
in the same run; the `@@ratio` lines they print (bench/report.py) become the table. `--scale full` (the default:
1,000,000 enrollments) writes the table and every benchmark's detailed output to bench/results.md; `small` writes
bench/results-small.md (not committed) and takes a few minutes.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from report import MARK

BENCH = Path(__file__).resolve().parent
SERVER = "postgres://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Benchmark:
    script: str
    args: dict[str, list[str]]  # per scale


BENCHMARKS = [
    Benchmark("slas.py", {"small": ["50000"], "full": ["1000000"]}),
    Benchmark("dashboard.py", {"small": ["50000"], "full": ["1000000"]}),
    Benchmark("imports.py", {"small": ["2000"], "full": ["10000"]}),
    Benchmark("red_flags.py", {"small": [], "full": []}),
    Benchmark("qbr.py", {"small": ["3"], "full": ["7"]}),
    Benchmark("exports.py", {"small": ["50000"], "full": ["200000"]}),
    Benchmark("api.py", {"small": ["50"], "full": ["200"]}),
    Benchmark("workers.py", {"small": ["20000", "4"], "full": ["250000", "4"]}),
    Benchmark("load.py", {"small": ["--seconds", "20"], "full": ["--seconds", "60"]}),
]


def run(benchmark: Benchmark, scale: str, log: list[str]) -> list[dict]:
    env = {**os.environ, "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"{SERVER}/mls_bench_{scale}")}
    env.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    command = [sys.executable, str(BENCH / benchmark.script), *benchmark.args[scale]]
    print(f"\n## {benchmark.script} {' '.join(benchmark.args[scale])}\n", flush=True)
    log.append(f"\n## `bench/{benchmark.script} {' '.join(benchmark.args[scale])}`\n")
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    ratios = []
    for line in process.stdout:
        if line.startswith(MARK):
            ratios.append(json.loads(line.removeprefix(MARK)))
            continue
        print(line, end="", flush=True)
        log.append(line.rstrip("\n"))
    if process.wait() != 0:
        raise SystemExit(f"bench/{benchmark.script} failed with exit code {process.returncode}")
    log.append(f"\n({time.perf_counter() - started:.0f} s)")
    return ratios


def table(ratios: list[dict]) -> list[str]:
    lines = ["| benchmark | seconds | floor | floor seconds | ratio | target |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {r['name']} | {r['seconds']:.3f} | {r['floor']} | {r['floor_seconds']:.3f} | **{r['ratio']:.2f}×** "
        f"| {r['target']} |"
        for r in ratios
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "full"], default="full")
    names = {benchmark.script.removesuffix(".py") for benchmark in BENCHMARKS}
    parser.add_argument("only", nargs="*", metavar="NAME", help=f"run only these: {', '.join(sorted(names))}")
    arguments = parser.parse_args()
    if unknown := set(arguments.only) - names:
        parser.error(f"no benchmark {', '.join(sorted(unknown))}")
    scale = arguments.scale
    chosen = [b for b in BENCHMARKS if not arguments.only or b.script.removesuffix(".py") in arguments.only]
    started = time.perf_counter()
    log: list[str] = []
    ratios = [ratio for benchmark in chosen for ratio in run(benchmark, scale, log)]
    summary = table(ratios)
    print("\n" + "\n".join(summary))
    elapsed = time.perf_counter() - started
    print(f"\n{len(ratios)} ratios in {elapsed:.0f} s")
    if arguments.only:
        return  # a partial table never replaces the results of a whole run
    target = BENCH / ("results.md" if scale == "full" else f"results-{scale}.md")
    header = [
        f"# Benchmark results ({scale} scale)",
        "",
        f"`bench/run --scale {scale}` on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, {elapsed:.0f} s in all. "
        "Ratios are against a floor measured in the same run on the same data.",
        "",
    ]
    target.write_text("\n".join([*header, *summary, "", "# Details", *log, ""]))
    print(f"Written to {target.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
