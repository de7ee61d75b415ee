"""The local runtime: real subprocesses, streamed output, exit codes, env and clean kills."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from customer360.contract import DBT_ROLE, LOADER_ROLE
from customer360.tasks.local_process import (
    StepFailedError,
    keep_dbt_run_results,
    local_step_env,
    run_streaming,
)
from customer360.tasks.operators import LocalStepOperator
from customer360.tasks.steps import ImageKind, StepConfig

PY = sys.executable


class Timeout(Exception):
    """Stands in for AirflowTaskTimeout, raised from SIGALRM exactly like Airflow's timeout()."""


@pytest.fixture(autouse=True)
def task_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Explicit settings so task_env() works without a running stack."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    # What `c360-stack up` generates: the password each step's warehouse role logs in with.
    roles = {f"{role}_password": f"{role}-secret" for role in (LOADER_ROLE, DBT_ROLE)}
    (state_dir / "credentials.json").write_text(json.dumps(roles))
    monkeypatch.setenv("C360_STATE_DIR", str(state_dir))
    monkeypatch.setenv("C360_PG_PASSWORD", "pg-secret")
    monkeypatch.setenv("C360_S3_ACCESS_KEY_ID", "key-id")
    monkeypatch.setenv("C360_S3_SECRET_ACCESS_KEY", "key-secret")
    monkeypatch.setenv("C360_PG_PORT", "61234")


def python_step(code: str, name: str = "probe", **env: str) -> StepConfig:
    return StepConfig(name=name, image=ImageKind.PIPELINE, argv=(PY, "-c", code), env=env)


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_output_reaches_the_task_log_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    code = "import sys\nfor i in range(3): print('line', i)\nprint('err', file=sys.stderr)"
    LocalStepOperator(step=python_step(code)).execute(context={})
    out = capsys.readouterr().out  # Airflow's task logger writes here outside a task runner
    positions = [out.index(text) for text in ("line 0", "line 1", "line 2", "err ")]
    assert positions == sorted(positions)


def test_lines_are_logged_while_the_step_still_runs(tmp_path: Path) -> None:
    """The child prints its second line only after the log has shown its first one."""
    go = tmp_path / "go"
    code = (
        "import pathlib, time\n"
        "print('first', flush=True)\n"
        f"go = pathlib.Path({str(go)!r})\n"
        "deadline = time.time() + 20\n"
        "while not go.exists() and time.time() < deadline: time.sleep(0.05)\n"
        "print('second' if go.exists() else 'second-late', flush=True)\n"
    )
    lines: list[str] = []

    class Log:
        def info(self, message: str, *args: object) -> None:
            line = message % args if args else message
            lines.append(line)
            if line == "first":
                go.touch()

    run_streaming("probe", (PY, "-c", code), env=local_step_env({}), cwd=tmp_path, log=Log())
    assert "second" in lines
    assert "second-late" not in lines


def test_non_zero_exit_fails_the_task_with_code_and_last_line() -> None:
    op = LocalStepOperator(
        step=python_step("print('loading'); print('boom: bad header'); raise SystemExit(3)")
    )
    with pytest.raises(StepFailedError) as failure:
        op.execute(context={})
    assert failure.value.exit_code == 3
    assert failure.value.last_line == "boom: bad header"


def test_child_gets_the_task_env_of_a_pod_and_step_extras_win() -> None:
    code = (
        "import json, os; print(json.dumps({k: os.environ.get(k) for k in "
        "['C360_PG_PORT', 'C360_PG_PASSWORD', 'C360_S3_ACCESS_KEY_ID', 'DBT_TARGET', 'EXTRA']}))"
    )
    lines: list[str] = []

    class Capture:
        def info(self, message: str, *args: object) -> None:
            lines.append(message % args if args else message)

    step = python_step(code, EXTRA="from-step", DBT_TARGET="override")
    run_streaming(step.name, step.argv, env=local_step_env(step.env), cwd=Path.cwd(), log=Capture())
    seen = json.loads(next(line for line in lines if line.startswith("{")))
    assert seen == {
        "C360_PG_PORT": "61234",
        "C360_PG_PASSWORD": "pg-secret",
        "C360_S3_ACCESS_KEY_ID": "key-id",
        "DBT_TARGET": "override",
        "EXTRA": "from-step",
    }


