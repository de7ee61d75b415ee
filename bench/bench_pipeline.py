"""`make bench`: the platform's benchmarks, written into docs/benchmarks.md (tables + plots + JSON).

Measures, each on private embedded stacks (real PostgreSQL + real S3, free ports, temp state):

1. load: the loader from S3 vs `psql \\copy` from local disk vs the seed's `insert_rows`, on orders
   objects of several sizes, with peak RSS (bench/load_compare.py, built on bench/bench_load.py);
2. scale curve: generate, load, dbt build (tests included), docs at several user counts;
3. incremental days: days 1 and 2 loaded and built, as a fraction of the full build; at the largest
   user count also days of 0.1x, 1x and 10x the usual volume (time against the day's size);
4. no-op rerun: every DAG step again with nothing new, and proof nothing changed;
5. pod overhead on paper, from docs/images.md and the figures above (bench/pod_overhead.py).

Prints progress and asserts nothing; the targets' status is part of the report.

    .venv/bin/python bench/bench_pipeline.py            # full run -> docs/benchmarks.md (~30-40 min)
    .venv/bin/python bench/bench_pipeline.py --quick    # small sizes -> .state/bench/ (a few minutes)
    .venv/bin/python bench/bench_pipeline.py --from-json docs/benchmarks/pipeline.json  # re-render only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

import bench_report  # noqa: E402
import load_compare  # noqa: E402
import pod_overhead  # noqa: E402
import scale_curve  # noqa: E402

FULL = {
    "load_sizes": [100_000, 1_000_000, 5_000_000],
    "users": [10_000, 100_000, 1_000_000],
    "repeats": 3,
    "day_volumes": [0.1, 1.0, 10.0],
}
QUICK = {"load_sizes": [20_000, 100_000], "users": [2_000], "repeats": 1, "day_volumes": []}
FULL_SEED_ROWS, QUICK_SEED_ROWS = 50_000, 5_000


def machine() -> tuple[str, str]:
    """(long, short) description: cores, memory, CPU model, OS."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count()
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"{cores} cores ({model}), {mem:.0f} GiB RAM, Linux {platform.release()}",
        f"{cores} cores, {mem:.0f} GiB",
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one repeat; writes to .state/bench/"
    )
    parser.add_argument("--load-sizes", type=int, nargs="+", help="orders rows per object (section 1)")
    parser.add_argument("--users", type=int, nargs="+", help="user counts of the scale curve (sections 2-4)")
    parser.add_argument("--repeats", type=int, help="loader/psql runs per size (medians)")
    parser.add_argument(
        "--day-volumes",
        type=float,
        nargs="*",
        help="daily volumes of the time-against-day-size days, at the largest user count (section 3b)",
    )
    parser.add_argument("--seed-rows", type=int, help="rows of the seed's insert_rows slice")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument("--skip-load", action="store_true", help="skip section 1 (keep the last run's)")
    parser.add_argument("--skip-scale", action="store_true", help="skip sections 2-4")
    parser.add_argument("--out", type=Path, help="markdown file to write (default docs/benchmarks.md)")
    parser.add_argument(
        "--from-json", type=Path, help="re-render the report from saved results; measure nothing"
    )
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    args.load_sizes = args.load_sizes or preset["load_sizes"]
    args.users = args.users or preset["users"]
    args.repeats = args.repeats or preset["repeats"]
    args.day_volumes = preset["day_volumes"] if args.day_volumes is None else args.day_volumes
    args.seed_rows = args.seed_rows or (QUICK_SEED_ROWS if args.quick else FULL_SEED_ROWS)
    default_out = (
        ROOT / ".state" / "bench" / "benchmarks.md" if args.quick else ROOT / "docs" / "benchmarks.md"
    )
    args.out = (args.out or default_out).resolve()
    return args


def outputs(doc: Path) -> dict[str, Path]:
    """Where the JSON and plots go: `<doc dir>/benchmarks/` next to the markdown."""
    folder = doc.parent / doc.stem
    return {
        "json": folder / "pipeline.json",
        "scale": folder / "scale.png",
        "load": folder / "load.png",
        "day_size": folder / "day-size.png",
    }


