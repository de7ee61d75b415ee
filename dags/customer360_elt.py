"""
### customer360_elt: lake -> staging -> Customer 360 star schema

Loads each source's new lake objects into PostgreSQL `staging` (in parallel), then runs dbt:
source freshness -> build (and test) staging -> snapshot customer history -> build (and test) the
marts in `production` -> generate the docs site. A failing dbt test fails its task and nothing
after it runs.

**Schedule**: daily at 02:00 UTC *or* as soon as new raw files are published to the lake asset
`lake.raw` (by `customer360_new_day`). Loads are idempotent (an object already loaded with the same
ETag is skipped), so an extra run only rebuilds the marts.

**Runtime**: every task is one container command built by `customer360.tasks.build_step_task`: a pod
when `C360_TASK_RUNTIME=kubernetes`, a local subprocess of the same argv otherwise. Logs of a pod:
`kubectl logs -l customer360/step=<task-id-with-dashes> --tail=-1`; finished pods are kept (a day
when they succeed, a week when they fail; the chart's `tasks.podRetention`). Runbook:
`docs/operations.md`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable

from customer360.tasks import build_step_task
from customer360.tasks.assets import LAKE_RAW, MARTS, STAGING_TABLES
from customer360.tasks.constants import NETWORK_MAX_RETRY_DELAY, NETWORK_RETRIES, NETWORK_RETRY_DELAY
from customer360.tasks.steps import (
    DBT_BUILD_MARTS,
    DBT_BUILD_STAGING,
    DBT_DOCS_GENERATE,
    DBT_SNAPSHOT,
    DBT_SOURCE_FRESHNESS,
    ingest_steps,
)

with DAG(
    dag_id="customer360_elt",
    description="Load the lake into staging and build the Customer 360 star schema with dbt",
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 2 * * *", timezone="UTC"), assets=LAKE_RAW
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    tags=["customer360", "elt", "dbt"],
    default_args={
        "owner": "data-platform",
        # dbt failures are failed data tests or broken SQL: a retry repeats them. dbt's own
        # connection retries (profiles.yml) cover a warehouse that blips.
        "retries": 0,
        "execution_timeout": timedelta(minutes=30),
    },
) as dag:
    loads = [
        build_step_task(
            step,
            # Network to the lake and the warehouse: retry with exponential backoff.
            retries=NETWORK_RETRIES,
            retry_delay=NETWORK_RETRY_DELAY,
            retry_exponential_backoff=2.0,
            max_retry_delay=NETWORK_MAX_RETRY_DELAY,
            outlets=[STAGING_TABLES[step.name.removeprefix("ingest_")]],
        )
        for step in ingest_steps()
    ]
    freshness = build_step_task(DBT_SOURCE_FRESHNESS, execution_timeout=timedelta(minutes=10))
    staging = build_step_task(DBT_BUILD_STAGING)
    snapshot = build_step_task(DBT_SNAPSHOT)
    marts = build_step_task(DBT_BUILD_MARTS, execution_timeout=timedelta(hours=1), outlets=list(MARTS))
    docs = build_step_task(DBT_DOCS_GENERATE, execution_timeout=timedelta(minutes=15))

    loads >> freshness >> staging >> snapshot >> marts >> docs
