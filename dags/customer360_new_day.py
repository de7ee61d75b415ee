"""
### customer360_new_day: simulate the next day of source data

Generates day *K* of the demo dataset into the lake (`raw/<source>/dt=<day>/...`), and every
earlier day the lake lacks, with `c360-datagen generate --through-day K`: *K* is the number of days
between the day this run simulates (its logical date; for a manual trigger, which has none, the
day it runs) and the dataset's start date (`params.start_date`, day 0). On an empty lake the first
run therefore lands the initial export (day 0) and the days up to today. Day *K* is a pure function
of seed, users, start date and *K*, so a rerun writes the same bytes and the loader skips them.
The bucket is the configured one (`C360_S3_BUCKET`, the chart's `lake.bucket`).

Publishes the asset `lake.raw`, which triggers `customer360_elt` right away (that DAG also runs
daily). Paused when first deployed: the simulator is opt-in. Runbook: `docs/operations.md`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param

from customer360.tasks import build_step_task
from customer360.tasks.steps import DEMO_DATASET, day_index, generate_day_step, run_day

with DAG(
    dag_id="customer360_new_day",
    description="Generate the next day of source data into the lake (simulator)",
    doc_md=__doc__,
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    tags=["customer360", "datagen", "simulator"],
    user_defined_macros={"day_index": day_index, "run_day": run_day},
    params={
        "users": Param(DEMO_DATASET.users, type="integer", minimum=1),
        "seed": Param(DEMO_DATASET.seed, type="integer"),
        "start_date": Param(DEMO_DATASET.start_date, type="string", format="date"),
    },
    default_args={"owner": "data-platform"},
) as dag:
    # The step carries its retries (it writes to the lake over the network) and its outlet, lake.raw.
    build_step_task(
        generate_day_step(
            "--users",
            "{{ params.users }}",
            "--seed",
            "{{ params.seed }}",
            "--start-date",
            "{{ params.start_date }}",
            "--through-day",
            "{{ day_index(run_day(dag_run), params.start_date) }}",
        )
    )
