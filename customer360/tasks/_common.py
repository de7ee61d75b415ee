"""Logic both runtimes share, private so that neither variant grows its own copy.

The promise of the factory is that a step does the same thing as a pod and as a subprocess. That
holds only if the pieces both variants use (which settings they read and when, how a command is
shown in the log, what a task's documentation says) are written once; this module is that once.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from customer360.settings import Settings, get_settings
from customer360.tasks.config import StepConfig
from customer360.tasks.constants import TaskRuntime
from customer360.tasks.exceptions import StepConfigError


def load_settings() -> Settings:
    """Settings from the environment, without touching the credentials file.

    Constructing ``Settings`` only reads env variables; credentials are read on first use of
    ``password``/``access_key_id``. Callers at DAG-parse time may therefore call this freely, and
    only the local runtime's ``execute`` asks for ``task_env()`` (which needs the stack's state).
    """
    return get_settings()


def selected_runtime(settings: Settings | None = None) -> TaskRuntime:
    """The runtime ``C360_TASK_RUNTIME`` asks for, with a clear error for an unknown value."""
    value = (settings or load_settings()).task_runtime
    try:
        return TaskRuntime(value)
    except ValueError:
        known = ", ".join(runtime.value for runtime in TaskRuntime)
        raise StepConfigError(f"C360_TASK_RUNTIME={value!r} is not one of: {known}") from None


def command_line(argv: Sequence[str]) -> str:
    """The argv as a shell-readable line, for logs and task docs."""
    return shlex.join(argv)


def task_doc(step: StepConfig) -> str:
    """Markdown shown on the task in the Airflow UI: what it does and the command it runs."""
    lines = [f"**{step.name}** ({step.image.value} image)", ""]
    if step.description:
        lines += [step.description, ""]
    lines += ["```", command_line(step.argv), "```"]
    return "\n".join(lines)
