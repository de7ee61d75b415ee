"""``make ui`` / ``make ui-stop``: the long-running Airflow services of the embedded runtime.

api-server (UI + execution API, loopback only), scheduler (LocalExecutor), dag-processor and
triggerer run detached, one process group each, with their pid in ``<state_dir>/airflow/run`` and
their output in ``<state_dir>/airflow/logs/<service>.log``. Starting is idempotent (a live service is
reused) and stopping only signals the process groups recorded in those pid files.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from harness.embedded_airflow.cli import airflow_executable, migrate
from harness.embedded_airflow.env import AirflowPaths, airflow_env, api_base_url, ensure_admin_password
from harness.settings import HarnessSettings

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTH_PATH = "/api/v2/monitor/health"
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0


class ServiceError(RuntimeError):
    """A service that cannot start (port taken, exited early) or stop."""


@dataclass(frozen=True)
class ServiceState:
    name: str
    pid: int | None

    @property
    def running(self) -> bool:
        return self.pid is not None


def _pid_file(paths: AirflowPaths, name: str) -> Path:
    return paths.run_dir / f"{name}.pid"


def _live_pid(paths: AirflowPaths, name: str) -> int | None:
    """The recorded pid if that process still runs an ``airflow <name>`` command, else None."""
    pid_file = _pid_file(paths, name)
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = " ".join(psutil.Process(pid).cmdline())
    except (ValueError, psutil.Error):
        return None
    # The api-server retitles itself ("airflow api_server -- host:..."), so match both spellings.
    ours = "airflow" in cmdline and (name in cmdline or name.replace("-", "_") in cmdline)
    return pid if ours else None


def states(settings: HarnessSettings) -> list[ServiceState]:
    paths = AirflowPaths.of(settings)
    return [ServiceState(name, _live_pid(paths, name)) for name in SERVICES]


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def _healthy(settings: HarnessSettings) -> bool:
    try:
        with urllib.request.urlopen(api_base_url(settings) + HEALTH_PATH, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _spawn(settings: HarnessSettings, name: str, env: dict[str, str]) -> int:
    paths = AirflowPaths.of(settings)
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    with (paths.logs / f"{name}.log").open("a") as log:
        process = subprocess.Popen(
            [airflow_executable(), name],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # detached: outlives `make ui`, stopped as a group by `make ui-stop`
        )
    _pid_file(paths, name).write_text(f"{process.pid}\n")
    return process.pid


def start(settings: HarnessSettings) -> list[str]:
    """Start every service that is not running; wait until the API answers. Returns those started."""
    paths = AirflowPaths.of(settings)
    running = {state.name for state in states(settings) if state.running}
    if "api-server" not in running and _port_taken(settings.airflow_host, settings.airflow_port):
        raise ServiceError(
            f"port {settings.airflow_port} on {settings.airflow_host} is taken by another program; "
            "set C360_AIRFLOW_PORT to a free port"
        )
    started = [name for name in SERVICES if name not in running]
    if started:
        migrate(settings, log_file=paths.logs / "migrate.log")
    env = airflow_env(settings)
    env.setdefault("AIRFLOW__API__WORKERS", "1")  # one worker is plenty on a laptop
    for name in started:
        _spawn(settings, name, env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(settings):
        dead = [name for name in started if _live_pid(paths, name) is None]
        if dead:
            raise ServiceError(f"{', '.join(dead)} exited during start; see {paths.logs}/<service>.log")
        if time.monotonic() > deadline:
            raise ServiceError(
                f"the api-server did not answer within {START_TIMEOUT_S:.0f}s; see {paths.logs}"
            )
        time.sleep(1)
    return started


def stop(settings: HarnessSettings) -> list[str]:
    """SIGTERM each recorded service's process group, SIGKILL it after a grace period."""
    paths = AirflowPaths.of(settings)
    stopped = []
    for name in SERVICES:
        pid = _live_pid(paths, name)
        if pid is not None:
            _stop_group(pid)
            stopped.append(name)
        _pid_file(paths, name).unlink(missing_ok=True)
    return stopped


def _stop_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        psutil.Process(pid).wait(timeout=STOP_TIMEOUT_S)
    except psutil.TimeoutExpired:
        os.killpg(pid, signal.SIGKILL)
    except psutil.NoSuchProcess:
        pass
    # Children (gunicorn/uvicorn workers, task processes) may outlive the leader for a moment.
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)


def login_hint(settings: HarnessSettings) -> str:
    paths = AirflowPaths.of(settings)
    ensure_admin_password(paths)
    return (
        f"Airflow UI: {api_base_url(settings)}  user: admin  "
        f"password: in {paths.passwords_file} (generated, mode 0600, never in git)"
    )
