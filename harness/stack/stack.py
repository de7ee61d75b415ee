"""Start, stop and inspect the embedded stack (PostgreSQL + S3) as one unit.

The only way servers get started: the `c360-stack` CLI and the pytest session fixtures both call
these functions. Calls on the same state directory are serialised by a file lock, so two `up`s
racing each other start each server once.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from harness.settings import HarnessSettings, get_harness_settings
from harness.stack import postgres, s3
from harness.stack.layout import StackPaths
from harness.stack.ports import ensure_distinct, ensure_ports_free

POSTGRES = "postgres"
S3 = "s3"


@dataclass(frozen=True)
class ServerStatus:
    """One server as it really is: process alive and endpoint answering."""

    name: str
    endpoint: str
    pid: int | None
    up: bool
    detail: str


@dataclass(frozen=True)
class StackStatus:
    """Both servers; `up` only when each one's process lives and its endpoint answers."""

    state_dir: str
    servers: tuple[ServerStatus, ...]

    @property
    def up(self) -> bool:
        return all(server.up for server in self.servers)


@dataclass(frozen=True)
class UpReport:
    """What `up` did: servers started now and servers that were already running (reused)."""

    started: tuple[str, ...]
    reused: tuple[str, ...]


@contextmanager
def _locked(settings: HarnessSettings) -> Iterator[StackPaths]:
    paths = StackPaths.of(settings)
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    with open(paths.lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield paths
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def up(settings: HarnessSettings | None = None) -> UpReport:
    """Start whatever is not running yet; reuse what is. Idempotent.

    Ports of a server about to start are checked first: a taken one raises PortInUseError naming
    the port, the variable that moves it and its holder. If the second server fails to start, the
    first is stopped again when this call started it, so a failed `up` leaves nothing behind.
    """
    settings = settings or get_harness_settings()
    pg_specs, s3_specs = postgres.port_specs(settings), s3.port_specs(settings)
    ensure_distinct(pg_specs + s3_specs)
    settings.ensure_generated_secrets()
    with _locked(settings):
        pg_running = postgres.postgres_state(settings).running
        s3_running = s3.s3_state(settings).running
        if not pg_running:
            ensure_ports_free(settings.pg_host, pg_specs)
        if not s3_running:
            ensure_ports_free(s3.s3_host_port(settings)[0], s3_specs)

        started: list[str] = []
        reused: list[str] = []
        (started if postgres.start(settings) else reused).append(POSTGRES)
        try:
            (started if s3.start(settings) else reused).append(S3)
        except BaseException:
            if POSTGRES in started:
                postgres.stop(settings)
            raise
    return UpReport(tuple(started), tuple(reused))


def down(settings: HarnessSettings | None = None) -> tuple[str, ...]:
    """Stop both servers and wait until their processes are gone; return the ones that ran."""
    settings = settings or get_harness_settings()
    stopped: list[str] = []
    with _locked(settings):
        if s3.stop(settings):
            stopped.append(S3)
        if postgres.stop(settings):
            stopped.append(POSTGRES)
    return tuple(stopped)


def status(settings: HarnessSettings | None = None) -> StackStatus:
    """The truth about both servers (no secrets in it)."""
    settings = settings or get_harness_settings()
    paths = StackPaths.of(settings)
    pg = postgres.postgres_state(settings)
    lake = s3.s3_state(settings)
    return StackStatus(
        state_dir=str(paths.state_dir),
        servers=(
            ServerStatus(
                POSTGRES,
                f"postgresql://{settings.pg_user}@{settings.pg_host}:{settings.pg_port}/{settings.pg_database}",
                pg.pid,
                pg.answers,
                pg.detail,
            ),
            ServerStatus(
                S3,
                f"{settings.s3_endpoint_url} (bucket {settings.s3_bucket})",
                lake.pid,
                lake.up,
                lake.detail,
            ),
        ),
    )


def reset(settings: HarnessSettings) -> None:
    """Start-from-scratch for tests and demos: empty `staging`/`production` and the bucket."""
    postgres.reset_warehouse(settings)
    s3.empty_bucket(settings)
