"""The one base of every step operator; each runtime is a thin variant of it.

``StepOperatorBase`` owns the step config and the Airflow-facing identity of the task (task id,
documentation); the variants decide only *where* the step's argv runs: a subprocess on this
machine (:mod:`customer360.tasks.local`) or a pod (:mod:`customer360.tasks.kubernetes`).
"""

from __future__ import annotations

from abc import ABCMeta
from typing import Any, ClassVar

from customer360.tasks._common import task_doc
from customer360.tasks.config import StepConfig
from customer360.tasks.constants import TaskRuntime


class StepOperatorBase(metaclass=ABCMeta):
    """Mixin placed before the Airflow operator class: ``class X(StepOperatorBase, SomeOperator)``."""

    runtime: ClassVar[TaskRuntime]
    ui_color = "#e8f1fb"

    def __init__(self, *, step: StepConfig, **kwargs: Any) -> None:
        self.step = step
        kwargs.setdefault("task_id", step.name)
        kwargs.setdefault("doc_md", task_doc(step))
        super().__init__(**kwargs)
