"""Time the stack's lifecycle: cold `up` (initdb + first start), warm `up` (reuse), `down`, restart.

Runs a throw-away stack (own state dir, free ports), so it never touches a running demo stack:

    .venv/bin/python -m harness.stack.bench [--rounds N]

Prints figures only; no thresholds (timings depend on the machine and its load).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from harness.stack import postgres, s3, stack
from harness.stack.isolated import isolated_settings, make_state_dir, remove_state_dir


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each on a new state dir")
    args = parser.parse_args()

    figures: dict[str, list[float]] = {
        name: []
        for name in (
            "cold up",
            "warm up",
            "status",
            "down",
            "  down: s3",
            "  down: postgres",
            "restart (existing data)",
        )
    }
    for _ in range(args.rounds):
        state_dir = make_state_dir("c360-bench-")
        settings = isolated_settings(state_dir)
        try:
            figures["cold up"].append(_timed(lambda settings=settings: stack.up(settings)))
            figures["warm up"].append(_timed(lambda settings=settings: stack.up(settings)))
            figures["status"].append(_timed(lambda settings=settings: stack.status(settings)))
            figures["down"].append(_timed(lambda settings=settings: stack.down(settings)))
            stack.up(settings)
            figures["  down: s3"].append(_timed(lambda settings=settings: s3.stop(settings)))
            figures["  down: postgres"].append(_timed(lambda settings=settings: postgres.stop(settings)))
            figures["restart (existing data)"].append(_timed(lambda settings=settings: stack.up(settings)))
        finally:
            stack.down(settings)
            remove_state_dir(state_dir)

    print(f"embedded stack lifecycle, {args.rounds} round(s), seconds (median / min / max)")
    for name, values in figures.items():
        print(f"  {name:<32} {statistics.median(values):6.2f} {min(values):6.2f} {max(values):6.2f}")


if __name__ == "__main__":
    main()
