"""What ``make demo`` prints after the DAG run: a short, factual account of what was built.

Every figure is read back from where the pipeline put it (the warehouse, dbt's run results, the
Airflow metadata DB), never from what the demo asked for, so the report shows a broken step as it is.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from psycopg2 import sql

from customer360.contract import (
    AIRFLOW_DATABASE,
    PRODUCTION_SCHEMA,
    REJECTED_ROWS_TABLE,
    SOURCES,
    STAGING_SCHEMA,
)
from customer360.tasks.local_process import dbt_target_dir, local_step_env
from customer360.tasks.steps import DBT_STEPS, mart_models
from harness.settings import HarnessSettings
from harness.stack import postgres

TOP_CUSTOMERS = 5


@dataclass(frozen=True)
class TaskState:
    task_id: str
    state: str | None
    seconds: float | None
    tries: int


@dataclass
class DbtTestCounts:
    """dbt test outcomes of one step (``pass``/``warn``/``fail``/``error``/``skipped``)."""

    step: str
    counts: Counter[str] = field(default_factory=Counter)


@contextmanager
def _cursor(settings: HarnessSettings, database: str | None = None) -> Iterator[Any]:
    """A cursor on an autocommit connection that is closed afterwards (psycopg2's ``with`` is not)."""
    with closing(postgres.connect(settings, database)) as conn, conn.cursor() as cur:
        yield cur


def _count(cur: Any, schema: str, table: str) -> int | None:
    cur.execute("select to_regclass(%s) is not null", (f"{schema}.{table}",))
    if not cur.fetchone()[0]:
        return None
    cur.execute(sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
    return cur.fetchone()[0]


def table_counts(settings: HarnessSettings, schema: str, tables: Iterable[str]) -> dict[str, int | None]:
    """Row count of each table (None when it does not exist)."""
    with _cursor(settings) as cur:
        return {table: _count(cur, schema, table) for table in tables}


def rejected_rows(settings: HarnessSettings) -> dict[str, int]:
    """Rows the loader rejected, per source (object keys are ``raw/<source>/...``)."""
    with _cursor(settings) as cur:
        if _count(cur, STAGING_SCHEMA, REJECTED_ROWS_TABLE) is None:
            return {}
        cur.execute(
            sql.SQL(
                "select split_part(source_key, '/', 2), count(*) from {}.{} group by 1 order by 1"
            ).format(sql.Identifier(STAGING_SCHEMA), sql.Identifier(REJECTED_ROWS_TABLE))
        )
        return dict(cur.fetchall())


def top_customers(settings: HarnessSettings, limit: int = TOP_CUSTOMERS) -> list[tuple]:
    """The customers with the highest lifetime value (empty when the mart does not exist)."""
    with _cursor(settings) as cur:
        if _count(cur, PRODUCTION_SCHEMA, "customer_360") is None:
            return []
        cur.execute(
            sql.SQL(
                "select customer_id, full_name, country, order_count, lifetime_value from {}.customer_360 "
                "order by lifetime_value desc, customer_id limit %s"
            ).format(sql.Identifier(PRODUCTION_SCHEMA)),
            (limit,),
        )
        return cur.fetchall()


def dbt_test_counts(target_dir: Path, since: datetime) -> list[DbtTestCounts]:
    """Test outcomes per dbt step, from the run results the local runtime kept for each step.

    Results generated before ``since`` belong to an earlier run and are left out.
    """
    found = []
    for step in DBT_STEPS:
        if step.argv[1] not in {"build", "test"}:
            continue  # docs/snapshot/freshness results are not test outcomes
        path = target_dir / "run_results" / f"{step.name}.json"
        if not path.exists():
            continue
        results = json.loads(path.read_text())
        generated = datetime.fromisoformat(results["metadata"]["generated_at"].replace("Z", "+00:00"))
        if generated < since:
            continue
        counts = Counter(
            str(result["status"])
            for result in results.get("results", [])
            if str(result.get("unique_id", "")).startswith(("test.", "unit_test."))
        )
        if counts:
            found.append(DbtTestCounts(step=step.name, counts=counts))
    return found


def task_states(settings: HarnessSettings, dag_id: str) -> list[TaskState]:
    """Task states of the DAG's latest run, from Airflow's metadata DB."""
    with _cursor(settings, AIRFLOW_DATABASE) as cur:
        cur.execute(
            "select task_id, state, extract(epoch from end_date - start_date), try_number "
            "from task_instance where dag_id = %s and run_id = "
            "(select run_id from dag_run where dag_id = %s order by id desc limit 1) "
            "order by start_date nulls last, task_id",
            (dag_id, dag_id),
        )
        return [
            TaskState(t, s, float(sec) if sec is not None else None, n) for t, s, sec, n in cur.fetchall()
        ]


def render(
    *,
    tasks: list[TaskState],
    staging: dict[str, int | None],
    rejected: dict[str, int],
    tests: list[DbtTestCounts],
    marts: dict[str, int | None],
    top: list[tuple],
) -> str:
    """The report as plain text (no colours: it also goes into CI logs)."""
    out = ["", "== Airflow tasks (latest run) =="]
    for task in tasks:
        took = f"{task.seconds:6.1f}s" if task.seconds is not None else "      -"
        out.append(f"  {task.task_id:<24} {task.state or 'none':<16} {took}  tries={task.tries}")
    out.append("== staging rows (loaded / rejected) ==")
    for source in SOURCES:
        loaded = staging.get(source)
        out.append(
            f"  {source:<18} {'-' if loaded is None else f'{loaded:,}':>10} / {rejected.get(source, 0):,}"
        )
    out.append("== dbt tests ==")
    if not tests:
        out.append("  no test results from this run")
    for step in tests:
        parts = ", ".join(f"{status}={n}" for status, n in sorted(step.counts.items()))
        out.append(f"  {step.step:<24} {parts}")
    out.append("== marts (production) ==")
    for model, rows in marts.items():
        out.append(f"  {model:<24} {'-' if rows is None else f'{rows:,}':>10}")
    if top:
        out.append(f"== top {len(top)} customers by lifetime value ==")
        for customer_id, name, country, orders, value in top:
            out.append(
                f"  {customer_id:>8}  {name[:28]:<28} {country or '':<4} {orders:>4} orders  {value:>12,.2f}"
            )
    return "\n".join(out)


def build_report(settings: HarnessSettings, dag_id: str, since: datetime) -> str:
    return render(
        tasks=task_states(settings, dag_id),
        staging=table_counts(settings, STAGING_SCHEMA, SOURCES),
        rejected=rejected_rows(settings),
        tests=dbt_test_counts(dbt_target_dir(local_step_env({})), since),
        marts=table_counts(settings, PRODUCTION_SCHEMA, mart_models()),
        top=top_customers(settings),
    )
