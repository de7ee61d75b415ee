"""The factory picks the runtime from C360_TASK_RUNTIME; step configs refuse what cannot run."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from customer360.contract import SOURCES
from customer360.tasks import build_step_task
from customer360.tasks.operators import LocalStepOperator
from customer360.tasks.pod_operator import KubernetesStepOperator
from customer360.tasks.steps import (
    DBT_STEPS,
    ImageKind,
    StepConfig,
    StepConfigError,
    TaskRuntime,
    day_index,
    ingest_step,
    ingest_steps,
)

STEP = StepConfig(
    name="ingest_users", image=ImageKind.PIPELINE, argv=("c360-ingest", "load", "--source", "users")
)


@pytest.mark.parametrize(
    "value, operator", [("local", LocalStepOperator), ("kubernetes", KubernetesStepOperator)]
)
def test_env_selects_the_runtime(value: str, operator: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_TASK_RUNTIME", value)
    task = build_step_task(STEP, retries=2)
    assert type(task) is operator
    assert task.task_id == "ingest_users"
    assert task.retries == 2
    assert "c360-ingest load --source users" in task.doc_md


def test_local_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("C360_TASK_RUNTIME", raising=False)
    assert isinstance(build_step_task(STEP), LocalStepOperator)


def test_unknown_runtime_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="docker"):
        build_step_task(STEP, runtime="docker")
    monkeypatch.setenv("C360_TASK_RUNTIME", "docker")
    # The settings refuse it, naming the field and the values they take.
    with pytest.raises(ValidationError, match=r"task_runtime[\s\S]*'local' or 'kubernetes'"):
        build_step_task(STEP)


def test_explicit_runtime_overrides_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_TASK_RUNTIME", "kubernetes")
    assert isinstance(build_step_task(STEP, runtime=TaskRuntime.LOCAL), LocalStepOperator)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "Ingest-Users", "argv": ("x",)}, "snake_case"),
        ({"name": "ok", "argv": ()}, "non-empty argv"),
        ({"name": "ok", "argv": ("dbt", "")}, "non-empty argv"),
    ],
)
def test_step_config_refuses_what_cannot_run(kwargs: dict, message: str) -> None:
    with pytest.raises(StepConfigError, match=message):
        StepConfig(image=ImageKind.DBT, **kwargs)


def test_step_config_copies_mutable_inputs() -> None:
    env = {"A": "1"}
    step = StepConfig(name="s", image=ImageKind.DBT, argv=["dbt", "build"], env=env)  # type: ignore[arg-type]
    env["A"] = "2"
    assert step.env == {"A": "1"}
    assert step.argv == ("dbt", "build")


def test_catalogue_matches_the_interfaces_doc() -> None:
    assert [step.argv for step in ingest_steps()] == [("c360-ingest", "load", "--source", s) for s in SOURCES]
    assert {step.name: " ".join(step.argv) for step in DBT_STEPS} == {
        "dbt_source_freshness": "dbt source freshness",
        "dbt_build_staging": "dbt build --selector staging",
        "dbt_snapshot": "dbt snapshot --selector snapshots",
        "dbt_build_marts": "dbt build --selector marts",
        "dbt_docs_generate": "dbt docs generate",
    }
    assert {step.image for step in DBT_STEPS} == {ImageKind.DBT}
    with pytest.raises(ValueError, match="known sources"):
        ingest_step("crm")


def test_day_index_counts_days_from_the_start_date() -> None:
    assert day_index("2026-11-01", "2026-11-01") == 0
    assert day_index("2026-12-01", "2026-11-01") == 30
    with pytest.raises(ValueError, match="before the dataset's start date"):
        day_index("2026-10-31", "2026-11-01")
