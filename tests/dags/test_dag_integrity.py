"""DAG integrity: every file in dags/ parses cleanly, has the agreed shape and does no work at import."""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import boto3
import psycopg2
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import DAG, Asset
from dag_loading import DAG_FILES, DAGS_FOLDER, dags_of, import_dag_file

from customer360.contract import SOURCES
from customer360.settings import PROJECT_ROOT, Settings
from customer360.tasks.assets import LAKE_RAW
from customer360.tasks.operators import LocalStepOperator
from customer360.tasks.pod_operator import KubernetesStepOperator

ELT_EDGES = {
    ("ingest_users", "dbt_source_freshness"),
    ("ingest_orders", "dbt_source_freshness"),
    ("ingest_support_tickets", "dbt_source_freshness"),
    ("dbt_source_freshness", "dbt_build_staging"),
    ("dbt_build_staging", "dbt_snapshot"),
    ("dbt_snapshot", "dbt_build_marts"),
    ("dbt_build_marts", "dbt_docs_generate"),
}
LOAD_TASKS = {f"ingest_{source}" for source in SOURCES}


@pytest.fixture
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state dir without credentials and no credential env: reading one at parse time would fail."""
    for key in list(os.environ):
        if key.startswith("C360_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("C360_STATE_DIR", str(tmp_path / "empty-state"))


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture(scope="module")
def elt(dagbag: DagBag) -> DAG:
    return dagbag.dags["customer360_elt"]


@pytest.fixture(scope="module")
def new_day(dagbag: DagBag) -> DAG:
    return dagbag.dags["customer360_new_day"]


def test_dag_folder_holds_both_dags_and_no_import_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {"customer360_elt", "customer360_new_day"}


@pytest.mark.parametrize("runtime", ["local", "kubernetes"])
@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_without_warnings(
    path: Path, runtime: str, no_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("C360_TASK_RUNTIME", runtime)
    module, caught = import_dag_file(path)
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    assert dags_of(module), f"{path.name} defines no DAG"


@pytest.mark.parametrize("runtime", ["local", "kubernetes"])
@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_does_no_io_at_import(
    path: Path, runtime: str, no_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No socket, subprocess, database, S3 or credential access while the file is parsed."""
    calls: list[str] = []

    def forbid(what: str):
        def record(*args: object, **kwargs: object) -> None:
            calls.append(what)
            raise AssertionError(f"{what} called while parsing {path.name}")

        return record

    monkeypatch.setenv("C360_TASK_RUNTIME", runtime)
    monkeypatch.setattr(socket.socket, "connect", forbid("socket.connect"))
    monkeypatch.setattr(socket, "create_connection", forbid("socket.create_connection"))
    monkeypatch.setattr(subprocess, "Popen", forbid("subprocess.Popen"))
    monkeypatch.setattr(os, "system", forbid("os.system"))
    monkeypatch.setattr(psycopg2, "connect", forbid("psycopg2.connect"))
    monkeypatch.setattr(boto3, "client", forbid("boto3.client"))
    monkeypatch.setattr(Settings, "_secret", forbid("Settings credential read"))

    module, _ = import_dag_file(path)

    assert dags_of(module)
    assert calls == []


