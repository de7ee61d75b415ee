"""The task factory and its operators: one :class:`StepConfig` becomes a task of the chosen runtime.

DAG files call :func:`build_step_task` and never learn which runtime they got: ``C360_TASK_RUNTIME``
is ``local`` by default (a subprocess of the Airflow task, :class:`LocalStepOperator`) and
``kubernetes`` in the cluster's Airflow image (a pod, ``customer360.tasks.pod_operator``). Both
variants share :class:`StepOperatorBase`, so a step's task id, documentation, retries, timeout and
outlets are set once, from the step.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator

from customer360.settings import PROJECT_ROOT
from customer360.tasks.assets import assets
from customer360.tasks.local_process import (
    LOCAL_KILL_GRACE_SECONDS,
    command_line,
    keep_dbt_run_results,
    local_step_env,
    run_streaming,
    terminate_process_group,
)
from customer360.tasks.steps import ImageKind, StepConfig, TaskRuntime, selected_runtime


def task_doc(step: StepConfig) -> str:
    """Markdown shown on the task in the Airflow UI: what it does and the command it runs."""
    lines = [f"**{step.name}** ({step.image.value} image)", ""]
    if step.description:
        lines += [step.description, ""]
    lines += ["```", command_line(step.argv), "```"]
    return "\n".join(lines)


def step_task_kwargs(step: StepConfig) -> dict[str, Any]:
    """What Airflow learns from the step itself: id, docs, retries, timeout, outlets."""
    return {
        "task_id": step.name,
        "doc_md": task_doc(step),
        "execution_timeout": step.timeout,
        "outlets": assets(step.outlets),
        **step.retry.airflow_kwargs(),
    }


class StepOperatorBase:
    """Mixin placed before the Airflow operator class: ``class X(StepOperatorBase, SomeOperator)``."""

    ui_color = "#e8f1fb"

    def __init__(self, *, step: StepConfig, **kwargs: Any) -> None:
        self.step = step
        super().__init__(**{**step_task_kwargs(step), **kwargs})


class LocalStepOperator(StepOperatorBase, BaseOperator):
    """Run a step's argv as a local subprocess (``C360_TASK_RUNTIME=local``).

    The process handling lives in :mod:`customer360.tasks.local_process`; this adds what Airflow
    needs: templated argv and env, ``on_kill`` (Airflow calls it on SIGTERM and on execution
    timeout) and, for dbt steps, keeping each step's ``run_results.json``.
    """

    template_fields = ("argv", "extra_env")

    def __init__(
        self,
        *,
        step: StepConfig,
        cwd: Path | None = None,
        kill_grace_seconds: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(step=step, **kwargs)
        self.argv: list[str] = list(step.argv)
        self.extra_env: dict[str, str] = dict(step.env)
        self.cwd = cwd or PROJECT_ROOT
        self.kill_grace_seconds = (
            LOCAL_KILL_GRACE_SECONDS if kill_grace_seconds is None else kill_grace_seconds
        )
        self._process: subprocess.Popen[str] | None = None

    def execute(self, context: Any) -> None:
        # The role the chart's Secret gives this step's pod: a missing grant fails here too.
        env = local_step_env(self.extra_env, login_role=self.step.image.warehouse_role)
        started = time.time()
        try:
            run_streaming(
                self.step.name,
                self.argv,
                env=env,
                cwd=self.cwd,
                log=self.log,
                on_start=self._remember,
                kill_grace_seconds=self.kill_grace_seconds,
            )
        finally:
            if self.step.image is ImageKind.DBT:
                kept = keep_dbt_run_results(self.step.name, env, since=started)
                if kept:
                    self.log.info("dbt run results of this step kept in %s", kept)

    def _remember(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    def on_kill(self) -> None:
        """Called by Airflow on SIGTERM and on execution timeout: stop the child and its children."""
        if self._process is not None:
            self.log.warning("Stopping step %s (pid %s)", self.step.name, self._process.pid)
            terminate_process_group(self._process, self.kill_grace_seconds)


def build_step_task(
    step: StepConfig, *, runtime: TaskRuntime | str | None = None, **task_kwargs: Any
) -> BaseOperator:
    """Return the operator that runs ``step``; ``task_kwargs`` override what the step sets."""
    chosen = TaskRuntime(runtime) if runtime is not None else selected_runtime()
    if chosen is TaskRuntime.KUBERNETES:
        # Imported only when asked for: the Kubernetes provider is heavy for a local DAG parse.
        from customer360.tasks.pod_operator import KubernetesStepOperator

        return KubernetesStepOperator(step=step, **task_kwargs)
    return LocalStepOperator(step=step, **task_kwargs)
