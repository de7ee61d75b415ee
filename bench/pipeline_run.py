"""Run the DAG's steps on a private embedded stack and time them: the engine of bench_pipeline.py.

Every step is taken from the step catalogue (`customer360/tasks/steps.py`) and run by the local
runtime's own runner (`customer360.tasks.local_process`: same argv, same `task_env()`), so the
figures are those of `C360_TASK_RUNTIME=local` Airflow tasks minus Airflow's scheduling. The three
loads run in parallel as in the DAG; the dbt steps run in the DAG's order. Each stack is fresh
(own temp state dir, free ports), so a size's figures never see another size's tables.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from psycopg2 import sql  # noqa: E402

from customer360.contract import (  # noqa: E402
    LAKE_BUCKET,
    LOADS_TABLE,
    PRODUCTION_SCHEMA,
    RAW_PREFIX,
    SOURCES,
    STAGING_SCHEMA,
)
from customer360.settings import PROJECT_ROOT  # noqa: E402
from customer360.tasks.local_process import local_step_env, run_streaming  # noqa: E402
from customer360.tasks.steps import (  # noqa: E402
    DBT_BUILD_MARTS,
    DBT_BUILD_STAGING,
    DBT_DOCS_GENERATE,
    DBT_SNAPSHOT,
    DBT_SOURCE_FRESHNESS,
    StepConfig,
    generate_day_step,
    ingest_steps,
)
from harness.settings import HarnessSettings  # noqa: E402
from harness.stack import stack  # noqa: E402
from harness.stack.isolated import make_state_dir, remove_state_dir, stack_env, start_isolated_stack  # noqa: E402
from harness.stack.postgres import connect  # noqa: E402

# "dbt build with tests" = the DAG's dbt steps up to the marts; docs generate is timed on its own.
TRANSFORM_STEPS = (DBT_SOURCE_FRESHNESS, DBT_BUILD_STAGING, DBT_SNAPSHOT, DBT_BUILD_MARTS)
MART_TABLES = ("dim_customers", "fct_orders", "fct_support_tickets", "customer_360", "customers_snapshot")
_LOADER_EVENT = re.compile(r"\b(loaded|skipped|refused) raw/")


@dataclass
class StageTimes:
    """Wall seconds of one pass over the pipeline, per step and per stage."""

    steps: dict[str, float] = field(default_factory=dict)
    load_events: dict[str, int] = field(default_factory=dict)

    def stage(self, names: tuple[str, ...]) -> float:
        return sum(self.steps[name] for name in names if name in self.steps)


class _StepLog(logging.Logger):
    """Logger that writes a step's output to a file and counts the loader's per-object events."""

    def __init__(self, path: Path, events: dict[str, int]) -> None:
        super().__init__(f"bench.{path.stem}")
        handler = logging.FileHandler(path, mode="w")  # a rerun replaces the step's log
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.addHandler(handler)
        self.events = events

    def info(self, msg: object, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        text = str(msg) % args if args else str(msg)
        match = _LOADER_EVENT.search(text)
        if match:
            self.events[match.group(1)] = self.events.get(match.group(1), 0) + 1
        super().info("%s", text)


class PipelineStack:
    """A fresh embedded stack whose environment the runner's steps see (context manager)."""

    def __init__(self, label: str, log_dir: Path) -> None:
        self.label = label
        self.log_dir = log_dir
        self.state_dir = make_state_dir(f"c360-bench-pipeline-{label}-")
        self.work = Path(tempfile.mkdtemp(prefix="c360-bench-pipeline-dbt-"))
        self.settings: HarnessSettings | None = None
        self._saved_env: dict[str, str] | None = None

    def __enter__(self) -> PipelineStack:
        self.settings = start_isolated_stack(self.state_dir)
        # local_step_env() builds each step's env from HarnessSettings read from os.environ, as inside an
        # Airflow worker; so this process's environment names the private stack while it runs.
        self._saved_env = dict(os.environ)
        os.environ.update(stack_env(self.settings))
        # dbt writes artifacts and logs outside the shared work tree (others' dbt runs use dbt/target).
        os.environ["DBT_TARGET_PATH"] = str(self.work / "target")
        os.environ["DBT_LOG_PATH"] = str(self.work / "logs")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
        if self.settings is not None:
            stack.down(self.settings)
        remove_state_dir(self.state_dir)
        shutil.rmtree(self.work, ignore_errors=True)

    # --- running steps -------------------------------------------------------------------------
    def run_step(self, step: StepConfig, phase: str, events: dict[str, int]) -> float:
        """Run one step with the local runtime's runner; its output goes to a log file."""
        log = _StepLog(self.log_dir / f"{self.label}-{phase}-{step.name}.log", events)
        started = time.monotonic()
        try:
            env = local_step_env(step.env, login_role=step.image.warehouse_role)  # as the DAG logs in
            run_streaming(step.name, step.argv, env=env, cwd=PROJECT_ROOT, log=log)
        finally:
            for handler in log.handlers:
                handler.close()
        return time.monotonic() - started

    def dbt_parse(self) -> float:
        """Parse the project once, as the dbt image does at build time; later steps reuse it."""
        step = StepConfig(name="dbt_parse", image=DBT_BUILD_MARTS.image, argv=("dbt", "parse"))
        return self.run_step(step, "setup", {})

    def generate(self, users: int, seed: int, day: int, summary: Path, daily_volume: float = 1.0) -> float:
        step = generate_day_step(
            "--users", str(users), "--seed", str(seed), "--day", str(day),
            "--target", f"s3://{LAKE_BUCKET}/{RAW_PREFIX}", "--summary", str(summary),
            "--daily-volume", f"{daily_volume:g}",
        )  # fmt: skip
        return self.run_step(step, f"day{day}", {})

    def run_dag(self, phase: str, times: StageTimes, docs: bool = True) -> None:
        """The DAG's task order: the loads in parallel, then the dbt chain."""
        started = time.monotonic()
        events = {step.name: {} for step in ingest_steps()}  # one dict per thread, merged below
        with ThreadPoolExecutor(max_workers=len(SOURCES)) as pool:
            futures = {
                step.name: pool.submit(self.run_step, step, phase, events[step.name])
                for step in ingest_steps()
            }
            for name, future in futures.items():
                times.steps[name] = future.result()
        times.steps["load"] = time.monotonic() - started
        for counts in events.values():
            for event, count in counts.items():
                times.load_events[event] = times.load_events.get(event, 0) + count
        for step in (*TRANSFORM_STEPS, *((DBT_DOCS_GENERATE,) if docs else ())):
            times.steps[step.name] = self.run_step(step, phase, {})

    # --- reading the warehouse -----------------------------------------------------------------
    def state(self) -> dict[str, object]:
        """What a rerun must not change: `_loads`, staging row counts, marts counts and a checksum."""
        assert self.settings is not None
        conn = connect(self.settings)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "select count(*), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0),"
                    " max(loaded_at)::text from staging._loads"
                )
                objects, loaded, rejected, last_loaded = cur.fetchone()
                result: dict[str, object] = {
                    "loads_objects": objects,
                    "loads_rows_loaded": int(loaded),
                    "loads_rows_rejected": int(rejected),
                    "loads_last_loaded_at": last_loaded,
                }
                for source in SOURCES:
                    cur.execute(f"select count(*), max(_loaded_at)::text from staging.{source}")
                    result[f"staging.{source}"], result[f"staging.{source}.max_loaded_at"] = cur.fetchone()
                for table in MART_TABLES:
                    cur.execute(f"select count(*) from production.{table}")
                    result[f"production.{table}"] = cur.fetchone()[0]
                cur.execute(
                    "select md5(string_agg(c::text, '|' order by customer_id)) from production.customer_360 c"
                )
                result["customer_360_md5"] = cur.fetchone()[0]
            return result
        finally:
            conn.close()

    def dbt_nodes(self) -> dict[str, int]:
        """How many models, tests, snapshots... the project has (from this stack's manifest)."""
        manifest = json.loads((self.work / "target" / "manifest.json").read_text())
        counts: dict[str, int] = {}
        for node in manifest["nodes"].values():
            if node.get("package_name") == "customer360":
                counts[node["resource_type"]] = counts.get(node["resource_type"], 0) + 1
        counts["source"] = len(manifest.get("sources", {}))
        counts["unit_test"] = len(manifest.get("unit_tests", {}))
        return counts

    def age_loads(self, interval: str = "1 day") -> float:
        """Pretend everything loaded so far was loaded `interval` ago; returns seconds spent.

        In production day K lands about a day after day K-1, but here it lands minutes later.
        The incremental models no longer depend on that (they compare loads, not clocks:
        docs/data-model.md), but the freshness checks and the figures stay comparable with the
        earlier runs. Shifting every `_loaded_at` (staging and production), `_loads.loaded_at` and
        the dbt ledger's `loaded_at` (so the loads it has processed stay the same loads) back
        restores the real cadence; VACUUM ANALYZE then removes the dead row versions the UPDATE
        left behind.
        """
        assert self.settings is not None
        started = time.monotonic()
        conn = connect(self.settings)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "select table_schema, table_name from information_schema.columns c"
                    " join information_schema.tables t using (table_schema, table_name)"
                    " where c.column_name = '_loaded_at' and t.table_type = 'BASE TABLE'"
                    " and table_schema in (%s, %s)",
                    (STAGING_SCHEMA, PRODUCTION_SCHEMA),
                )
                tables = [sql.Identifier(schema, name) for schema, name in cur.fetchall()]
                for table in tables:
                    cur.execute(
                        sql.SQL("update {} set _loaded_at = _loaded_at - interval %s").format(table),
                        (interval,),
                    )
                loads = sql.Identifier(STAGING_SCHEMA, LOADS_TABLE)
                cur.execute(
                    sql.SQL("update {} set loaded_at = loaded_at - interval %s").format(loads), (interval,)
                )
                cur.execute(
                    "select to_regclass(%s) is not null", (f"{PRODUCTION_SCHEMA}.dbt_processed_loads",)
                )
                if cur.fetchone()[0]:
                    ledger = sql.Identifier(PRODUCTION_SCHEMA, "dbt_processed_loads")
                    cur.execute(
                        sql.SQL("update {} set loaded_at = loaded_at - interval %s").format(ledger),
                        (interval,),
                    )
                    tables.append(ledger)
                for table in [*tables, loads]:
                    cur.execute(sql.SQL("vacuum analyze {}").format(table))
        finally:
            conn.close()
        return time.monotonic() - started