@pytest.mark.parametrize(
    "runtime, operator", [("local", LocalStepOperator), ("kubernetes", KubernetesStepOperator)]
)
def test_runtime_is_chosen_by_env_not_by_the_dag_file(
    runtime: str, operator: type, no_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("C360_TASK_RUNTIME", runtime)
    module, _ = import_dag_file(DAGS_FOLDER / "customer360_elt.py")
    dag = dags_of(module)["customer360_elt"]
    assert {type(task) for task in dag.tasks} == {operator}


def test_elt_task_graph_and_order(elt: DAG) -> None:
    edges = {(task.task_id, down) for task in elt.tasks for down in task.downstream_task_ids}
    assert edges == ELT_EDGES
    order = [task.task_id for task in elt.topological_sort()]
    assert set(order[:3]) == LOAD_TASKS
    assert order[3:] == [
        "dbt_source_freshness",
        "dbt_build_staging",
        "dbt_snapshot",
        "dbt_build_marts",
        "dbt_docs_generate",
    ]


def test_elt_schedule_and_run_policy(elt: DAG) -> None:
    assert elt.catchup is False
    assert elt.max_active_runs == 1
    assert elt.dagrun_timeout is not None
    # Daily cron OR new lake data (docs/architecture.md, docs/operations.md).
    assert "0 2 * * *" in repr(elt.timetable)
    assert elt.timetable.asset_condition == LAKE_RAW


@pytest.mark.parametrize("dag_id", ["customer360_elt", "customer360_new_day"])
def test_every_dag_is_tagged_documented_and_timed(dagbag: DagBag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert "customer360" in dag.tags
    assert dag.doc_md and dag.doc_md.strip().startswith(f"### {dag_id}")
    for task in dag.tasks:
        assert task.execution_timeout is not None and task.execution_timeout <= timedelta(hours=1), (
            task.task_id
        )
        assert task.doc_md, f"{task.task_id} has no doc"


def test_network_tasks_retry_with_exponential_backoff(elt: DAG, new_day: DAG) -> None:
    network_tasks = [elt.get_task(task_id) for task_id in LOAD_TASKS] + [new_day.get_task("generate_day")]
    for task in network_tasks:
        assert task.retries >= 2, task.task_id
        assert task.retry_exponential_backoff, task.task_id
        assert task.max_retry_delay is not None, task.task_id


def test_dbt_tasks_do_not_retry_a_failed_test(elt: DAG) -> None:
    for task in elt.tasks:
        if task.task_id.startswith("dbt_"):
            assert task.retries == 0, task.task_id


def test_assets_published_for_downstream_dags(elt: DAG, new_day: DAG) -> None:
    for source in SOURCES:
        assert [a.name for a in elt.get_task(f"ingest_{source}").outlets] == [f"warehouse.staging.{source}"]
    marts = elt.get_task("dbt_build_marts").outlets
    assert all(isinstance(asset, Asset) for asset in marts)
    # Every model the dbt project keeps in its marts folder is an asset, and nothing else is.
    mart_files = sorted(p.stem for p in (PROJECT_ROOT / "dbt" / "models" / "marts").glob("*.sql"))
    assert sorted(a.name.removeprefix("warehouse.production.") for a in marts) == mart_files
    assert new_day.get_task("generate_day").outlets == [LAKE_RAW]


def _rendered_generate_args(new_day: DAG, dag_run: SimpleNamespace) -> dict[str, str]:
    task = new_day.get_task("generate_day")
    params = {key: new_day.params[key] for key in new_day.params}
    context = {"dag_run": dag_run, "params": params, **new_day.user_defined_macros}
    rendered = [
        task.render_template(part, context, jinja_env=new_day.get_template_env()) for part in task.argv
    ]
    assert rendered[:2] == ["c360-datagen", "generate"]
    return dict(zip(rendered[2::2], rendered[3::2], strict=True))


def test_new_day_fills_the_lake_through_the_day_of_its_logical_date(new_day: DAG) -> None:
    scheduled = SimpleNamespace(
        logical_date=datetime(2026, 11, 4, tzinfo=UTC), run_after=datetime(2026, 11, 5, tzinfo=UTC)
    )
    args = _rendered_generate_args(new_day, scheduled)
    assert args["--through-day"] == "3"  # start date 2026-11-01 is day 0
    # The bucket is the configured one (C360_S3_BUCKET), not a name written into the DAG.
    assert "--target" not in args


def test_a_manual_trigger_without_logical_date_simulates_the_day_it_runs(new_day: DAG) -> None:
    manual = SimpleNamespace(logical_date=None, run_after=datetime(2026, 11, 11, 9, 30, tzinfo=UTC))
    assert _rendered_generate_args(new_day, manual)["--through-day"] == "10"


def test_new_day_starts_paused(new_day: DAG) -> None:
    assert new_day.is_paused_upon_creation is True


def test_dbt_builds_refresh_fully_on_sundays_and_on_request(elt: DAG) -> None:
    def rendered_last_arg(task_id: str, run_after: datetime, full_refresh: bool) -> str:
        task = elt.get_task(task_id)
        context = {"dag_run": SimpleNamespace(run_after=run_after), "params": {"full_refresh": full_refresh}}
        return task.render_template(task.argv[-1], context, jinja_env=elt.get_template_env())

    sunday, monday = datetime(2026, 11, 8, 2, tzinfo=UTC), datetime(2026, 11, 9, 2, tzinfo=UTC)
    assert elt.params["full_refresh"] is False
    for task_id in ("dbt_build_staging", "dbt_build_marts"):
        assert rendered_last_arg(task_id, sunday, False) == "--full-refresh"
        assert rendered_last_arg(task_id, monday, True) == "--full-refresh"
        assert rendered_last_arg(task_id, monday, False) == "--no-fail-fast"  # dbt's default
    assert "{{" not in " ".join(elt.get_task("dbt_snapshot").argv)
