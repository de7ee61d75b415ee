"""Local runtime: a step's argv as a subprocess of the Airflow task (``C360_TASK_RUNTIME=local``).

A thin variant of :class:`StepOperatorBase`: the process handling lives in
:mod:`customer360.tasks.subprocess_runner`; this class adds what Airflow needs: templated argv
and env, ``on_kill`` (Airflow calls it on SIGTERM and on execution timeout) and, for dbt steps,
keeping each step's ``run_results.json``.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator

from customer360.settings import PROJECT_ROOT
from customer360.tasks.base import StepOperatorBase
from customer360.tasks.config import StepConfig
from customer360.tasks.constants import LOCAL_KILL_GRACE_SECONDS, ImageKind, TaskRuntime
from customer360.tasks.subprocess_runner import (
    keep_dbt_run_results,
    local_step_env,
    run_streaming,
    terminate_process_group,
)

__all__ = ["LocalStepOperator"]


class LocalStepOperator(StepOperatorBase, BaseOperator):
    """Run a step's argv as a local subprocess (``C360_TASK_RUNTIME=local``)."""

    runtime = TaskRuntime.LOCAL
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
        env = local_step_env(self.extra_env)
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
