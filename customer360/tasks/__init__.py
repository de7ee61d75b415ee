"""The task factory: one step config -> a KubernetesPodOperator or a local subprocess operator.

Public surface: :class:`StepConfig`, :class:`ResourceConfig`, :func:`build_step_task` and the step
catalogue in :mod:`customer360.tasks.steps`. The runtime variants live in ``local`` and
``kubernetes``; everything a pod gets besides its command lives in ``pod_defaults``.
"""

from __future__ import annotations

from typing import Any

from customer360.tasks.config import ResourceConfig, StepConfig
from customer360.tasks.constants import ImageKind, TaskRuntime

__all__ = ["ImageKind", "ResourceConfig", "StepConfig", "TaskRuntime", "build_step_task"]


def __getattr__(name: str) -> Any:
    # Lazy: the factory imports Airflow (seconds on a small machine); the demo and the docs server
    # use the Airflow-free parts of this package and should not pay for it.
    if name == "build_step_task":
        from customer360.tasks.factory import build_step_task

        return build_step_task
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
