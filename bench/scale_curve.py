"""Sections 2-4 of bench_pipeline.py on one fresh stack per size: full build, one new day, no-op rerun.

For a user count N (orders and tickets follow from the generator, about 2.5 and 0.6 per user):

1. full build: generate day 0, load it (three loads in parallel), dbt freshness + build staging +
   snapshot + build marts (tests included), docs generate;
2. incremental days 1 and 2: before each, the load timestamps so far are moved a day back (in
   production a day lands a day after the previous one; see PipelineStack.age_loads); then the day
   (~1 % new and ~1 % updated users, their orders and tickets) is generated, loaded and built with
   the same dbt steps; its time as a fraction of the full build's;
3. no-op rerun: every DAG step again with nothing new in the lake; the warehouse state before and
   after (`_loads`, staging and marts row counts, a checksum of customer_360) must be equal;
4. day sizes (only when asked, `day_volumes`): one more day per volume X, generated with
   `--daily-volume X`, loaded and built like day 2: time against the day's size.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline_run import TRANSFORM_STEPS, PipelineStack, StageTimes

from customer360.tasks.steps import DBT_DOCS_GENERATE, ingest_steps

TRANSFORM_NAMES = tuple(step.name for step in TRANSFORM_STEPS)
# Day 1 is the first incremental run after the initial export, day 2 a steady-state day.
INCREMENTAL_DAYS = (1, 2)


def _rows_of(summary: Path) -> tuple[int, dict[str, int]]:
    doc = json.loads(summary.read_text())
    per_source = {name: totals["data_rows"] for name, totals in doc["sources"].items()}
    return sum(per_source.values()), per_source


def _pass(times: StageTimes, generate_s: float, rows: int) -> dict[str, Any]:
    """One pass's figures: stage seconds and rows/s (rows = the day's data rows, for every stage)."""
    load_s = times.steps["load"]
    transform_s = times.stage(TRANSFORM_NAMES)
    docs_s = times.steps.get(DBT_DOCS_GENERATE.name, 0.0)
    return {
        "rows": rows,
        "generate_s": generate_s,
        "load_s": load_s,
        "transform_s": transform_s,
        "docs_s": docs_s,
        "total_s": generate_s + load_s + transform_s + docs_s,
        "generate_rows_per_s": rows / generate_s if generate_s else None,
        "load_rows_per_s": rows / load_s,
        "transform_rows_per_s": rows / transform_s,
        "steps": dict(times.steps),
        "load_events": dict(times.load_events),
    }


def _day(
    run: PipelineStack, label: str, generate_s: float, summary: Path, full: dict[str, Any], rows0: int
) -> dict[str, Any]:
    """Load and build one generated day; its figures, also as fractions of the full build."""
    rows, per_source = _rows_of(summary)
    day = StageTimes()
    run.run_dag(label, day, docs=False)
    inc = _pass(day, generate_s, rows) | {"rows_per_source": per_source}
    inc["fraction_load"] = inc["load_s"] / full["load_s"]
    inc["fraction_transform"] = inc["transform_s"] / full["transform_s"]
    inc["fraction_load_transform"] = (inc["load_s"] + inc["transform_s"]) / (
        full["load_s"] + full["transform_s"]
    )
    inc["rows_fraction"] = rows / rows0
    return inc


def run_size(users: int, seed: int, log_dir: Path, day_volumes: list[float] | None = None) -> dict[str, Any]:
    """All passes for one user count on a fresh stack; returns the figures as a dict."""
    result: dict[str, Any] = {
        "users": users,
        "seed": seed,
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "loadavg_start": os.getloadavg(),
    }
    with (
        tempfile.TemporaryDirectory(prefix="c360-bench-summary-") as tmp,
        PipelineStack(f"{users}", log_dir) as run,
    ):
        result["dbt_parse_s"] = run.dbt_parse()

        summary0 = Path(tmp) / "day0.json"
        generate_s = run.generate(users, seed, 0, summary0)
        rows0, per_source0 = _rows_of(summary0)
        full = StageTimes()
        run.run_dag("full", full)
        result["full"] = _pass(full, generate_s, rows0) | {"rows_per_source": per_source0}
        result["full"]["state"] = run.state()
        result["dbt_nodes"] = run.dbt_nodes()
        print(f"  {users:,} users: full build done ({result['full']['total_s']:.0f}s)", flush=True)
        result["aged_loads_s"] = []
        result["incremental_days"] = []
        for day_k in INCREMENTAL_DAYS:
            # The previous days were loaded "a day earlier" (untimed; see PipelineStack.age_loads).
            result["aged_loads_s"].append(run.age_loads())
            summary = Path(tmp) / f"day{day_k}.json"
            generate_s = run.generate(users, seed, day_k, summary)
            inc = _day(run, f"day{day_k}", generate_s, summary, result["full"], rows0) | {"day": day_k}
            result["incremental_days"].append(inc)
            print(f"  {users:,} users: day {day_k} done ({inc['total_s']:.0f}s)", flush=True)
        # The target is about a steady-state day: the last one (the first incremental run after
        # the initial export re-reads that whole export, see docs/benchmarks.md).
        result["incremental"] = result["incremental_days"][-1]

        before = run.state()
        noop = StageTimes()
        started = time.monotonic()
        run.run_dag("noop", noop)
        total = time.monotonic() - started
        after = run.state()
        changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
        result["noop"] = {
            "total_s": total,
            "load_s": noop.steps["load"],
            "transform_s": noop.stage(TRANSFORM_NAMES),
            "docs_s": noop.steps.get(DBT_DOCS_GENERATE.name, 0.0),
            "steps": dict(noop.steps),
            "load_events": dict(noop.load_events),
            "ingest_steps": [step.name for step in ingest_steps()],
            "before": before,
            "after": after,
            "changed": changed,
            "unchanged": not changed and noop.load_events.get("loaded", 0) == 0,
        }
        print(f"  {users:,} users: no-op rerun done ({total:.0f}s, unchanged={not changed})", flush=True)
        result["day_sizes"] = []
        for offset, volume in enumerate(day_volumes or ()):
            day_k = INCREMENTAL_DAYS[-1] + 1 + offset
            run.age_loads()
            summary = Path(tmp) / f"day{day_k}-volume.json"
            generate_s = run.generate(users, seed, day_k, summary, daily_volume=volume)
            point = _day(run, f"day{day_k}-x{volume:g}", generate_s, summary, result["full"], rows0)
            result["day_sizes"].append(point | {"day": day_k, "daily_volume": volume})
            print(f"  {users:,} users: day {day_k} at {volume:g}x the volume done", flush=True)
    result["loadavg_end"] = os.getloadavg()
    return result
