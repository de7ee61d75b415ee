"""Container smoke test: every pipeline step runs its exact pod argv in its image, against the
session's real embedded PostgreSQL and S3, as the pod would (non-root, read-only root, tmpfs /tmp).

The flow is one day of the demo: `generate_day` writes a small dataset into the lake, the three
`ingest_*` steps load it, the five dbt steps build and test the star schema; the Airflow image
imports the DAGs and migrates its metadata database. Argv and pod env come from the step catalogue
(customer360/tasks/steps.py) and pod defaults, so this test fails when an image and the DAG disagree.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from botocore.client import BaseClient
from container_runner import TASK_USER, ImageRefs, PodLikeRunner, describe, image_config, task_env
from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from customer360.contract import LOADS_TABLE, PRODUCTION_SCHEMA, RAW_PREFIX, SOURCES, STAGING_SCHEMA
from customer360.settings import Settings
from customer360.tasks import pod_spec
from customer360.tasks.steps import DBT_STEPS, DatasetConfig, StepConfig, generate_day_step, ingest_steps

pytestmark = [pytest.mark.container, pytest.mark.integration]

SMOKE_DATASET = DatasetConfig(users=300)
EXPECTED_DAGS = {"customer360_elt", "customer360_new_day"}
AIRFLOW_SMOKE_DB = "airflow_container_smoke"
# Connection fields the dbt image was parsed with (images/dbt/Dockerfile PARSE_* defaults).
BAKED_PARSE_ENV = {
    "C360_PG_HOST": "customer360-warehouse",
    "C360_PG_PORT": "5432",
    "C360_PG_USER": "c360_dbt",
    "C360_PG_DATABASE": "warehouse",
    "C360_PG_PASSWORD": "unused-by-parse",
}


def run_step(runner: PodLikeRunner, images: ImageRefs, settings: Settings, step: StepConfig):
    """One DAG task as its pod would run it: the step's image, argv, task env + pod env."""
    image = images.dbt if step.image.value == "dbt" else images.pipeline
    env = {**task_env(settings), **pod_spec.pod_env(step, settings)}
    return runner.run(image, step.argv, env, label=step.step_label)


def scalar(conn: Connection, query: str, schema: str, table: str) -> int:
    """``query`` with ``{}`` = the quoted schema-qualified table, e.g. ``select count(*) from {}``."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL(query).format(sql.Identifier(schema, table)))
        return cur.fetchone()[0]


def staging_counts(conn: Connection) -> dict[str, int]:
    return {source: scalar(conn, "select count(*) from {}", STAGING_SCHEMA, source) for source in SOURCES}


@pytest.fixture(scope="module")
def loaded(
    clean_stack_module: Settings, images: ImageRefs, pod_runner: PodLikeRunner
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Generate day 0 into the lake and run the three ingest steps once, in their containers."""
    settings = clean_stack_module
    generate = generate_day_step(
        *SMOKE_DATASET.generate_args(), "--day", "0", "--target", f"s3://{settings.s3_bucket}/{RAW_PREFIX}"
    )
    results = {generate.name: run_step(pod_runner, images, settings, generate)}
    assert results[generate.name].returncode == 0, describe(results[generate.name])
    for step in ingest_steps():
        results[step.name] = run_step(pod_runner, images, settings, step)
    return results


def test_images_declare_the_pods_non_root_users(images: ImageRefs, pod_runner: PodLikeRunner) -> None:
    """Kubernetes' runAsNonRoot needs a numeric USER in the image; the process really is that user."""
    assert image_config(images.pipeline)["User"] == TASK_USER
    assert image_config(images.dbt)["User"] == TASK_USER
    assert image_config(images.airflow)["User"] == "50000:0"
    # user=None: the image's own USER applies; the read-only root filesystem refuses writes.
    probe = ["sh", "-c", "id -u; touch /opt/probe 2>/dev/null && echo writable || echo read-only"]
    for ref, uid in ((images.pipeline, "10001"), (images.dbt, "10001"), (images.airflow, "50000")):
        result = pod_runner.run(ref, probe, label="probe", user=None)
        assert result.returncode == 0, describe(result)
        assert result.stdout.split() == [uid, "read-only"]


