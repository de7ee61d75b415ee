"""The warehouse init script, run for real: a private embedded PostgreSQL 18 plays the official
image's first start (the script runs as the superuser against POSTGRES_DB), then each role tries
what it may and may not do. This is what least privilege means to a user of the warehouse.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import closing

import psycopg2
import pytest
from chart_render import render_chart
from psycopg2 import errors

from customer360.settings import Settings
from harness.stack import postgres
from harness.stack.isolated import isolated_settings, make_state_dir, remove_state_dir

pytestmark = pytest.mark.integration

PASSWORDS = {
    "C360_LOADER_PASSWORD": "loader-pw",
    "C360_DBT_PASSWORD": "dbt-pw",
    "C360_ANALYST_PASSWORD": "analyst-pw",
    "C360_AIRFLOW_PASSWORD": "airflow-pw",
}


@pytest.fixture(scope="module")
def server() -> Iterator[Settings]:
    """A PostgreSQL server of this module's own (the script creates cluster-wide roles)."""
    state_dir = make_state_dir("c360-chart-init-")
    settings = isolated_settings(state_dir)
    settings.ensure_generated_secrets()
    try:
        postgres.start(settings)
        # The embedded stack pre-creates the schemas; the official image's fresh database has none.
        with postgres.connect(settings) as conn, conn.cursor() as cur:
            cur.execute("drop schema if exists staging, production cascade")
        script = render_chart(show_only="templates/warehouse/warehouse-configmap.yaml")[0]["data"]
        env = {
            **os.environ,
            **PASSWORDS,
            "PATH": f"{postgres.POSTGRES_BIN_PATH}:{os.environ['PATH']}",
            "POSTGRES_USER": settings.pg_user,
            "POSTGRES_DB": settings.pg_database,
            "PGHOST": settings.pg_host,
            "PGPORT": str(settings.pg_port),
            "PGPASSWORD": settings.password,
        }
        result = subprocess.run(
            ["bash", "-c", script["10-customer360.sh"]], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        yield settings
    finally:
        postgres.stop(settings)
        remove_state_dir(state_dir)


def login(settings: Settings, role: str, database: str = "warehouse"):
    """An autocommit connection as `role` (use with closing(): psycopg2's `with conn` opens a
    transaction even in autocommit mode, and one refused statement would abort the rest)."""
    password = PASSWORDS[f"C360_{role.removeprefix('c360_').upper()}_PASSWORD"]
    conn = psycopg2.connect(
        host=settings.pg_host, port=settings.pg_port, user=role, password=password, dbname=database
    )
    conn.autocommit = True
    return conn


def test_loader_writes_staging_and_dbt_reads_it(server):
    with closing(login(server, "c360_loader")) as loader, loader.cursor() as cur:
        cur.execute("create table staging.users (user_id bigint)")
        cur.execute("insert into staging.users values (1)")
    with closing(login(server, "c360_dbt")) as dbt, dbt.cursor() as cur:
        cur.execute("select count(*) from staging.users")
        assert cur.fetchone() == (1,)
        with pytest.raises(errors.InsufficientPrivilege):
            cur.execute("create table staging.not_mine (x int)")


def test_dbt_writes_production_and_the_analyst_only_reads_it(server):
    with closing(login(server, "c360_dbt")) as dbt, dbt.cursor() as cur:
        cur.execute("create table production.customer_360 as select 1 as customer_id")
    with closing(login(server, "c360_analyst")) as analyst, analyst.cursor() as cur:
        cur.execute("select customer_id from production.customer_360")
        assert cur.fetchall() == [(1,)]
        for statement in (
            "create table production.mine (x int)",
            "select * from staging.users",
            "create table public.mine (x int)",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute(statement)


def test_loader_cannot_touch_production(server):
    with (
        closing(login(server, "c360_loader")) as loader,
        loader.cursor() as cur,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        cur.execute("create table production.sneaky (x int)")


def test_airflow_has_its_own_database_and_no_warehouse_access(server):
    with closing(login(server, "airflow", database="airflow")) as airflow, airflow.cursor() as cur:
        cur.execute("create table dag_run_probe (x int)")
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        login(server, "airflow", database="warehouse")
