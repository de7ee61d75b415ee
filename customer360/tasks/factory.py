"""The one task factory: a :class:`StepConfig` becomes the operator of the selected runtime.

DAG files call :func:`build_step_task` and never learn which runtime they got; the runtime is
``C360_TASK_RUNTIME`` (``local`` by default, ``kubernetes`` in the cluster's Airflow image).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from customer360.tasks._common import selected_runtime
from customer360.tasks.config import StepConfig
from customer360.tasks.constants import TaskRuntime


def build_step_task(
    step: StepConfig, *, runtime: TaskRuntime | str | None = None, **task_kwargs: Any
) -> BaseOperator:
    """Return the operator that runs ``step``; ``task_kwargs`` go to Airflow (retries, outlets, ...)."""
    chosen = TaskRuntime(runtime) if runtime is not None else selected_runtime()
    if chosen is TaskRuntime.KUBERNETES:
        # Imported only when asked for: the Kubernetes client is heavy for a local DAG parse.
        from customer360.tasks.kubernetes import KubernetesStepOperator

        return KubernetesStepOperator(step=step, **task_kwargs)
    from customer360.tasks.local import LocalStepOperator

    return LocalStepOperator(step=step, **task_kwargs)