def test_ingest_loads_every_lake_object_once(
    loaded: dict[str, subprocess.CompletedProcess[str]],
    clean_stack_module: Settings,
    pg_conn: Connection,
    s3_client: BaseClient,
) -> None:
    for step in ingest_steps():
        assert loaded[step.name].returncode == 0, describe(loaded[step.name])
    listing = s3_client.list_objects_v2(Bucket=clean_stack_module.s3_bucket, Prefix=f"{RAW_PREFIX}/")
    lake_keys = {obj["Key"] for obj in listing.get("Contents", [])}
    assert lake_keys, "generate_day wrote nothing into the lake"
    with pg_conn.cursor() as cur:
        cur.execute(sql.SQL("select source_key from {}").format(sql.Identifier(STAGING_SCHEMA, LOADS_TABLE)))
        loaded_keys = {row[0] for row in cur.fetchall()}
    assert loaded_keys == lake_keys
    empty = [source for source, rows in staging_counts(pg_conn).items() if rows == 0]
    assert not empty, f"nothing loaded into staging tables {empty}"


def test_ingest_again_changes_nothing(
    loaded: dict[str, subprocess.CompletedProcess[str]],
    clean_stack_module: Settings,
    images: ImageRefs,
    pod_runner: PodLikeRunner,
    pg_conn: Connection,
) -> None:
    """A retried task pod (Airflow retries) must not duplicate rows."""
    before = staging_counts(pg_conn)
    for step in ingest_steps():
        result = run_step(pod_runner, images, clean_stack_module, step)
        assert result.returncode == 0, describe(result)
    assert staging_counts(pg_conn) == before


def test_dbt_steps_build_and_test_the_marts(
    loaded: dict[str, subprocess.CompletedProcess[str]],
    clean_stack_module: Settings,
    images: ImageRefs,
    pod_runner: PodLikeRunner,
    pg_conn: Connection,
) -> None:
    """Every dbt task of the DAG, in DAG order; `dbt build` fails on a failing test (error severity)."""
    for step in DBT_STEPS:
        result = run_step(pod_runner, images, clean_stack_module, step)
        assert result.returncode == 0, describe(result)
    customers = scalar(pg_conn, "select count(*) from {}", PRODUCTION_SCHEMA, "customer_360")
    known_users = scalar(pg_conn, "select count(distinct user_id) from {}", STAGING_SCHEMA, "users")
    assert customers == known_users > 0


def test_dbt_image_reuses_its_baked_parse(images: ImageRefs, pod_runner: PodLikeRunner) -> None:
    """With the connection fields it was built for, a dbt pod starts without a full re-parse."""
    result = pod_runner.run(images.dbt, ["dbt", "parse"], BAKED_PARSE_ENV, label="dbt-parse")
    assert result.returncode == 0, describe(result)
    assert "Unable to do partial parsing" not in result.stdout, result.stdout


@pytest.fixture(scope="module")
def airflow_metadata_url(clean_stack_module: Settings, pg_conn: Connection) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL for Airflow's metadata; dropped afterwards."""
    database = sql.Identifier(AIRFLOW_SMOKE_DB)
    with pg_conn.cursor() as cur:
        cur.execute(sql.SQL("drop database if exists {}").format(database))
        cur.execute(sql.SQL("create database {}").format(database))
    dsn = clean_stack_module.warehouse_dsn(AIRFLOW_SMOKE_DB)
    yield dsn.replace("postgresql://", "postgresql+psycopg2://", 1)
    with pg_conn.cursor() as cur:
        cur.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(AIRFLOW_SMOKE_DB))
        )


def run_airflow(runner: PodLikeRunner, image: str, args: list[str], db_url: str, label: str):
    """An Airflow subcommand through the image's entrypoint, as the chart's pods run it: image USER,
    read-only root, emptyDirs on /tmp and the logs folder."""
    return runner.run(
        image,
        args,
        {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url},
        user=None,
        tmpfs=("/tmp", "/opt/airflow/logs"),
        label=label,
    )


def test_airflow_image_migrates_and_imports_the_dags(
    images: ImageRefs, pod_runner: PodLikeRunner, airflow_metadata_url: str
) -> None:
    """The migration Job's `db migrate`, then the DAG processor's view: every DAG imports cleanly."""
    migrate = run_airflow(
        pod_runner, images.airflow, ["db", "migrate"], airflow_metadata_url, "airflow-migrate"
    )
    assert migrate.returncode == 0, describe(migrate)
    errors = run_airflow(
        pod_runner,
        images.airflow,
        ["dags", "list-import-errors", "--local", "--output", "json"],
        airflow_metadata_url,
        "airflow-import-errors",
    )
    assert errors.returncode == 0, describe(errors)
    assert json.loads(errors.stdout.strip().splitlines()[-1]) == []
    listing = run_airflow(
        pod_runner,
        images.airflow,
        ["dags", "list", "--local", "--output", "json"],
        airflow_metadata_url,
        "airflow-dags",
    )
    assert listing.returncode == 0, describe(listing)
    dag_ids = {dag["dag_id"] for dag in json.loads(listing.stdout.strip().splitlines()[-1])}
    assert dag_ids >= EXPECTED_DAGS
