"""Section 1 of bench_pipeline.py: the loader against psql \\copy and the seed's way, at several sizes.

Reuses bench_load.py's pieces (object writer, loader run with peak RSS, psql \\copy reference,
the seed's DbApiHook.insert_rows) on one private stack. Per size: one orders object in the lake;
`--repeats` loader runs, each followed by a psql \\copy of the same file from local disk
(interleaved, because the shared machine's load drifts); medians. The seed's way runs once on a
small slice in a child process (its own peak RSS) and serves as the rows/s reference for all sizes:
at a few thousand rows/s it would take hours on 5M rows.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_load
import psutil

from customer360.contract import ORDERS
from harness.stack import stack
from harness.stack.isolated import make_state_dir, remove_state_dir, stack_env, start_isolated_stack
from harness.stack.s3 import client

BENCH_DIR = Path(__file__).resolve().parent
_SEED_CHILD = """
import json, resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import bench_load
from harness.settings import get_harness_settings
rate = bench_load.seed_way(get_harness_settings(), Path(sys.argv[1]), int(sys.argv[2]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows_per_s": rate, "peak_rss_mib": peak}))
"""


class ChildrenPeakRss:
    """Samples the summed RSS of this process's children named `name` while the block runs.

    By name, because the embedded servers may be children of this process too.
    """

    def __init__(self, name: str, interval: float = 0.01) -> None:
        self.name = name
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    if child.name() == self.name:
                        total += child.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> ChildrenPeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mib(self) -> float:
        return self.peak / 2**20


def _replace_object(s3: Any, bucket: str, key: str, path: Path) -> None:
    """Leave exactly one orders object in the lake, so each loader run loads just that one."""
    for old in s3.list_objects_v2(Bucket=bucket, Prefix=ORDERS.prefix).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=old["Key"])
    s3.upload_file(str(path), bucket, key)


def _seed_way(env: dict[str, str], path: Path, rows: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _SEED_CHILD, str(path), str(rows), str(BENCH_DIR)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"seed's way failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(sizes: list[int], repeats: int, seed_rows: int) -> dict[str, Any]:
    """Figures of every size and of the seed's way, as a dict (written to the JSON as is)."""
    state_dir = make_state_dir("c360-bench-pipeline-load-")
    results: dict[str, Any] = {
        "repeats": repeats,
        "seed_rows": seed_rows,
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "loadavg_start": os.getloadavg(),
    }
    settings = None
    try:
        settings = start_isolated_stack(state_dir)
        env = dict(os.environ, **stack_env(settings))
        s3 = client(settings)
        rows_out = []
        with tempfile.TemporaryDirectory(prefix="c360-bench-load-") as tmp:
            for day, rows in enumerate(sizes, start=1):
                path = Path(tmp) / f"orders-{rows}.csv"
                bench_load.write_orders(path, rows)
                key = ORDERS.object_key(f"2026-11-{day:02d}", "0001")
                _replace_object(s3, settings.s3_bucket, key, path)
                loader_runs, psql_runs = [], []
                for _ in range(repeats):
                    bench_load.forget_orders(settings)
                    wall, rss = bench_load.run_loader(env)
                    seconds, loaded, rejected = bench_load.object_seconds(settings, key)
                    loader_runs.append({"object_s": seconds, "wall_s": wall, "peak_rss_mib": rss})
                    with ChildrenPeakRss("psql") as peak:
                        psql_s = bench_load.psql_copy(settings, path)
                    psql_runs.append({"seconds": psql_s, "peak_rss_mib": peak.mib})
                loader_s = statistics.median(r["object_s"] for r in loader_runs)
                wall_s = statistics.median(r["wall_s"] for r in loader_runs)
                psql_s = statistics.median(r["seconds"] for r in psql_runs)
                rows_out.append(
                    {
                        "rows": rows,
                        "mib": path.stat().st_size / 2**20,
                        "loaded": loaded,
                        "rejected": rejected,
                        "loader_object_s": loader_s,
                        "loader_wall_s": wall_s,
                        "loader_rows_per_s": rows / loader_s,
                        "loader_wall_rows_per_s": rows / wall_s,
                        "loader_peak_rss_mib": max(r["peak_rss_mib"] for r in loader_runs),
                        "psql_s": psql_s,
                        "psql_rows_per_s": rows / psql_s,
                        "psql_peak_rss_mib": max(r["peak_rss_mib"] for r in psql_runs),
                        "ratio_psql": psql_s / loader_s,
                        "ratio_psql_wall": psql_s / wall_s,
                        "runs": {"loader": loader_runs, "psql": psql_runs},
                        "loadavg": os.getloadavg(),
                    }
                )
                print(
                    f"  load {rows:,} rows: loader {rows / loader_s:,.0f} rows/s, psql {rows / psql_s:,.0f}"
                    f" rows/s, ratio {psql_s / loader_s:.2f}",
                    flush=True,
                )
                if day == 1:  # the seed's way on a slice of the smallest object
                    results["seed"] = _seed_way(env, path, min(seed_rows, rows))
                path.unlink()
        for row in rows_out:
            row["ratio_seed"] = row["loader_rows_per_s"] / results["seed"]["rows_per_s"]
        results["sizes"] = rows_out
        results["loadavg_end"] = os.getloadavg()
        return results
    finally:
        if settings is not None:
            stack.down(settings)
        remove_state_dir(state_dir)
