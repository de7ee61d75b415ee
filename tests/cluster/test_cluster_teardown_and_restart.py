"""The cluster's life cycle as a user meets it: clear errors, a dead component reported, down then up.

Runs after the smoke tests (module order): it stops and restarts the cluster.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cluster import lifecycle
from harness.cluster.settings import ClusterSettings

pytestmark = pytest.mark.cluster


def c360_cluster(
    *args: str, env: dict[str, str] | None = None, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "harness.cluster.cli", *args]
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    return subprocess.run(
        argv, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600, check=False
    )


def test_up_on_a_running_cluster_reuses_it(cluster: ClusterSettings) -> None:
    result = c360_cluster("up")
    assert result.returncode == 0, result.stderr
    assert "already running, reused" in result.stdout


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "C360_CLUSTER_NAME": "porttest",
            "C360_CLUSTER_STATE_DIR": str(tmp_path),
            "C360_CLUSTER_API_PORT": str(port),
        }
        result = c360_cluster("up", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "C360_CLUSTER_API_PORT" in lines[0]


def test_a_missing_privilege_is_one_clear_line(tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    result = c360_cluster(
        "up", env={"C360_CLUSTER_STATE_DIR": str(tmp_path), "HOME": str(tmp_path)}, user="65534"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "needs root" in lines[0]


def test_status_reports_a_dead_component_with_its_log(cluster: ClusterSettings) -> None:
    state = lifecycle.read_status(cluster)
    victim = next(c for c in state.components if c.name == "local-path-provisioner")
    os.kill(victim.pid, signal.SIGKILL)
    result = c360_cluster("status")
    assert result.returncode == 1
    assert "local-path-provisioner" in result.stdout and "DOWN" in result.stdout
    assert f"--- last lines of {victim.log} ---" in result.stdout
    # A broken cluster is not silently reused.
    result = c360_cluster("up")
    assert result.returncode == 1 and "not healthy (local-path-provisioner)" in result.stderr


def test_down_leaves_nothing_and_up_works_again(cluster: ClusterSettings) -> None:
    result = c360_cluster("down")
    assert result.returncode == 0, result.stderr
    assert lifecycle.leftovers(cluster) == []
    assert not lifecycle.read_status(cluster).exists
    result = c360_cluster("up")
    assert result.returncode == 0, result.stderr
    assert lifecycle.read_status(cluster, check_node=True).node_ready


def test_up_clears_a_cluster_whose_processes_were_all_killed(cluster: ClusterSettings) -> None:
    """What CI meets: the machine ended every process; namespaces went with them, the rest stayed."""
    from harness.cluster import namespaces

    namespaces.kill_cgroup(cluster.layout.cgroup_name)
    assert not lifecycle.read_status(cluster).agent_alive
    result = c360_cluster("up")
    assert result.returncode == 0, result.stderr
    assert "cleared what a dead cluster" in result.stdout
    assert lifecycle.read_status(cluster, check_node=True).node_ready
