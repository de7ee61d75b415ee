"""Run Airflow's own CLI against the embedded configuration (one subprocess per command).

Airflow reads its configuration once per process at import time, so every command runs in a fresh
``airflow`` process with the env from :func:`harness.embedded_airflow.env.airflow_env`; the
caller's process never imports Airflow with the wrong settings.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.embedded_airflow.env import airflow_env
from harness.settings import HarnessSettings


def airflow_executable() -> str:
    """The ``airflow`` console script of this interpreter's environment."""
    return str(Path(sys.executable).parent / "airflow")


def run_airflow(
    settings: HarnessSettings,
    args: Sequence[str],
    *,
    log_file: Path | None = None,
    on_line: Callable[[str], None] | None = None,
) -> int:
    """Run ``airflow <args>``; output goes to ``log_file`` (appended) and to ``on_line``; return exit code."""
    env = airflow_env(settings)
    process = subprocess.Popen(
        [airflow_executable(), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        bufsize=1,
    )
    assert process.stdout is not None
    if log_file:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    log_handle = log_file.open("a", encoding="utf-8") if log_file else None
    try:
        for line in process.stdout:
            if log_handle:
                log_handle.write(line)
                log_handle.flush()
            if on_line:
                on_line(line.rstrip("\n"))
        return process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait()
        if log_handle:
            log_handle.close()


def migrate(settings: HarnessSettings, *, log_file: Path | None = None) -> None:
    """``airflow db migrate`` into Airflow's metadata database (the embedded stack's privilege model
    created it, owned by Airflow's role)."""
    code = run_airflow(settings, ["db", "migrate"], log_file=log_file)
    if code != 0:
        where = f"; see {log_file}" if log_file else ""
        raise RuntimeError(f"`airflow db migrate` failed with exit code {code}{where}")


def dags_test(
    settings: HarnessSettings,
    dag_id: str,
    *,
    logical_date: str | None = None,
    mark_success_pattern: str | None = None,
    log_file: Path | None = None,
    on_line: Callable[[str], None] | None = None,
) -> int:
    """Run one DAG run in-process (``airflow dags test``); non-zero when the run failed.

    ``mark_success_pattern`` (a regex of task ids) marks those tasks successful without running
    them, e.g. to rerun only the dbt tail of the DAG against an already loaded warehouse.
    """
    args = ["dags", "test", dag_id]
    if logical_date:
        args.append(logical_date)
    if mark_success_pattern:
        args += ["--mark-success-pattern", mark_success_pattern]
    return run_airflow(settings, args, log_file=log_file, on_line=on_line)
