"""Run one step's argv as a local subprocess: env, streamed output, exit code, clean kills.

Free of Airflow imports on purpose: the local operator uses it inside a task, and ``make demo`` /
``make docs-serve`` use it to run the generator and dbt without paying for importing Airflow.

The child gets ``Settings.task_env()`` (the same keys a pod receives from its ConfigMap and Secret)
on top of this process's environment, so the virtualenv's ``PATH`` still finds ``c360-ingest`` and
``dbt``. It runs in its own process group, so a timeout or kill takes the whole tree down.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

from customer360.settings import get_settings

# How long a local step gets to exit after SIGTERM before it is killed.
LOCAL_KILL_GRACE_SECONDS = 10.0


class StepFailedError(RuntimeError):
    """A local step exited non-zero; the message carries its argv, exit code and last output line."""

    def __init__(self, step_name: str, exit_code: int, last_line: str) -> None:
        self.step_name = step_name
        self.exit_code = exit_code
        self.last_line = last_line
        super().__init__(f"step {step_name!r} exited with code {exit_code}; last output: {last_line!r}")


def command_line(argv: Sequence[str]) -> str:
    """The argv as a shell-readable line, for logs and task docs."""
    return shlex.join(argv)


def local_step_env(
    step_env: Mapping[str, str], base: Mapping[str, str] | None = None, login_role: str | None = None
) -> dict[str, str]:
    """This process's env + ``Settings.task_env(login_role)`` + the step's extras (later wins).

    The interpreter's bin directory goes first on ``PATH``: Airflow may be started without the
    virtualenv activated, and the step's console scripts live next to ``sys.executable``.
    """
    env = dict(os.environ if base is None else base)
    env.update(get_settings().task_env(login_role))
    env.update(step_env)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, *[p for p in env.get("PATH", "").split(os.pathsep) if p]])
    env.setdefault("PYTHONUNBUFFERED", "1")  # lines reach the task log as they are printed
    return env


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(pgid, sig)


def _live_group_members(pgid: int) -> list[int]:
    """Processes still running in the group (zombies waiting for a reaper do not count)."""
    members = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def terminate_process_group(process: subprocess.Popen[str], grace_seconds: float) -> None:
    """SIGTERM the child's whole process group, SIGKILL what is left after ``grace_seconds``.

    Returns only when no member of the group runs any more: dbt or a loader that forked helpers
    must not keep writing after Airflow has marked the task failed.
    """
    if process.poll() is not None:
        return
    pgid = process.pid  # start_new_session=True made the child its group's leader
    _signal_group(pgid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        _signal_group(pgid, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + grace_seconds
    while _live_group_members(pgid):
        if time.monotonic() > deadline:
            _signal_group(pgid, signal.SIGKILL)
            return
        time.sleep(0.1)


def dbt_target_dir(env: Mapping[str, str]) -> Path:
    """Where the step's dbt writes artifacts: ``DBT_TARGET_PATH`` or ``<DBT_PROJECT_DIR>/target``."""
    project = Path(env.get("DBT_PROJECT_DIR", "."))
    target = Path(env.get("DBT_TARGET_PATH", "target"))
    return target if target.is_absolute() else project / target


def keep_dbt_run_results(step_name: str, env: Mapping[str, str], since: float) -> Path | None:
    """Copy ``run_results.json`` to ``run_results/<step>.json`` next to it, if this step wrote one.

    Every dbt command overwrites ``target/run_results.json``, so after the DAG only the last
    step's (docs generate) would be left; keeping one copy per step lets ``make demo`` and a
    developer read the test results of each build after the fact.
    """
    target = dbt_target_dir(env)
    results = target / "run_results.json"
    if not results.exists() or results.stat().st_mtime < since:
        return None  # dbt stopped before writing results; an older file belongs to another step
    kept = target / "run_results" / f"{step_name}.json"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(results, kept)
    return kept


def run_streaming(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log: logging.Logger | Any,
    on_start: Callable[[subprocess.Popen[str]], None] | None = None,
    kill_grace_seconds: float = LOCAL_KILL_GRACE_SECONDS,
) -> None:
    """Run ``argv``, logging each output line as it comes; raise :class:`StepFailedError` if non-zero.

    Whatever interrupts the wait (Airflow's timeout raises inside this loop) the child's process
    group is terminated before the exception leaves, so no orphan keeps writing to the warehouse.
    """
    log.info("Running step %s: %s", name, command_line(argv))
    process = subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
        start_new_session=True,  # own process group: killpg reaches dbt's and ingest's children
    )
    if on_start is not None:
        on_start(process)
    last_line = ""
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            if line:
                last_line = line
            log.info("%s", line)
        exit_code = process.wait()
    finally:
        terminate_process_group(process, kill_grace_seconds)
    if exit_code != 0:
        raise StepFailedError(name, exit_code, last_line)
    log.info("Step %s finished with exit code 0", name)
