"""A stack of its own: settings with a private state dir and free ports, and the env that names it.

Several engineers run pytest at once on one machine while a developer may run the demo stack on
the default ports, so test stacks never use fixed ports. `stack_env` is what subprocesses (dbt,
the CLIs, Airflow tasks) need in their environment to reach the same servers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from harness.settings import HarnessSettings
from harness.stack import stack
from harness.stack.errors import PortInUseError
from harness.stack.ports import free_ports


def port_fields() -> list[str]:
    """Every `*_port` setting (PostgreSQL, weed's internal ports, Airflow's api-server, ...).

    Found by name so a port another component adds to HarnessSettings is isolated too without an edit here.
    """
    return [name for name in HarnessSettings.model_fields if name.endswith("_port")]


OWNER_FILE = ".owner-pid"
_TEMP_PREFIX = "c360-"


def make_state_dir(prefix: str = "c360-stack-") -> Path:
    """A new state directory in the system temp dir, outside pytest's basetemp, owned by this process.

    pytest resets its basetemp root to mode 0700 at every session start; that would lock the
    non-root PostgreSQL user of a concurrently running session out of its own data directory.
    The owner pid lets :func:`reap_orphans` clean up after a process that was killed.
    """
    if not prefix.startswith(_TEMP_PREFIX):
        raise ValueError(f"state dir prefix must start with {_TEMP_PREFIX!r}")
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)  # the server's system user must traverse it; credentials.json stays 0600
    (path / OWNER_FILE).write_text(f"{os.getpid()}\n")
    return path


def reap_orphans() -> list[Path]:
    """Stop the servers of, and delete, temp state dirs whose owning process is gone.

    A test session killed with SIGKILL never runs its teardown; on a shared 2-core machine its
    detached servers would otherwise run forever. Only dirs made by make_state_dir are touched.
    """
    reaped: list[Path] = []
    for path in Path(tempfile.gettempdir()).glob(f"{_TEMP_PREFIX}*"):
        try:
            owner = int((path / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if psutil.pid_exists(owner):
            continue
        stack.down(_DefaultsOnly(state_dir=path))
        remove_state_dir(path)
        reaped.append(path)
    return reaped


def remove_state_dir(path: Path) -> None:
    """Delete a state dir made by :func:`make_state_dir` (stop its servers first)."""
    shutil.rmtree(path, ignore_errors=True)


class _DefaultsOnly(HarnessSettings):
    """HarnessSettings that ignore the environment: a test's own stack must not inherit the session
    stack's exported C360_* variables (its passwords, bucket, ...), only what is passed in."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def isolated_settings(state_dir: Path, host: str = "127.0.0.1") -> HarnessSettings:
    """HarnessSettings of a stack of its own: defaults (not the environment), state in `state_dir`, and
    every port (the S3 endpoint's too) free right now."""
    fields = port_fields()
    s3_port, *ports = free_ports(1 + len(fields), host)
    return _DefaultsOnly(
        state_dir=state_dir,
        pg_host=host,
        s3_endpoint_url=f"http://{host}:{s3_port}",
        **dict(zip(fields, ports, strict=True)),
    )


def start_isolated_stack(state_dir: Path, attempts: int = 3) -> HarnessSettings:
    """`stack.up` on fresh free ports; on a port taken meanwhile, pick new ports and try again."""
    for attempt in range(1, attempts + 1):
        settings = isolated_settings(state_dir)
        try:
            stack.up(settings)
        except PortInUseError:
            if attempt == attempts:
                raise
        else:
            return settings
    raise AssertionError("unreachable")


@contextmanager
def isolated_stack(prefix: str, *, start: bool = True) -> Iterator[HarnessSettings]:
    """A stack of its own for a test module or a benchmark: settings on a fresh state dir with
    free ports, started unless `start=False`; whatever happened, its servers are stopped and the
    state dir deleted on exit."""
    state_dir = make_state_dir(prefix)
    settings = start_isolated_stack(state_dir) if start else isolated_settings(state_dir)
    try:
        yield settings
    finally:
        stack.down(settings)
        remove_state_dir(state_dir)


def stack_env(settings: HarnessSettings) -> dict[str, str]:
    """Every variable a subprocess needs to reach this stack: the task env plus state dir and ports."""
    env = settings.task_env()
    env["C360_STATE_DIR"] = str(settings.state_dir)
    for field in port_fields():
        env[f"C360_{field.upper()}"] = str(getattr(settings, field))
    return env


def foreign_env_keys() -> list[str]:
    """C360_*/DBT_* variables already in this environment (e.g. a developer's shell settings)."""
    return [key for key in os.environ if key.startswith(("C360_", "DBT_"))]
