"""Config objects of the task factory: what one pipeline step runs and what it may consume.

A :class:`StepConfig` is runtime-neutral: the same object becomes a Kubernetes pod or a local
subprocess (see :mod:`customer360.tasks.factory`), which is what keeps the two runtimes on one
code path (docs/architecture.md, one code path, two runtimes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from customer360.tasks.constants import ImageKind
from customer360.tasks.exceptions import StepConfigError

_TASK_ID = re.compile(r"^[a-z][a-z0-9_]*$")


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
class StepConfig:
    """One pipeline step: a task id, the image it needs and the one command it runs.

    ``argv`` items may hold Jinja templates (rendered by Airflow before the step runs); ``env``
    holds only non-secret extras, because credentials reach a step from ``Settings.task_env()``
    locally or from the task Secret in a cluster.
    """

    name: str
    image: ImageKind
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    resources: ResourceConfig = field(default_factory=ResourceConfig)
    description: str = ""
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
