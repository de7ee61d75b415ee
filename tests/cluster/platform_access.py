"""How the platform tests reach the installed release: the Airflow REST API, port-forwards, Secrets.

Everything goes the way a user's tools go: the Airflow UI's port on 127.0.0.1 (the cluster's
forward of the NodePort kind-config.yaml publishes), and `kubectl port-forward` for the warehouse
and the lake, which have no NodePort.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.cluster import deploy, lifecycle
from harness.cluster.settings import ClusterSettings

NAMESPACE = deploy.NAMESPACE
TASKS_NAMESPACE = f"{NAMESPACE}-tasks"
RELEASE = deploy.RELEASE
TERMINAL_RUN_STATES = {"success", "failed"}


def kubectl(
    settings: ClusterSettings,
    *args: str,
    check: bool = True,
    timeout: float = 300,
    namespace: str = NAMESPACE,
) -> str:
    return lifecycle.kubectl(settings, "-n", namespace, *args, check=check, timeout=timeout).stdout


def secret_value(settings: ClusterSettings, secret: str, key: str) -> str:
    data = json.loads(kubectl(settings, "get", "secret", secret, "-o", "json"))["data"]
    return base64.b64decode(data[key]).decode()


def secret_data(settings: ClusterSettings, secret: str, namespace: str = NAMESPACE) -> dict[str, str]:
    return json.loads(kubectl(settings, "get", "secret", secret, "-o", "json", namespace=namespace))["data"]


@contextmanager
def port_forward(settings: ClusterSettings, target: str, port: int) -> Iterator[int]:
    """`kubectl port-forward` of ``target`` (e.g. svc/x) to a free 127.0.0.1 port; yields that port."""
    process = subprocess.Popen(
        [
            str(lifecycle.kubectl_path()),
            "-n",
            NAMESPACE,
            "port-forward",
            "--address=127.0.0.1",
            target,
            f":{port}",
        ],
        env=lifecycle.kubectl_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+) ->", line)
        if not match:
            raise RuntimeError(f"port-forward {target} did not start: {line}{process.stdout.read()[:500]}")
        yield int(match.group(1))
    finally:
        process.terminate()
        process.wait(10)


@dataclass
class AirflowApi:
    """Airflow 3's REST API (/api/v2) with a token from /auth/token, as the UI uses it."""

    base_url: str
    username: str
    password: str
    _token: str = field(default="", repr=False)

    def _headers(self) -> dict[str, str]:
        if not self._token:
            response = httpx.post(
                f"{self.base_url}/auth/token",
                json={"username": self.username, "password": self.password},
                timeout=30,
            )
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, f"{self.base_url}/api/v2{path}", headers=self._headers(), timeout=60, **kwargs
        )
        response.raise_for_status()
        return response.json()

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(self, dag_id: str) -> str:
        """What the UI's Trigger button sends: a manual run with no logical date; returns its run id."""
        return self.call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after"})["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        path = f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
        return {t["task_id"]: t["state"] for t in self.call("GET", path)["task_instances"]}

    def wait_for_run(self, dag_id: str, run_id: str | None = None, timeout: float = 1200) -> dict[str, Any]:
        """The run (or, without ``run_id``, the newest run) once it has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found = self.run(dag_id, run_id) if run_id else next(iter(self.runs(dag_id)), None)
            except httpx.HTTPError:  # the API server restarting, a token that expired
                self._token, found = "", None
            if found and found["state"] in TERMINAL_RUN_STATES:
                return found
            time.sleep(5)
        raise TimeoutError(f"{dag_id} run {run_id or '(newest)'} not finished after {timeout:.0f} s")


def airflow_api(settings: ClusterSettings) -> AirflowApi:
    port = next(f.host_port for f in settings.forwards() if f.name == "airflow")
    password = secret_value(settings, f"{RELEASE}-airflow", "admin-password")
    return AirflowApi(f"http://127.0.0.1:{port}", "admin", password)


def pods(settings: ClusterSettings, selector: str, namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    return json.loads(kubectl(settings, "get", "pods", "-l", selector, "-o", "json", namespace=namespace))[
        "items"
    ]


@dataclass
class Installation:
    """What the platform tests learn and hand on: the release, the API, the runs they started."""

    settings: ClusterSettings
    api: AirflowApi
    report: deploy.DeployReport
    runs: dict[str, str] = field(default_factory=dict)

    def kubectl(self, *args: str, check: bool = True, namespace: str = NAMESPACE) -> str:
        return kubectl(self.settings, *args, check=check, namespace=namespace)
