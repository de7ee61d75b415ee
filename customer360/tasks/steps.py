"""The catalogue of pipeline steps: task id -> image + argv, exactly as in docs/interfaces.md.

DAG files pick steps from here instead of spelling commands, so the argv that a pod runs and the
argv that a local subprocess runs are one definition.
"""

from __future__ import annotations

from datetime import date

from customer360.contract import SOURCES
from customer360.tasks.config import ResourceConfig, StepConfig
from customer360.tasks.constants import ImageKind

# Loading streams from S3 into COPY in bounded memory; dbt holds the manifest in memory.
INGEST_RESOURCES = ResourceConfig(
    cpu_request="250m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi"
)
DBT_RESOURCES = ResourceConfig(cpu_request="500m", memory_request="512Mi", cpu_limit="2", memory_limit="2Gi")
DATAGEN_RESOURCES = ResourceConfig(
    cpu_request="500m", memory_request="512Mi", cpu_limit="2", memory_limit="2Gi"
)


def ingest_step(source: str) -> StepConfig:
    """``ingest_<source>``: load the source's new lake objects into ``staging.<source>``."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; known sources: {', '.join(SOURCES)}")
    return StepConfig(
        name=f"ingest_{source}",
        image=ImageKind.PIPELINE,
        argv=("c360-ingest", "load", "--source", source),
        resources=INGEST_RESOURCES,
        description=f"Load new raw/{source}/ objects from the lake into staging.{source}.",
    )


def ingest_steps() -> list[StepConfig]:
    """One load step per source of the contract, in contract order."""
    return [ingest_step(source) for source in SOURCES]


# Task logs are files, not terminals: dbt's colour codes would only clutter them.
DBT_ENV = {"DBT_USE_COLORS": "false"}


def _dbt(name: str, *args: str, description: str, publishes_docs: bool = False) -> StepConfig:
    return StepConfig(
        name=name,
        image=ImageKind.DBT,
        argv=("dbt", *args),
        env=DBT_ENV,
        resources=DBT_RESOURCES,
        description=description,
        publishes_docs=publishes_docs,
    )


DBT_SOURCE_FRESHNESS = _dbt(
    "dbt_source_freshness", "source", "freshness", description="Check that every source was loaded recently."
)
DBT_BUILD_STAGING = _dbt(
    "dbt_build_staging", "build", "--selector", "staging", description="Build and test the staging models."
)
DBT_SNAPSHOT = _dbt(
    "dbt_snapshot", "snapshot", "--selector", "snapshots", description="Record customer history (SCD2)."
)
DBT_BUILD_MARTS = _dbt(
    "dbt_build_marts", "build", "--selector", "marts", description="Build and test the star schema."
)
DBT_DOCS_GENERATE = _dbt(
    "dbt_docs_generate", "docs", "generate", description="Render the dbt docs site.", publishes_docs=True
)

# The marts `dbt_build_marts` builds in `production` (published as Airflow assets).
MART_MODELS = ("dim_customers", "dim_date", "fct_orders", "fct_support_tickets", "customer_360")

DBT_STEPS: tuple[StepConfig, ...] = (
    DBT_SOURCE_FRESHNESS,
    DBT_BUILD_STAGING,
    DBT_SNAPSHOT,
    DBT_BUILD_MARTS,
    DBT_DOCS_GENERATE,
)


def generate_day_step(*generate_args: str) -> StepConfig:
    """``generate_day``: write one more day of source data into the lake with the generator."""
    return StepConfig(
        name="generate_day",
        image=ImageKind.PIPELINE,
        argv=("c360-datagen", "generate", *generate_args),
        resources=DATAGEN_RESOURCES,
        description="Generate the next day of source data into the lake.",
    )


def run_day(dag_run: object) -> str:
    """The day a run simulates, ``YYYY-MM-DD``: its logical date, or when it runs if it has none.

    Airflow 3 gives a manually triggered run (the UI's Trigger button, ``airflow dags trigger``, the
    REST API without ``logical_date``) no logical date, and then no ``ds`` either; such a run
    simulates the day it runs on. Registered as the DAG macro ``run_day``.
    """
    moment = getattr(dag_run, "logical_date", None) or dag_run.run_after  # type: ignore[attr-defined]
    return moment.date().isoformat()


def day_index(logical_day: str, start_date: str) -> int:
    """Generator day K for a logical date: whole days since the dataset's start date (day 0).

    Registered as the DAG macro ``day_index`` so the argv template stays readable.
    """
    delta = date.fromisoformat(logical_day) - date.fromisoformat(start_date)
    if delta.days < 0:
        raise ValueError(f"logical date {logical_day} is before the dataset's start date {start_date}")
    return delta.days
