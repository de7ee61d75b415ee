"""Servers that restart, or stay down, while `c360-ingest load` runs: the real PostgreSQL and the
real S3 server of a private stack (this module stops and starts them, so it cannot share the
session's) are taken away in the middle of a load.

A load that rides out a restart must end exactly as an uninterrupted load of the same objects did
(same rows, rejects and `_loads` figures); a server that stays down must fail the run after the
documented attempts, with exit status 3 and one last line that names the server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
from ingest_helpers import (
    INGEST_CLI,
    ORDERS_HEADER,
    WAIT_S,
    content,
    forget_loads,
    order_line,
    run_cli,
    wait_mid_copy,
)

from customer360.contract import ORDERS
from harness.settings import HarnessSettings
from harness.stack import postgres, s3
from harness.stack.isolated import isolated_stack, stack_env
from harness.stack.layout import StackPaths
from ingest.cli import EXIT_CANNOT_RUN
from ingest.retry import RetryPolicy

pytestmark = pytest.mark.integration

ROWS = 300_000  # per object: about a second of COPY, so a restart lands in the middle of one
DOWN_S = 3  # how long a restarting server stays away: "a few seconds"
ATTEMPTS = RetryPolicy().attempts


def _orders_object(day: int) -> bytes:
    """A big orders object with type errors (pass 2 runs too) every 50,000 rows."""
    start = day * 10_000_000
    lines = [ORDERS_HEADER]
    for i in range(start, start + ROWS):
        lines.append(order_line(i, amount="1O.00" if i % 50_000 == 7 else f"{i % 1000}.{i % 100:02d}"))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[HarnessSettings, dict[str, str]]]:
    with isolated_stack("c360-pytest-restarts-") as settings:
        lake = s3.client(settings)
        for day in (1, 2):
            key = ORDERS.object_key(f"2026-11-0{day}", "0001")
            lake.put_object(Bucket=settings.s3_bucket, Key=key, Body=_orders_object(day))
        yield settings, dict(os.environ, **stack_env(settings))


@pytest.fixture(scope="module")
def uninterrupted(stack) -> tuple:
    """What a load of the module's objects produces when nothing goes wrong."""
    settings, env = stack
    done = run_cli("load", "--source", "orders", env=env)
    assert done.returncode == 0, done.stderr
    return _content(settings)


def _content(settings: HarnessSettings) -> tuple:
    conn = postgres.connect(settings)
    try:
        return content(conn, "orders")
    finally:
        conn.close()


def _start_load(settings: HarnessSettings, env: dict[str, str]) -> subprocess.Popen:
    """A fresh `c360-ingest load` of every object, returned once its first COPY is under way."""
    conn = postgres.connect(settings)
    try:
        forget_loads(conn, "orders")
        loader = subprocess.Popen(
            [INGEST_CLI, "load", "--source", "orders"], env=env, stderr=subprocess.PIPE, text=True
        )
        wait_mid_copy(conn, loader)
    finally:
        conn.close()
    return loader


def _kill_s3(settings: HarnessSettings) -> None:
    """SIGKILL the S3 server (a crash: the object being streamed breaks off mid-way)."""
    pid = int(StackPaths.of(settings).weed_pid_file.read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + WAIT_S
    while s3.s3_state(settings).running:
        assert time.monotonic() < deadline, "the S3 server did not die"
        time.sleep(0.05)


def _assert_one_clear_last_line(log: str, *fragments: str) -> None:
    assert "Traceback" not in log and "SystemError" not in log, log
    last = log.strip().splitlines()[-1]
    for fragment in fragments:
        assert fragment in last, last


def test_postgres_restart_mid_copy_is_ridden_out(stack, uninterrupted) -> None:
    settings, env = stack
    loader = _start_load(settings, env)
    postgres.stop(settings)  # fast shutdown: the loader's session is terminated mid-COPY
    time.sleep(DOWN_S)
    postgres.start(settings)
    _out, log = loader.communicate(timeout=WAIT_S)

    assert loader.returncode == 0, log
    assert "transient error" in log  # it really was interrupted
    assert "refused raw/" not in log  # "refused" is for an object with a bad header, not a server
    assert "Traceback" not in log and "SystemError" not in log, log
    assert _content(settings) == uninterrupted


def test_s3_restart_mid_stream_is_ridden_out(stack, uninterrupted) -> None:
    settings, env = stack
    loader = _start_load(settings, env)
    _kill_s3(settings)
    time.sleep(DOWN_S)
    s3.start(settings)
    _out, log = loader.communicate(timeout=WAIT_S)

    assert loader.returncode == 0, log
    assert "transient error" in log
    assert "refused raw/" not in log
    assert "Traceback" not in log, log
    assert _content(settings) == uninterrupted


def test_postgres_that_stays_down_fails_after_the_documented_attempts(stack) -> None:
    settings, env = stack
    postgres.stop(settings)
    try:
        done = run_cli("load", "--source", "orders", env=env)
    finally:
        postgres.start(settings)
    assert done.returncode == EXIT_CANNOT_RUN, done.stderr
    assert done.stderr.count("transient error") == ATTEMPTS - 1
    _assert_one_clear_last_line(
        done.stderr,
        "could not load orders",
        f"PostgreSQL at {settings.pg_host}:{settings.pg_port}",
        f"after {ATTEMPTS} attempts",
        "C360_PG_HOST",
    )


def test_s3_that_stays_down_fails_after_the_documented_attempts(stack) -> None:
    settings, env = stack
    s3.stop(settings)
    try:
        done = run_cli("load", "--source", "orders", env=env)
    finally:
        s3.start(settings)
    assert done.returncode == EXIT_CANNOT_RUN, done.stderr
    assert done.stderr.count("transient error") == ATTEMPTS - 1
    _assert_one_clear_last_line(
        done.stderr,
        "could not load orders",
        f"S3 at {settings.s3_endpoint_url}",
        f"after {ATTEMPTS} attempts",
        "C360_S3_ENDPOINT_URL",
    )
