"""Errors raised by the task factory, named for what went wrong."""

from __future__ import annotations


class StepConfigError(ValueError):
    """A step config that cannot describe a runnable task (empty argv, bad id, unknown runtime)."""


class StepFailedError(RuntimeError):
    """A local step exited non-zero; the message carries its argv, exit code and last output line."""

    def __init__(self, step_name: str, exit_code: int, last_line: str) -> None:
        self.step_name = step_name
        self.exit_code = exit_code
        self.last_line = last_line
        super().__init__(f"step {step_name!r} exited with code {exit_code}; last output: {last_line!r}")
