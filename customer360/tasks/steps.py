"""The pipeline's steps: what each DAG task runs, in which image, with which retries and outlets.

Free of Airflow and of the Kubernetes client: a :class:`StepConfig` is runtime-neutral, and the
same object becomes a pod or a local subprocess (:mod:`customer360.tasks.operators`), which is what
keeps the two runtimes on one code path (docs/architecture.md). DAG files pick steps from the
catalogue below instead of spelling commands, so the argv a pod runs and the argv a subprocess runs
are one definition (the table in docs/interfaces.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml

from customer360.contract import (
    DBT_ROLE,
    LAKE_BUCKET,
    LOADER_ROLE,
    PRODUCTION_SCHEMA,
    RAW_PREFIX,
    SOURCES,
    STAGING_SCHEMA,
)
from customer360.settings import PROJECT_ROOT, Settings


class TaskRuntime(StrEnum):
    """Where a pipeline step runs; chosen by ``C360_TASK_RUNTIME``."""

    LOCAL = "local"
    KUBERNETES = "kubernetes"


class ImageKind(StrEnum):
    """Which of the project's images a step needs (``Settings.pipeline_image`` / ``dbt_image``)."""

    PIPELINE = "pipeline"
    DBT = "dbt"

    @property
    def warehouse_role(self) -> str:
        """The role its steps log in as: the pipeline image's as the loader (its pods get the task
        Secret), the dbt image's as dbt (the dbt Secret); the local runtime does the same."""
        return DBT_ROLE if self is ImageKind.DBT else LOADER_ROLE


# Labels on every task pod, so `kubectl logs -l customer360/step=ingest-users` works.
PART_OF_LABEL = "app.kubernetes.io/part-of"
PART_OF_VALUE = "customer360"
STEP_LABEL = "customer360/step"

_TASK_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class StepConfigError(ValueError):
    """A step config that cannot describe a runnable task (empty argv, bad id)."""


def selected_runtime(settings: Settings | None = None) -> TaskRuntime:
    """The runtime ``C360_TASK_RUNTIME`` names (the settings already refused any other value)."""
    return TaskRuntime((settings or Settings()).task_runtime)


@dataclass(frozen=True)
class ResourceConfig:
    """Kubernetes requests and limits of one step's container (quantities in Kubernetes notation)."""

    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    cpu_limit: str = "1"
    memory_limit: str = "1Gi"

    def requests(self) -> dict[str, str]:
        return {"cpu": self.cpu_request, "memory": self.memory_request}

    def limits(self) -> dict[str, str]:
        return {"cpu": self.cpu_limit, "memory": self.memory_limit}


@dataclass(frozen=True)
class RetryPolicy:
    """How Airflow retries a failed step (exponential backoff from ``delay`` up to ``max_delay``)."""

    retries: int = 0
    delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=10)

    def airflow_kwargs(self) -> dict[str, object]:
        if not self.retries:
            return {"retries": 0}
        return {
            "retries": self.retries,
            "retry_delay": self.delay,
            "retry_exponential_backoff": 2.0,
            "max_retry_delay": self.max_delay,
        }


# Steps that talk to the lake and the warehouse over the network retry; dbt steps do not: a failed
# test or broken SQL fails the same way again, and dbt's profile retries a warehouse that blips.
NETWORK_RETRY = RetryPolicy(retries=3)
NO_RETRY = RetryPolicy()


# ---- asset names (the Airflow objects are built from them in customer360.tasks.assets) ----------
LAKE_RAW = "lake.raw"
LAKE_RAW_URI = f"s3://{LAKE_BUCKET}/{RAW_PREFIX}"


def staging_asset(source: str) -> str:
    return f"warehouse.{STAGING_SCHEMA}.{source}"


def mart_asset(model: str) -> str:
    return f"warehouse.{PRODUCTION_SCHEMA}.{model}"


@cache
def mart_models(project_dir: Path = PROJECT_ROOT / "dbt") -> tuple[str, ...]:
    """The models of the dbt project's marts folder, as its YAML documents them (one source)."""
    documented = yaml.safe_load((project_dir / "models" / "marts" / "_marts__models.yml").read_text())
    return tuple(model["name"] for model in documented["models"])


