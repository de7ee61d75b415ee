"""``make demo``: the whole pipeline on this machine, from nothing to a printed Customer 360.

1. start the embedded PostgreSQL and S3 servers (reused when already running);
2. generate a small dataset into the lake (same arguments -> same bytes -> same ETags, so a second
   demo loads nothing twice);
3. migrate Airflow's metadata database (on the embedded PostgreSQL);
4. run ``customer360_elt`` once through Airflow (``airflow dags test``: the real DAG, the real
   operators, task states in the metadata DB);
5. print what was built, read back from the warehouse, dbt's run results and Airflow.

Exits non-zero when the DAG run failed. Run with ``python -m harness.demo`` (``--help``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from customer360.contract import LAKE_BUCKET, RAW_PREFIX
from customer360.tasks.local_process import dbt_target_dir, local_step_env, run_streaming
from customer360.tasks.steps import DEMO_DATASET, DatasetConfig
from harness.demo_report import build_report
from harness.embedded_airflow import cli as airflow_cli
from harness.embedded_airflow.env import AirflowPaths
from harness.settings import HarnessSettings, get_harness_settings
from harness.stack import stack
from harness.stack.errors import StackError

DAG_ID = "customer360_elt"
_TASK_EVENT = re.compile(r"\[DAG TEST\] (starting|end task) task_id=(\w+)")


class _Echo:
    """Logger-shaped printer: the generator's lines go to the terminal as they are, unformatted."""

    def info(self, message: str, *args: object) -> None:
        print(message % args if args else message, flush=True)

    warning = info


def _say(message: str) -> None:
    print(message, flush=True)


def generate_dataset(settings: HarnessSettings, dataset: DatasetConfig, summary: Path) -> None:
    """Write the demo dataset into the lake with the generator's CLI (the pipeline image's command)."""
    argv = [
        "c360-datagen",
        "generate",
        *dataset.generate_args(),
        "--days",
        str(dataset.days),
        "--target",
        f"s3://{LAKE_BUCKET}/{RAW_PREFIX}",
        "--summary",
        str(summary),
    ]
    run_streaming("generate", argv, env=local_step_env({}), cwd=Path.cwd(), log=_Echo())


def _progress(line: str) -> None:
    """Echo task starts and ends from ``airflow dags test``'s output; the rest goes to the log file."""
    match = _TASK_EVENT.search(line)
    if match:
        event, task_id = match.groups()
        _say(f"  {'start' if event == 'starting' else 'end  '} {task_id}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=DEMO_DATASET.users, help="users on day 0")
    parser.add_argument("--days", type=int, default=DEMO_DATASET.days, help="daily batches to generate")
    parser.add_argument("--seed", type=int, default=DEMO_DATASET.seed, help="generator seed (same bytes)")
    args = parser.parse_args(argv)
    dataset = DatasetConfig(
        users=args.users, days=args.days, seed=args.seed, start_date=DEMO_DATASET.start_date
    )

    settings = get_harness_settings()
    began = time.monotonic()
    started_at = datetime.now(UTC)
    logs_dir = settings.state_dir / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    run_log = logs_dir / f"demo-{started_at:%Y%m%dT%H%M%SZ}.log"

    _say("[1/5] embedded stack")
    try:
        report = stack.up(settings)
    except StackError as err:
        _say(f"error: {err}")
        return 2
    for name in report.started:
        _say(f"  started {name}")
    for name in report.reused:
        _say(f"  {name} already running, reused")

    _say(f"[2/5] dataset: {dataset.users:,} users, {dataset.days} days, seed {dataset.seed} -> lake")
    generate_dataset(settings, dataset, settings.state_dir / "demo" / "datagen-summary.json")

    _say("[3/5] Airflow metadata database")
    airflow_cli.migrate(settings, log_file=run_log)

    _say(f"[4/5] running DAG {DAG_ID} through Airflow (full output: {run_log})")
    code = airflow_cli.dags_test(settings, DAG_ID, log_file=run_log, on_line=_progress)

    _say("[5/5] report")
    _say(build_report(settings, DAG_ID, since=started_at))
    target = dbt_target_dir(local_step_env({}))
    _say("")
    _say(f"dbt docs site: {target / 'index.html'} (serve it on loopback: make docs-serve)")
    _say(f"dbt results per step: {target / 'run_results'}/<task>.json")
    _say(f"logs: this run, every task's output: {run_log}")
    _say(f"      runs scheduled by `make ui`: {AirflowPaths.of(settings).logs}/dag_id=*/run_id=*/task_id=*/")
    _say(f"      servers: {logs_dir}")
    _say("Airflow UI: make ui (stop with make ui-stop); stack: make status / make down; docs/operations.md")
    elapsed = time.monotonic() - began
    if code != 0:
        _say(f"DAG run FAILED after {elapsed:.0f}s (airflow exit code {code}); see {run_log}")
        return 1
    _say(f"demo finished in {elapsed:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
