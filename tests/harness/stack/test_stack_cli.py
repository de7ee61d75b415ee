"""The `c360-stack` command as a user runs it: the installed entry point, in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.settings import HarnessSettings
from harness.stack import stack
from harness.stack.cli import app
from harness.stack.isolated import isolated_stack, stack_env

pytestmark = pytest.mark.integration

CLI = shutil.which("c360-stack", path=str(Path(sys.executable).parent)) or "c360-stack"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("C360_", "DBT_"))}
    return subprocess.run([CLI, *args], env={**base, **env}, capture_output=True, text=True, timeout=180)


def _location_env(settings: HarnessSettings) -> dict[str, str]:
    """Enough to find a stack without its credentials (state dir and ports only)."""
    env = {"C360_STATE_DIR": str(settings.state_dir), "C360_S3_ENDPOINT_URL": settings.s3_endpoint_url}
    for name in HarnessSettings.model_fields:
        if name.endswith("_port"):
            env[f"C360_{name.upper()}"] = str(getattr(settings, name))
    return env


@pytest.fixture
def spare() -> Iterator[HarnessSettings]:
    with isolated_stack("c360-cli-", start=False) as settings:
        yield settings


def test_installed_entry_point_lists_every_command() -> None:
    result = _run(["--help"], {})
    assert result.returncode == 0
    for command in ("up", "down", "status"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["up", "down", "status"])
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) >= 3


def test_status_of_the_running_session_stack_exits_zero(stack_settings: HarnessSettings) -> None:
    result = _run(["status"], stack_env(stack_settings))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"127.0.0.1:{stack_settings.pg_port}" in result.stdout
    assert stack_settings.s3_endpoint_url in result.stdout
    assert result.stdout.count(" up ") == 2
    for secret in (stack_settings.password, stack_settings.secret_access_key):
        assert secret not in result.stdout + result.stderr


def test_status_of_a_stopped_stack_exits_non_zero(spare: HarnessSettings) -> None:
    result = _run(["status"], _location_env(spare))
    assert result.returncode == 1
    assert result.stdout.count("DOWN") == 2


def test_up_then_down_through_the_cli(spare: HarnessSettings) -> None:
    env = _location_env(spare)
    first = _run(["up"], env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "started postgres" in first.stdout and "started s3" in first.stdout
    second = _run(["up"], env)
    assert second.returncode == 0
    assert "postgres already running, reused" in second.stdout
    # Servers outlive the CLI process that started them.
    assert stack.status(spare).up
    for secret in (spare.password, spare.secret_access_key, spare.access_key_id):
        assert secret not in first.stdout + first.stderr + second.stdout + second.stderr

    stopped = _run(["down"], env)
    assert stopped.returncode == 0
    assert "stopped s3, postgres" in stopped.stdout
    assert not stack.status(spare).up


def test_port_collision_is_reported_without_a_traceback(spare: HarnessSettings) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", spare.weed_master_port))
        squatter.listen()
        result = _run(["up"], _location_env(spare))
    assert result.returncode == 1
    assert "C360_WEED_MASTER_PORT" in result.stderr
    assert str(spare.weed_master_port) in result.stderr
    assert "Traceback" not in result.stderr
