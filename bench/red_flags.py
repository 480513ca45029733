"""Benchmark: contract red-flag review on maximum-size adversarial text, as a ratio against a regex floor.

Run: .venv/bin/python bench/red_flags.py
The floor is one pass of a trivial regex (`\\w+`) over the same text, measured in the same run, so the ratio says
how many plain scans the review costs, independent of the machine.
"""

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import report

from engagements.red_flags import MAX_CONTRACT_CHARS, review_contract

CASES = {
    "whitespace run": "best " + " " * (MAX_CONTRACT_CHARS - 20) + "efforts",
    "half matches": ("end - to - " * 50_000)[:MAX_CONTRACT_CHARS],
    "renewal noise": ("renews automatically 12 (12 " * 20_000)[:MAX_CONTRACT_CHARS],
    "metric noise": ("99.9 within sixty-" * 30_000)[:MAX_CONTRACT_CHARS],
}
WORD = re.compile(r"\w+")


def best_of(runs: int, work: object) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    print(f"| input ({MAX_CONTRACT_CHARS:,} chars) | review s | floor s | ratio |")
    print("|---|---|---|---|")
    for name, text in CASES.items():
        review = best_of(3, lambda text=text: review_contract(text))
        floor = best_of(3, lambda text=text: WORD.findall(text))
        print(f"| {name} | {review:.3f} | {floor:.4f} | {review / floor:.0f}× |")
        report.ratio(f"Red-flag review, 500k chars, {name}", review, floor, floor="one \\w+ regex pass")


if __name__ == "__main__":
    main()
