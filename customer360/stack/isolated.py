"""A stack of its own: settings with a private state dir and free ports, and the env that names it.

Several engineers run pytest at once on one machine while a developer may run the demo stack on
the default ports, so test stacks never use fixed ports. `stack_env` is what subprocesses (dbt,
the CLIs, Airflow tasks) need in their environment to reach the same servers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from customer360.settings import Settings, get_settings
from customer360.stack.ports import free_ports

_WEED_PORT_FIELDS = (
    "weed_master_port",
    "weed_master_grpc_port",
    "weed_volume_port",
    "weed_volume_grpc_port",
    "weed_filer_port",
    "weed_filer_grpc_port",
    "weed_s3_grpc_port",
    "weed_admin_port",
    "weed_admin_grpc_port",
)


def make_state_dir(prefix: str = "c360-stack-") -> Path:
    """A new state directory outside pytest's basetemp.

    pytest resets its basetemp root to mode 0700 at every session start; that would lock the
    non-root PostgreSQL user of a concurrently running session out of its own data directory.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)  # the server's system user must traverse it; credentials.json stays 0600
    return path


def remove_state_dir(path: Path) -> None:
    """Delete a state dir made by :func:`make_state_dir` (stop its servers first)."""
    shutil.rmtree(path, ignore_errors=True)


def isolated_settings(state_dir: Path, host: str = "127.0.0.1") -> Settings:
    """Settings whose every port is free now and whose state lives in `state_dir`."""
    pg_port, s3_port, *weed_ports = free_ports(2 + len(_WEED_PORT_FIELDS), host)
    return get_settings(
        state_dir=state_dir,
        pg_host=host,
        pg_port=pg_port,
        s3_endpoint_url=f"http://{host}:{s3_port}",
        **dict(zip(_WEED_PORT_FIELDS, weed_ports, strict=True)),
    )


def stack_env(settings: Settings) -> dict[str, str]:
    """Every variable a subprocess needs to reach this stack: the task env plus state dir and ports."""
    env = settings.task_env()
    env["C360_STATE_DIR"] = str(settings.state_dir)
    for field in _WEED_PORT_FIELDS:
        env[f"C360_{field.upper()}"] = str(getattr(settings, field))
    return env


def foreign_env_keys() -> list[str]:
    """C360_*/DBT_* variables already in this environment (e.g. a developer's shell settings)."""
    return [key for key in os.environ if key.startswith(("C360_", "DBT_"))]