def write_report(results: dict[str, Any], doc: Path) -> None:
    paths = outputs(doc)
    pngs: dict[str, str] = {}
    if results.get("load"):
        bench_report.plot_load(results, paths["load"])
        pngs["load"] = paths["load"].relative_to(doc.parent).as_posix()
    if results.get("scale"):
        bench_report.plot_scale(results, paths["scale"])
        pngs["scale"] = paths["scale"].relative_to(doc.parent).as_posix()
        if bench_report.plot_day_size(results, paths["day_size"]):
            pngs["day_size"] = paths["day_size"].relative_to(doc.parent).as_posix()
    bench_report.write_doc(doc, bench_report.render(results, pngs))


def save(results: dict[str, Any], doc: Path) -> None:
    """Raw results after every section, so a late failure keeps what was measured."""
    path = outputs(doc)["json"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def reused_load(previous: dict[str, Any]) -> dict[str, Any]:
    """Section 1 of an earlier run's results, stamped with when and where it was measured.

    The stamp travels with the section: the run that reuses it may be reused in turn, and a run
    cut short has saved its own meta next to the section before it ended.
    """
    load = dict(previous["load"])
    meta = previous["meta"]
    load.setdefault("measured_at", f"{meta['date']} {meta['time']}")
    load.setdefault("date", load["measured_at"][:10])
    load.setdefault("machine", meta["machine"])
    return load


def measure(args: argparse.Namespace, argv: list[str] | None) -> dict[str, Any]:
    began = time.monotonic()
    now = datetime.now(UTC)
    long_name, short_name = machine()
    results: dict[str, Any] = {
        "meta": {
            "date": f"{now:%Y-%m-%d}",
            "time": f"{now:%H:%M}",
            "machine": long_name,
            "machine_short": short_name,
            "command": "bench/bench_pipeline.py " + shlex.join(sys.argv[1:] if argv is None else argv),
            "mode": "quick" if args.quick else "full",
            "loadavg_start": [round(x, 1) for x in os.getloadavg()],
            "parameters": {
                "load_sizes": args.load_sizes,
                "users": args.users,
                "repeats": args.repeats,
                "seed_rows": args.seed_rows,
                "seed": args.seed,
                "day_volumes": args.day_volumes,
            },
        }
    }
    log_dir = args.out.parent / "bench-logs" if args.quick else ROOT / ".state" / "bench" / "logs"
    previous = outputs(args.out)["json"]
    if args.skip_load and previous.exists() and "load" in json.loads(previous.read_text()):
        # Keep section 1 of the last run, so one section can be remeasured on its own.
        results["load"] = reused_load(json.loads(previous.read_text()))
        load = results["load"]
        when, where = load["measured_at"], load["machine"]
        results["meta"]["reused"] = f"section 1 (load), measured {when} UTC on {where}"
    if not args.skip_load:
        print(f"[1] load: orders objects of {', '.join(f'{n:,}' for n in args.load_sizes)} rows", flush=True)
        results["load"] = load_compare.run(args.load_sizes, args.repeats, args.seed_rows)
        meta = results["meta"]
        results["load"].update(
            date=meta["date"], measured_at=f"{meta['date']} {meta['time']}", machine=meta["machine"]
        )
        save(results, args.out)
    if not args.skip_scale:
        results["scale"] = []
        for users in args.users:
            print(f"[2-4] pipeline at {users:,} users (step logs in {log_dir})", flush=True)
            volumes = args.day_volumes if users == max(args.users) else []
            results["scale"].append(scale_curve.run_size(users, args.seed, log_dir, volumes))
            save(results, args.out)
    results["pods"] = pod_overhead.estimate(ROOT / "docs" / "images.md", results.get("scale"))
    results["meta"]["loadavg_end"] = [round(x, 1) for x in os.getloadavg()]
    results["meta"]["duration_min"] = (time.monotonic() - began) / 60
    save(results, args.out)
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        # Section 5 is arithmetic over docs/images.md: recompute it from the current page.
        results["pods"] = pod_overhead.estimate(ROOT / "docs" / "images.md", results.get("scale"))
        save(results, args.out)  # the JSON next to the page says what the page says
    else:
        results = measure(args, argv)
    write_report(results, args.out)
    print(f"wrote {args.out} and {outputs(args.out)['json'].parent}/", flush=True)
    for target, measured, met in bench_report.targets(results):
        print(f"  {'met   ' if met else 'MISSED'} {target}: {measured}")


if __name__ == "__main__":
    main()
