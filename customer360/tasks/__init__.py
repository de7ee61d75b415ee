"""The task factory: one step config -> a KubernetesPodOperator or a local subprocess operator.

Public surface: :class:`StepConfig`, :class:`ResourceConfig`, :func:`build_step_task` and the step
catalogue in :mod:`customer360.tasks.steps`. The runtime variants live in ``local`` and
``kubernetes``; everything a pod gets besides its command lives in ``pod_defaults``.
"""

from __future__ import annotations

from customer360.tasks.config import ResourceConfig, StepConfig
from customer360.tasks.constants import ImageKind, TaskRuntime
from customer360.tasks.factory import build_step_task

__all__ = ["ImageKind", "ResourceConfig", "StepConfig", "TaskRuntime", "build_step_task"]
