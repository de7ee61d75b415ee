"""Benchmark of the generator: rows per second and peak memory at growing user counts.

Each size runs in a fresh child process (one thread, so one core; peak RSS is that run's own),
writing to a temporary folder that is deleted afterwards. Flat peak RSS across sizes is the
streaming check: memory must not grow with the number of rows.

    .venv/bin/python bench/bench_datagen.py                      # 100k and 1M users, day 0
    .venv/bin/python bench/bench_datagen.py --users 10000 100000 300000 --days 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = """
import json, resource, sys, time
from pathlib import Path
from datagen.config import GeneratorConfig
from datagen.generate import generate
from datagen.pools import pools_for
from datagen.sinks import LocalTarget

users, days, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
config = GeneratorConfig(users=users)
started, cpu_started = time.perf_counter(), time.process_time()
pools_for(config.seed)
pools_s, pools_cpu = time.perf_counter() - started, time.process_time() - cpu_started
objects = list(generate(config, range(days), LocalTarget(out)))
total_s, total_cpu = time.perf_counter() - started, time.process_time() - cpu_started
print(json.dumps({
    "users": users,
    "days": days,
    "rows": sum(o.data_rows for o in objects),
    "bytes": sum(o.bytes for o in objects),
    "pools_s": pools_s,
    "total_s": total_s,
    "pools_cpu": pools_cpu,
    "total_cpu": total_cpu,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run(users: int, days: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-datagen-") as out:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(users), str(days), out],
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()
    columns = ("users", "days", "rows", "MiB", "wall s", "CPU s", "rows/s wall", "rows/CPU-s", "peak RSS MiB")
    widths = (10, 4, 10, 6, 7, 7, 11, 10, 12)
    print(" ".join(f"{name:>{width}}" for name, width in zip(columns, widths, strict=True)))
    for users in args.users:
        r = run(users, args.days)
        cells = (
            f"{r['users']:,}",
            r["days"],
            f"{r['rows']:,}",
            f"{r['bytes'] / 2**20:.0f}",
            f"{r['total_s']:.1f}",
            f"{r['total_cpu']:.1f}",
            f"{r['rows'] / (r['total_s'] - r['pools_s']):,.0f}",
            f"{r['rows'] / (r['total_cpu'] - r['pools_cpu']):,.0f}",
            f"{r['peak_rss_mib']:.0f}",
        )
        print(" ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True)), flush=True)
    print("Rates exclude the one-off Faker pool build (about 1 s); wall/CPU seconds include it.")
    print("rows/CPU-s is the single-core speed; rows/s wall also reflects whatever else the machine runs.")


if __name__ == "__main__":
    main()
