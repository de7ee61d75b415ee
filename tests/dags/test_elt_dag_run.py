"""customer360_elt end to end on the local runtime: real Airflow, real servers, real dbt.

One small generated dataset; the DAG runs through `airflow dags test` with its metadata DB on the
session's embedded PostgreSQL, exactly as `make demo` runs it. Then a row that breaks a marts test
is slipped into the warehouse and the dbt tail of the DAG is rerun: the dbt task must fail and the task
after it must not run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg2.extensions import connection as Connection

from customer360.contract import DBT_ROLE, LOADER_ROLE
from customer360.tasks.local_process import local_step_env, run_streaming
from customer360.tasks.steps import mart_models
from harness.demo_report import task_states
from harness.embedded_airflow import cli as airflow_cli
from harness.settings import HarnessSettings

pytestmark = pytest.mark.integration

DAG_ID = "customer360_elt"
USERS = 150


class _Quiet:
    def info(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def loaded(clean_stack_module: HarnessSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A lake with one small generated day, Airflow's DB migrated, dbt artifacts in a private dir."""
    work = tmp_path_factory.mktemp("elt-run")
    with pytest.MonkeyPatch.context() as mp:
        # This session's dbt artifacts stay out of the shared dbt/target (other sessions, the demo).
        mp.setenv("DBT_TARGET_PATH", str(work / "dbt-target"))
        mp.setenv("DBT_LOG_PATH", str(work / "dbt-logs"))
        argv = ["c360-datagen", "generate", "--users", str(USERS), "--days", "1", "--seed", "7"]
        run_streaming("generate", argv, env=local_step_env({}), cwd=work, log=_Quiet())
        airflow_cli.migrate(clean_stack_module, log_file=work / "airflow.log")
        yield work


def _count(pg_conn: Connection, query: str) -> int:
    with pg_conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchone()[0]


def test_dag_runs_green_and_fills_the_marts(
    loaded: Path, clean_stack_module: HarnessSettings, pg_conn: Connection
) -> None:
    log = loaded / "airflow.log"
    code = airflow_cli.dags_test(clean_stack_module, DAG_ID, log_file=log)

    states = {task.task_id: task.state for task in task_states(clean_stack_module, DAG_ID)}
    assert code == 0, f"DAG run failed: {states}; see {log}"
    assert set(states.values()) == {"success"}
    assert len(states) == 8
    for model in mart_models():
        assert _count(pg_conn, f"select count(*) from production.{model}") > 0, model
    # One row per known customer (docs/data-model.md, Rules).
    assert _count(pg_conn, "select count(*) from production.customer_360") == _count(
        pg_conn, "select count(distinct user_id) from staging.users"
    )
    # Each step ran as the role the chart's Secrets give its pod (docs/architecture.md, Privileges).
    with pg_conn.cursor() as cur:
        cur.execute(
            "select n.nspname, array_agg(distinct pg_get_userbyid(c.relowner)) from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname in ('staging', 'production') and c.relkind in ('r', 'v') group by 1"
        )
        assert dict(cur.fetchall()) == {"staging": [LOADER_ROLE], "production": [DBT_ROLE]}
    assert (loaded / "dbt-target" / "index.html").exists()  # dbt_docs_generate wrote the site
    assert (loaded / "dbt-target" / "run_results" / "dbt_build_marts.json").exists()


def test_failing_marts_test_fails_its_task_and_stops_the_rest(
    loaded: Path, clean_stack_module: HarnessSettings, pg_conn: Connection
) -> None:
    # A "user" that claims the unknown customer's id -1, so that dim_customers has it twice and its
    # unique test (severity error) fails, whichever way the marts build: a full refresh (on a
    # Sunday) rebuilds dim_customers from the staging model, a daily run keeps the rows of
    # unchanged ids, so the duplicate goes into both.
    with pg_conn.cursor() as cur:
        cur.execute(
            "insert into production.stg_user_db__users select (jsonb_populate_record("
            "null::production.stg_user_db__users, to_jsonb(u) || '{\"customer_id\": -1}')).*"
            " from production.stg_user_db__users u where customer_id > 0 limit 1"
        )
        cur.execute(
            "insert into production.dim_customers"
            " select * from production.dim_customers where customer_id = -1"
        )
    try:
        code = airflow_cli.dags_test(
            clean_stack_module,
            DAG_ID,
            # The loads and the staging/snapshot steps were proven above; rerun only the dbt tail.
            mark_success_pattern=r"^(ingest_.*|dbt_source_freshness|dbt_build_staging|dbt_snapshot)$",
            log_file=loaded / "airflow-failure.log",
        )
    finally:
        with pg_conn.cursor() as cur:
            cur.execute("delete from production.stg_user_db__users where customer_id = -1")
            cur.execute(
                "delete from production.dim_customers where customer_id = -1 and ctid <> "
                "(select min(ctid) from production.dim_customers where customer_id = -1)"
            )

    states = {task.task_id: task.state for task in task_states(clean_stack_module, DAG_ID)}
    assert code != 0
    assert states["dbt_build_marts"] == "failed"
    assert states["dbt_docs_generate"] == "upstream_failed"
