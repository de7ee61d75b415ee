"""Benchmark of the dbt transformation: prints figures, asserts nothing (shared machines vary).

Starts a private embedded stack (real PostgreSQL + real S3, free ports, temp state dir),
generates day 0 for --users users into the lake, loads it with `c360-ingest`, and times the DAG's
dbt steps (full build: staging + tests, snapshot, marts + tests); then days 1 and 2 land and are
loaded, and the same steps run incrementally, then once more with nothing new (no-op); finally
`build --selector marts --full-refresh` for comparison. For every step it prints the wall time
of the `dbt` process (startup and parse included) and dbt's own execution time, plus the row
counts of the marts.

    .venv/bin/python bench/bench_dbt.py --users 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.settings import HarnessSettings  # noqa: E402
from harness.stack.isolated import isolated_stack, stack_env  # noqa: E402
from harness.stack.postgres import connect  # noqa: E402

BIN = Path(sys.executable).parent
DBT_STEPS = (
    ("staging", ("build", "--selector", "staging")),
    ("snapshot", ("snapshot", "--selector", "snapshots")),
    ("marts", ("build", "--selector", "marts")),
)
MARTS = ("dim_customers", "fct_orders", "fct_support_tickets", "customer_360", "customers_snapshot")


def run(argv: list[str], env: dict[str, str]) -> float:
    """Run a command; fail loudly with its output; return its wall seconds."""
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{(proc.stdout + proc.stderr)[-5000:]}")
    return time.monotonic() - started


def dbt_step(args: tuple[str, ...], env: dict[str, str], target: Path) -> tuple[float, float]:
    """(process wall seconds, dbt's own elapsed seconds) of one dbt command."""
    wall = run([str(BIN / "dbt"), *args], env)
    results = json.loads((target / "run_results.json").read_text())
    return wall, results["elapsed_time"]


def where_the_time_goes(target: Path) -> str:
    """The last dbt command's seconds in models vs tests (summed over threads), slowest nodes."""
    nodes = json.loads((target / "run_results.json").read_text())["results"]
    kind = {"model": 0.0, "test": 0.0, "other": 0.0}
    for node in nodes:
        prefix = node["unique_id"].split(".")[0]
        key = prefix if prefix in kind else ("test" if prefix == "unit_test" else "other")
        kind[key] += node["execution_time"]
    slowest = sorted(nodes, key=lambda n: -n["execution_time"])[:3]
    top = ", ".join(f"{n['unique_id'].split('.')[2]} {n['execution_time']:.1f}s" for n in slowest)
    return (
        f"models {kind['model']:.1f}s, tests {kind['test']:.1f}s, other {kind['other']:.1f}s; slowest: {top}"
    )


def land_day(day: int, args: argparse.Namespace, settings: HarnessSettings, env: dict[str, str]) -> None:
    generate = [str(BIN / "c360-datagen"), "generate", "--users", str(args.users), "--seed", str(args.seed)]
    generate += ["--day", str(day), "--target", f"s3://{settings.s3_bucket}/raw", *args.datagen_arg]
    seconds = run(generate, env)
    print(f"day {day}: generated in {seconds:.1f}s", flush=True)
    seconds = run([str(BIN / "c360-ingest"), "load", "--source", "all"], env)
    print(f"day {day}: loaded in {seconds:.1f}s", flush=True)


def transform(label: str, env: dict[str, str], target: Path, extra: tuple[str, ...] = ()) -> None:
    total_wall = total_dbt = 0.0
    for name, args in DBT_STEPS:
        wall, elapsed = dbt_step(args + (extra if name == "marts" else ()), env, target)
        total_wall, total_dbt = total_wall + wall, total_dbt + elapsed
        print(f"  {label:<12} {name:<9} wall {wall:7.1f}s   dbt {elapsed:7.1f}s", flush=True)
        print(f"  {'':<12} {'':<9} {where_the_time_goes(target)}", flush=True)
    print(f"  {label:<12} {'total':<9} wall {total_wall:7.1f}s   dbt {total_dbt:7.1f}s", flush=True)


def row_counts(settings: HarnessSettings) -> dict[str, int]:
    conn = connect(settings)
    try:
        with conn.cursor() as cur:
            counts = {}
            for table in MARTS:
                cur.execute(f"select count(*) from production.{table}")
                counts[table] = cur.fetchone()[0]
            return counts
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--datagen-arg", action="append", default=[], help="extra c360-datagen argument (repeatable)"
    )
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="c360-bench-dbt-target-") as tmp,
        isolated_stack("c360-bench-dbt-") as settings,
    ):
        work = Path(tmp)
        env = {
            **os.environ,
            **stack_env(settings),
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
        }
        print(f"users={args.users} seed={args.seed} cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
        land_day(0, args, settings, env)
        run([str(BIN / "dbt"), "parse"], env)  # parse once, so the steps below time partial parsing
        transform("full", env, work / "target")
        print(f"  rows after day 0: {row_counts(settings)}")
        for day in (1, 2):
            land_day(day, args, settings, env)
            transform(f"day {day}", env, work / "target")
            print(f"  rows after day {day}: {row_counts(settings)}")
        transform("no-op", env, work / "target")  # nothing new in staging
        wall, elapsed = dbt_step(("build", "--selector", "marts", "--full-refresh"), env, work / "target")
        print(f"  {'full-refresh':<12} {'marts':<9} wall {wall:7.1f}s   dbt {elapsed:7.1f}s")


if __name__ == "__main__":
    main()
