"""
### customer360_elt: lake -> staging -> Customer 360 star schema

Loads each source's new lake objects into PostgreSQL `staging` (in parallel), then runs dbt:
source freshness -> build (and test) staging -> snapshot customer history -> build (and test) the
marts in `production` -> generate the docs site. A failing dbt test fails its task and nothing
after it runs.

**Schedule**: daily at 02:00 UTC *or* as soon as new raw files are published to the lake asset
`lake.raw` (by `customer360_new_day`). Loads are idempotent (an object already loaded with the same
ETag is skipped), so an extra run only rebuilds the marts.

**Incremental, with a weekly full refresh**: daily runs take in only what the new loads changed
(docs/data-model.md, "Incremental design"). Every Sunday's run (UTC, by `run_after`), and any run
triggered with `{"full_refresh": true}`, rebuilds staging and the marts with `--full-refresh`.

**Runtime**: every task is one container command built by `customer360.tasks.build_step_task`: a pod
when `C360_TASK_RUNTIME=kubernetes`, a local subprocess of the same argv otherwise. Logs of a pod:
`kubectl logs -l customer360/step=<task-id-with-dashes> --tail=-1`; finished pods are kept (a day
when they succeed, a week when they fail; the chart's `tasks.podRetention`). Runbook:
`docs/operations.md`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable, Param

from customer360.tasks import build_step_task
from customer360.tasks.assets import LAKE_RAW
from customer360.tasks.steps import (
    DBT_BUILD_MARTS,
    DBT_BUILD_STAGING,
    DBT_DOCS_GENERATE,
    DBT_SNAPSHOT,
    DBT_SOURCE_FRESHNESS,
    ingest_steps,
    with_full_refresh_arg,
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
    params={
        "full_refresh": Param(
            False, type="boolean", description="Rebuild staging and the marts from the raw tables."
        ),
    },
    default_args={"owner": "data-platform"},
) as dag:
    # Each step carries its retries (the loads retry, dbt does not), timeout and outlets.
    loads = [build_step_task(step) for step in ingest_steps()]
    freshness = build_step_task(DBT_SOURCE_FRESHNESS)
    staging = build_step_task(with_full_refresh_arg(DBT_BUILD_STAGING))
    snapshot = build_step_task(DBT_SNAPSHOT)
    marts = build_step_task(with_full_refresh_arg(DBT_BUILD_MARTS))
    docs = build_step_task(DBT_DOCS_GENERATE)

    loads >> freshness >> staging >> snapshot >> marts >> docs
