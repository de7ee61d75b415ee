"""`make ui` / `make ui-stop` against the session's stack: the UI answers, the login works, stop stops."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import psutil
import pytest

from harness.embedded_airflow import services
from harness.embedded_airflow.env import AirflowPaths, ensure_admin_password
from harness.settings import HarnessSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ui_starts_logs_in_and_stops(stack_settings: HarnessSettings) -> None:
    settings = stack_settings.model_copy(update={"airflow_port": _free_port()})
    try:
        started = services.start(settings)
        assert started == list(services.SERVICES)
        assert services.start(settings) == []  # idempotent: everything reused
        pids = [state.pid for state in services.states(settings)]
        assert all(pids)

        password = ensure_admin_password(AirflowPaths.of(settings))
        request = urllib.request.Request(
            f"http://127.0.0.1:{settings.airflow_port}/auth/token",
            data=json.dumps({"username": "admin", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.load(response)["access_token"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{settings.airflow_port}/api/v2/dags?dag_id_pattern=customer360",
            headers={"Authorization": f"Bearer {token}"},
        )
        dag_ids: set[str] = set()
        for _ in range(60):  # the dag-processor needs a moment to parse the folder
            with urllib.request.urlopen(request, timeout=30) as response:
                dag_ids = {dag["dag_id"] for dag in json.load(response)["dags"]}
            if dag_ids >= {"customer360_elt", "customer360_new_day"}:
                break
            time.sleep(2)
        assert dag_ids >= {"customer360_elt", "customer360_new_day"}
    finally:
        stopped = services.stop(settings)
    assert set(stopped) == set(services.SERVICES)
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