@dataclass(frozen=True)
class StepConfig:
    """One pipeline step: a task id, its image, the one command it runs, and how Airflow treats it.

    ``argv`` items may hold Jinja templates (rendered by Airflow before the step runs); ``env``
    holds only non-secret extras, because credentials reach a step from ``Settings.task_env()``
    locally or from the task Secret in a cluster. ``outlets`` are the names of the Airflow assets
    the step updates.
    """

    name: str
    image: ImageKind
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    resources: ResourceConfig = field(default_factory=ResourceConfig)
    description: str = ""
    retry: RetryPolicy = NO_RETRY
    timeout: timedelta = timedelta(minutes=30)
    outlets: tuple[str, ...] = ()
    # Writes the dbt docs site: in a cluster with a docs volume, its target dir is that volume.
    publishes_docs: bool = False

    def __post_init__(self) -> None:
        if not _TASK_ID.match(self.name):
            raise StepConfigError(f"step name {self.name!r} must be a snake_case Airflow task id")
        if not self.argv or not all(isinstance(part, str) and part for part in self.argv):
            raise StepConfigError(f"step {self.name!r} needs a non-empty argv of non-empty strings")
        # A frozen dataclass still holds the caller's mutable objects; copy them so the catalogue
        # of steps cannot be changed through a reference someone kept.
        object.__setattr__(self, "argv", tuple(self.argv))
        object.__setattr__(self, "env", dict(self.env))
        object.__setattr__(self, "outlets", tuple(self.outlets))

    @property
    def step_label(self) -> str:
        """Value of the ``customer360/step`` pod label: the task id with dashes."""
        return self.name.replace("_", "-")


@dataclass(frozen=True)
class DatasetConfig:
    """The generated dataset that ``make demo`` starts from and ``customer360_new_day`` extends.

    Both must agree on seed, users and start date: day K of the generator is a pure function of
    them, so the simulator's "next day" continues exactly the dataset the demo loaded.
    """

    users: int = 2_000
    days: int = 3
    seed: int = 360
    start_date: str = "2026-11-01"

    def generate_args(self) -> tuple[str, ...]:
        """Arguments shared by every ``c360-datagen generate`` call for this dataset."""
        return ("--users", str(self.users), "--seed", str(self.seed), "--start-date", self.start_date)


DEMO_DATASET = DatasetConfig()

# ---- the catalogue ----------------------------------------------------------------------------
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
        retry=NETWORK_RETRY,
        outlets=(staging_asset(source),),
    )


def ingest_steps() -> list[StepConfig]:
    """One load step per source of the contract, in contract order."""
    return [ingest_step(source) for source in SOURCES]


# Task logs are files, not terminals: dbt's colour codes would only clutter them.
DBT_ENV = {"DBT_USE_COLORS": "false"}


def _dbt(name: str, *args: str, description: str, **options: object) -> StepConfig:
    return StepConfig(
        name=name,
        image=ImageKind.DBT,
        argv=("dbt", *args),
        env=DBT_ENV,
        resources=DBT_RESOURCES,
        description=description,
        **options,  # type: ignore[arg-type]
    )


DBT_SOURCE_FRESHNESS = _dbt(
    "dbt_source_freshness",
    "source",
    "freshness",
    description="Check that every source was loaded recently.",
    timeout=timedelta(minutes=10),
)
DBT_BUILD_STAGING = _dbt(
    "dbt_build_staging", "build", "--selector", "staging", description="Build and test the staging models."
)
DBT_SNAPSHOT = _dbt(
    "dbt_snapshot", "snapshot", "--selector", "snapshots", description="Record customer history (SCD2)."
)
DBT_BUILD_MARTS = _dbt(
    "dbt_build_marts",
    "build",
    "--selector",
    "marts",
    description="Build and test the star schema.",
    timeout=timedelta(hours=1),
    outlets=tuple(mart_asset(model) for model in mart_models()),
)
DBT_DOCS_GENERATE = _dbt(
    "dbt_docs_generate",
    "docs",
    "generate",
    description="Render the dbt docs site.",
    timeout=timedelta(minutes=15),
    publishes_docs=True,
)

# Daily runs are incremental; a full refresh rebuilds staging and the marts from the raw tables
# (docs/data-model.md, "Incremental design"). The DAG runs one every Sunday (ISO weekday 7 of the
# run's `run_after`, UTC) and whenever it is triggered with the param `full_refresh`. The
# placeholder `--no-fail-fast` is dbt's default: an argv item may not be empty.
FULL_REFRESH_WEEKDAY = 7
FULL_REFRESH_ARG = (
    "{{ '--full-refresh' if params.full_refresh or dag_run.run_after.isoweekday() == "
    f"{FULL_REFRESH_WEEKDAY} else '--no-fail-fast' }}}}"
)


def with_full_refresh_arg(step: StepConfig) -> StepConfig:
    """The dbt build `step` taking the DAG's full-refresh decision (FULL_REFRESH_ARG)."""
    return replace(step, argv=(*step.argv, FULL_REFRESH_ARG))


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
        retry=NETWORK_RETRY,
        outlets=(LAKE_RAW,),
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