@pytest.mark.parametrize(("kind", "role"), [(ImageKind.PIPELINE, LOADER_ROLE), (ImageKind.DBT, DBT_ROLE)])
def test_each_step_logs_in_to_the_warehouse_as_its_own_role(
    kind: ImageKind, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in the chart's task Secrets: loader steps as the loader role, dbt steps as the dbt role."""
    code = "import os; print('login', os.environ['C360_PG_USER'], os.environ['C360_PG_PASSWORD'])"
    LocalStepOperator(step=StepConfig(name="probe", image=kind, argv=(PY, "-c", code))).execute(context={})
    assert f"login {role} {role}-secret" in capsys.readouterr().out


def test_venv_bin_is_first_on_path_so_console_scripts_resolve() -> None:
    env = local_step_env({}, base={"PATH": "/usr/bin"})
    assert env["PATH"].split(os.pathsep)[0] == str(Path(PY).parent)


def test_on_kill_stops_the_child_and_its_children(tmp_path: Path) -> None:
    """What Airflow calls on SIGTERM of the task: the whole process group goes, the task fails."""
    pids = tmp_path / "pids"
    code = (
        "import subprocess, sys, time, pathlib\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"pathlib.Path({str(pids)!r}).write_text(f'{{child.pid}}')\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    op = LocalStepOperator(step=python_step(code), kill_grace_seconds=2)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            op.execute(context={})
        except BaseException as err:  # the test inspects it
            outcome.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    while not (pids.exists() and pids.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)  # the file exists a moment before its content does
    grandchild = int(pids.read_text())
    child = op._process.pid
    op.on_kill()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert isinstance(outcome[0], StepFailedError)
    assert outcome[0].exit_code == -signal.SIGTERM
    assert not _pid_alive(child)
    assert not _pid_alive(grandchild)


def test_timeout_inside_the_wait_kills_the_child(tmp_path: Path) -> None:
    """Airflow's execution_timeout raises from SIGALRM inside execute(); no orphan may survive it."""
    started = tmp_path / "started"
    code = (
        f"import pathlib, time; pathlib.Path({str(started)!r}).write_text('x'); "
        "print('ok', flush=True); time.sleep(120)"
    )
    op = LocalStepOperator(step=python_step(code), kill_grace_seconds=2)

    def on_alarm(*_: object) -> None:
        raise Timeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(3)
    try:
        with pytest.raises(Timeout):
            op.execute(context={})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert started.exists()
    assert op._process is not None
    assert op._process.poll() is not None, "child still running after the timeout"


def test_missing_executable_fails_clearly() -> None:
    op = LocalStepOperator(
        step=StepConfig(name="nope", image=ImageKind.PIPELINE, argv=("c360-no-such-command", "x"))
    )
    with pytest.raises(FileNotFoundError, match="c360-no-such-command"):
        op.execute(context={})


def test_argv_and_env_are_airflow_templates() -> None:
    assert set(LocalStepOperator.template_fields) == {"argv", "extra_env"}


def test_dbt_run_results_are_kept_per_step(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    results = target / "run_results.json"
    env = {"DBT_PROJECT_DIR": str(tmp_path)}

    results.write_text('{"step": "staging"}')
    kept = keep_dbt_run_results("dbt_build_staging", env, since=time.time() - 5)
    assert kept == target / "run_results" / "dbt_build_staging.json"
    assert json.loads(kept.read_text()) == {"step": "staging"}

    # dbt that died before writing results: the older file belongs to another step, keep nothing
    assert keep_dbt_run_results("dbt_build_marts", env, since=time.time() + 5) is None
    assert not (target / "run_results" / "dbt_build_marts.json").exists()


def test_dbt_step_keeps_its_results_even_when_it_fails(tmp_path: Path) -> None:
    code = (
        "import os, pathlib; t = pathlib.Path(os.environ['DBT_PROJECT_DIR']) / 'target'; "
        "t.mkdir(exist_ok=True); "
        "(t / 'run_results.json').write_text('{\"failed\": true}'); raise SystemExit(1)"
    )
    step = StepConfig(
        name="dbt_build_marts",
        image=ImageKind.DBT,
        argv=(PY, "-c", code),
        env={"DBT_PROJECT_DIR": str(tmp_path)},
    )
    with pytest.raises(StepFailedError):
        LocalStepOperator(step=step).execute(context={})
    assert json.loads((tmp_path / "target" / "run_results" / "dbt_build_marts.json").read_text()) == {
        "failed": True
    }
