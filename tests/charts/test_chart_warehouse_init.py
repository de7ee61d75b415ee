"""The warehouse's privilege model, run for real in both runtimes.

The chart's postgres init script is run as the official image's first start runs it (as the
superuser, against POSTGRES_DB of a bare server) and must apply the one SQL file the embedded stack
applies; then, on a normal embedded stack, each role tries what it may and may not do. This is what
least privilege means to a user of the warehouse, on a laptop as in a cluster.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
import yaml
from chart_render import render_chart
from psycopg2 import errors

from customer360.contract import AIRFLOW_DATABASE, AIRFLOW_ROLE, ANALYST_ROLE, DBT_ROLE, LOADER_ROLE
from harness.settings import HarnessSettings
from harness.stack import postgres
from harness.stack.isolated import isolated_settings, isolated_stack, make_state_dir, remove_state_dir

pytestmark = pytest.mark.integration


def test_the_chart_ships_the_embedded_stacks_init_sql_verbatim() -> None:
    data = render_chart(show_only="templates/warehouse/warehouse-configmap.yaml")[0]["data"]
    # (YAML's block scalar keeps no trailing newline when the key ends the document)
    assert data["warehouse-init.psql"].rstrip("\n") == postgres.WAREHOUSE_INIT_SQL.read_text().rstrip("\n")


def test_the_charts_init_script_applies_it_on_a_bare_server(tmp_path: Path) -> None:
    state_dir = make_state_dir("c360-chart-init-")
    settings = isolated_settings(state_dir)
    settings.ensure_generated_secrets()
    try:
        postgres.start(settings, prepare_warehouse=False)
        postgres.create_database(settings, settings.pg_database)  # the image creates POSTGRES_DB
        init_dir = tmp_path / "docker-entrypoint-initdb.d"
        init_dir.mkdir()
        for name, text in render_chart(show_only="templates/warehouse/warehouse-configmap.yaml")[0][
            "data"
        ].items():
            (init_dir / name).write_text(text)
        env = {
            **os.environ,
            "PATH": f"{postgres.POSTGRES_BIN_PATH}:{os.environ['PATH']}",
            "POSTGRES_USER": settings.pg_user,
            "POSTGRES_DB": settings.pg_database,
            "PGHOST": settings.pg_host,
            "PGPORT": str(settings.pg_port),
            "PGPASSWORD": settings.password,
            "C360_LOADER_PASSWORD": "loader-pw",
            "C360_DBT_PASSWORD": "dbt-pw",
            "C360_ANALYST_PASSWORD": "analyst-pw",
            "C360_AIRFLOW_PASSWORD": "airflow-pw",
        }
        result = subprocess.run(
            ["bash", str(init_dir / "10-customer360.sh")], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        conn = psycopg2.connect(
            host=settings.pg_host,
            port=settings.pg_port,
            user=LOADER_ROLE,
            password="loader-pw",
            dbname=settings.pg_database,
        )
        with closing(conn), conn.cursor() as cur:
            cur.execute(
                "select nspname, pg_get_userbyid(nspowner) from pg_namespace"
                " where nspname in ('staging', 'production') order by 1"
            )
            assert cur.fetchall() == [("production", DBT_ROLE), ("staging", LOADER_ROLE)]
            cur.execute("show random_page_cost")
            assert cur.fetchone() == ("1.1",)
    finally:
        postgres.stop(settings)
        remove_state_dir(state_dir)


@pytest.fixture(scope="module")
def server() -> Iterator[HarnessSettings]:
    """An embedded stack of this module's own (the roles are cluster-wide)."""
    with isolated_stack("c360-privileges-") as settings:
        yield settings


def login(settings: HarnessSettings, role: str, database: str | None = None):
    """An autocommit connection as `role` (use with closing(): psycopg2's `with conn` opens a
    transaction even in autocommit mode, and one refused statement would abort the rest)."""
    conn = psycopg2.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=role,
        password=settings.role_password(role),
        dbname=database or settings.pg_database,
    )
    conn.autocommit = True
    return conn


def test_loader_writes_staging_and_dbt_reads_it(server):
    with closing(login(server, LOADER_ROLE)) as loader, loader.cursor() as cur:
        cur.execute("create table staging.probe (user_id bigint)")
        cur.execute("insert into staging.probe values (1)")
    with closing(login(server, DBT_ROLE)) as dbt, dbt.cursor() as cur:
        cur.execute("select count(*) from staging.probe")
        assert cur.fetchone() == (1,)
        with pytest.raises(errors.InsufficientPrivilege):
            cur.execute("create table staging.not_mine (x int)")


def test_dbt_writes_production_and_the_analyst_only_reads_it(server):
    with closing(login(server, DBT_ROLE)) as dbt, dbt.cursor() as cur:
        cur.execute("create table production.probe as select 1 as customer_id")
    with closing(login(server, ANALYST_ROLE)) as analyst, analyst.cursor() as cur:
        cur.execute("select customer_id from production.probe")
        assert cur.fetchall() == [(1,)]
        for statement in (
            "create table production.mine (x int)",
            "select * from staging.probe",
            "create table public.mine (x int)",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute(statement)


def test_loader_cannot_touch_production(server):
    with (
        closing(login(server, LOADER_ROLE)) as loader,
        loader.cursor() as cur,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        cur.execute("create table production.sneaky (x int)")


def test_airflow_has_its_own_database_and_no_warehouse_access(server):
    with closing(login(server, AIRFLOW_ROLE, database=AIRFLOW_DATABASE)) as airflow, airflow.cursor() as cur:
        cur.execute("create table dag_run_probe (x int)")
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        login(server, AIRFLOW_ROLE)


def test_the_warehouse_plans_for_index_reads_whoever_connects(server):
    """A daily run touches a few percent of the keys: the planner must price an index read as on
    an SSD (the database's setting), not as on a spinning disk (PostgreSQL's default, 4)."""
    for role in (LOADER_ROLE, DBT_ROLE, ANALYST_ROLE):
        with closing(login(server, role)) as conn, conn.cursor() as cur:
            cur.execute("show random_page_cost")
            assert cur.fetchone() == ("1.1",), role


def test_a_reset_keeps_the_schemas_and_their_owners(server):
    with closing(login(server, LOADER_ROLE)) as loader, loader.cursor() as cur:
        cur.execute("create table if not exists staging.probe (user_id bigint)")
    postgres.reset_warehouse(server)
    with closing(login(server, DBT_ROLE)) as dbt, dbt.cursor() as cur:
        cur.execute("select to_regclass('staging.probe')")
        assert cur.fetchone() == (None,)
        cur.execute("create table production.after_reset (x int)")


def test_the_charts_default_roles_are_the_ones_local_steps_log_in_as() -> None:
    values = yaml.safe_load((postgres.PROJECT_ROOT / "charts" / "customer360" / "values.yaml").read_text())
    warehouse = values["warehouse"]
    assert warehouse["roles"] == {"loader": LOADER_ROLE, "dbt": DBT_ROLE, "analyst": ANALYST_ROLE}
    assert (warehouse["airflowRole"], warehouse["airflowDatabase"]) == (AIRFLOW_ROLE, AIRFLOW_DATABASE)
