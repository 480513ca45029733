"""The one line each benchmark prints per headline figure, which `bench/run` gathers into its table of ratios.

A benchmark keeps printing its own detailed table; `ratio(...)` adds a machine-readable line next to it.
"""

import json

MARK = "@@ratio "


def ratio(name: str, seconds: float, floor_seconds: float, *, floor: str, target: str = "") -> None:
    """`seconds` of the measured work against `floor_seconds` of its floor (what `floor` says), run now."""
    print(
        MARK
        + json.dumps(
            {
                "name": name,
                "seconds": round(seconds, 4),
                "floor": floor,
                "floor_seconds": round(floor_seconds, 4),
                "ratio": round(seconds / floor_seconds, 2),
                "target": target,
            }
        ),
        flush=True,
    )
