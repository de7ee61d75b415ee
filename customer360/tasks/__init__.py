"""Pipeline tasks: the steps (:mod:`.steps`) and the one factory that makes them Airflow tasks.

Public surface: :class:`~customer360.tasks.steps.StepConfig` and the step catalogue in
:mod:`customer360.tasks.steps`, and :func:`build_step_task` (:mod:`.operators`). What a pod gets
besides its command is :mod:`.pod_spec`; how a local step runs, :mod:`.local_process`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_step_task"]


def __getattr__(name: str) -> Any:
    # Lazy: the factory imports Airflow (seconds on a small machine); the demo and the docs server
    # use the Airflow-free parts of this package and should not pay for it.
    if name == "build_step_task":
        from customer360.tasks.operators import build_step_task

        return build_step_task
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
