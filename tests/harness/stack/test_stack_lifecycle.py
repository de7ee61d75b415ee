"""Lifecycle of a real embedded stack: up, up again, status, crash, down, restart, port collisions.

These tests start their own stacks (own state dirs, free ports), never the session stack, because
they stop and break servers on purpose. The tests of the `own` stack run in file order: each
builds on the state the previous one left.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2
import pytest
from botocore.exceptions import ClientError

from harness.settings import HarnessSettings
from harness.stack import postgres, s3, stack
from harness.stack.errors import PortInUseError, StackError
from harness.stack.isolated import (
    OWNER_FILE,
    isolated_settings,
    isolated_stack,
    make_state_dir,
    reap_orphans,
    remove_state_dir,
)
from harness.stack.ports import port_is_free

pytestmark = pytest.mark.integration


def _all_ports(settings: HarnessSettings) -> list[int]:
    return [spec.port for spec in postgres.port_specs(settings) + s3.port_specs(settings)]


def _pids(status: stack.StackStatus) -> dict[str, int | None]:
    return {server.name: server.pid for server in status.servers}


@pytest.fixture(scope="module")
def own() -> Iterator[HarnessSettings]:
    """A stack of this module's own; stopped and deleted at the end whatever the tests did."""
    with isolated_stack("c360-lifecycle-", start=False) as settings:
        yield settings


@pytest.fixture
def spare_state_dir() -> Iterator[Path]:
    state_dir = make_state_dir("c360-spare-")
    yield state_dir
    remove_state_dir(state_dir)


def test_status_before_first_up_says_down(own: HarnessSettings) -> None:
    status = stack.status(own)
    assert not status.up
    assert all(not server.up and server.pid is None for server in status.servers)


def test_first_up_starts_both_servers(own: HarnessSettings) -> None:
    report = stack.up(own)
    assert set(report.started) == {"postgres", "s3"}
    assert report.reused == ()
    status = stack.status(own)
    assert status.up, status
    for pid in _pids(status).values():
        assert pid is not None and psutil.pid_exists(pid)


def test_postgres_runs_as_non_root_with_password_auth(own: HarnessSettings) -> None:
    pid = _pids(stack.status(own))["postgres"]
    assert pid is not None
    assert psutil.Process(pid).uids().real != 0
    wrong = own.warehouse_dsn().replace(own.password, "wrong-password")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(wrong, connect_timeout=5)


def test_up_twice_is_harmless_and_reuses_the_servers(own: HarnessSettings) -> None:
    before = _pids(stack.status(own))
    report = stack.up(own)
    assert report.started == ()
    assert set(report.reused) == {"postgres", "s3"}
    assert _pids(stack.status(own)) == before


def test_warehouse_has_both_schemas_and_the_bucket_exists(own: HarnessSettings) -> None:
    conn = postgres.connect(own)
    try:
        with conn.cursor() as cur:
            cur.execute("select schema_name from information_schema.schemata")
            schemas = {row[0] for row in cur.fetchall()}
            cur.execute("select current_database()")
            assert cur.fetchone() == ("warehouse",)
    finally:
        conn.close()
    assert {"staging", "production"} <= schemas
    buckets = {bucket["Name"] for bucket in s3.client(own).list_buckets()["Buckets"]}
    assert own.s3_bucket in buckets


def test_credentials_file_is_owner_only(own: HarnessSettings) -> None:
    assert stat.S_IMODE(own.secrets_file.stat().st_mode) == 0o600


def test_s3_rejects_wrong_keys(own: HarnessSettings) -> None:
    wrong_secret = own.model_copy(update={"s3_secret_access_key": "not-the-secret"})
    with pytest.raises(ClientError) as raised:
        s3.client(wrong_secret).list_objects_v2(Bucket=own.s3_bucket)
    assert raised.value.response["Error"]["Code"] in {"SignatureDoesNotMatch", "AccessDenied"}
    unknown_key = own.model_copy(update={"s3_access_key_id": "nobody", "s3_secret_access_key": "x"})
    with pytest.raises(ClientError):
        s3.client(unknown_key).put_object(Bucket=own.s3_bucket, Key="intruder", Body=b"x")


def test_create_database_helper_is_idempotent(own: HarnessSettings) -> None:
    assert postgres.create_database(own, "airflow_test") is True
    assert postgres.create_database(own, "airflow_test") is False
    conn = postgres.connect(own, "airflow_test")
    conn.close()


def test_status_tells_when_a_server_died_and_up_brings_it_back(own: HarnessSettings) -> None:
    weed_pid = _pids(stack.status(own))["s3"]
    assert weed_pid is not None
    os.kill(weed_pid, signal.SIGKILL)
    psutil.Process(weed_pid).wait(timeout=10)

    status = stack.status(own)
    assert not status.up
    assert {server.name: server.up for server in status.servers} == {"postgres": True, "s3": False}

    report = stack.up(own)
    assert report.started == ("s3",)
    assert report.reused == ("postgres",)
    assert stack.status(own).up


def test_down_stops_both_servers_and_frees_every_port(own: HarnessSettings) -> None:
    conn = postgres.connect(own)
    with conn.cursor() as cur:
        cur.execute("create table staging.survives_restart as select 42 as answer")
    conn.close()
    s3.client(own).put_object(Bucket=own.s3_bucket, Key="raw/keep.csv", Body=b"a\n1\n")
    pids = _pids(stack.status(own))

    assert set(stack.down(own)) == {"postgres", "s3"}

    for pid in pids.values():
        assert pid is not None and not psutil.pid_exists(pid)
    assert [port for port in _all_ports(own) if not port_is_free("127.0.0.1", port)] == []
    assert not stack.status(own).up
    assert stack.down(own) == ()  # down on a stopped stack is harmless


def test_restart_keeps_the_data(own: HarnessSettings) -> None:
    assert set(stack.up(own).started) == {"postgres", "s3"}
    conn = postgres.connect(own)
    with conn.cursor() as cur:
        cur.execute("select answer from staging.survives_restart")
        assert cur.fetchone() == (42,)
    conn.close()
    body = s3.client(own).get_object(Bucket=own.s3_bucket, Key="raw/keep.csv")["Body"].read()
    assert body == b"a\n1\n"


def test_reset_empties_warehouse_and_bucket_but_keeps_them(own: HarnessSettings) -> None:
    stack.reset(own)
    conn = postgres.connect(own)
    with conn.cursor() as cur:
        cur.execute("select to_regclass('staging.survives_restart')")
        assert cur.fetchone() == (None,)
        cur.execute(
            "select count(*) from information_schema.schemata where schema_name in ('staging', 'production')"
        )
        assert cur.fetchone() == (2,)
    conn.close()
    assert s3.client(own).list_objects_v2(Bucket=own.s3_bucket)["KeyCount"] == 0


def test_taken_postgres_port_gives_a_clear_error(spare_state_dir: Path) -> None:
    settings = isolated_settings(spare_state_dir)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.pg_port))
        squatter.listen()
        with pytest.raises(PortInUseError) as raised:
            stack.up(settings)
    message = str(raised.value)
    assert str(settings.pg_port) in message
    assert "C360_PG_PORT" in message
    assert f"pid {os.getpid()}" in message  # names what holds the port
    assert not stack.status(settings).up


def test_taken_weed_port_fails_before_anything_starts(spare_state_dir: Path) -> None:
    settings = isolated_settings(spare_state_dir)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.weed_filer_grpc_port))
        squatter.listen()
        with pytest.raises(PortInUseError, match="C360_WEED_FILER_GRPC_PORT"):
            stack.up(settings)
    # PostgreSQL was not started either: a failed up leaves nothing running.
    assert all(server.pid is None for server in stack.status(settings).servers)
    assert port_is_free("127.0.0.1", settings.pg_port)


@pytest.mark.parametrize("server", ["postgres", "s3"])
def test_port_taken_after_the_check_still_gives_the_clear_error(spare_state_dir: Path, server: str) -> None:
    """The race the pre-start check cannot see: the server's own bind fails."""
    settings = isolated_settings(spare_state_dir)
    settings.ensure_generated_secrets()
    port, env_var, start = {
        "postgres": (settings.pg_port, "C360_PG_PORT", postgres.start),
        "s3": (settings.weed_master_port, "C360_WEED_MASTER_PORT", s3.start),
    }[server]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(PortInUseError, match=env_var) as raised:
            start(settings)  # skips stack.up's pre-start check on purpose
    assert raised.value.port == port
    assert all(server.pid is None for server in stack.status(settings).servers)


def test_two_settings_on_one_port_are_refused(spare_state_dir: Path) -> None:
    settings = isolated_settings(spare_state_dir)
    clash = settings.model_copy(update={"weed_admin_port": settings.pg_port})
    with pytest.raises(StackError, match="C360_WEED_ADMIN_PORT and C360_PG_PORT"):
        stack.up(clash)


def test_s3_failing_to_start_stops_the_postgres_it_started(spare_state_dir: Path) -> None:
    settings = isolated_settings(spare_state_dir)
    (spare_state_dir / "s3").write_text("a file where weed wants its data directory")
    with pytest.raises(StackError, match="S3 server"):
        stack.up(settings)
    status = stack.status(settings)
    assert all(server.pid is None for server in status.servers), status
    assert port_is_free("127.0.0.1", settings.pg_port)


def test_servers_of_a_killed_session_are_reaped(spare_state_dir: Path) -> None:
    settings = isolated_settings(spare_state_dir)
    stack.up(settings)
    pids = [pid for pid in _pids(stack.status(settings)).values() if pid is not None]
    dead = subprocess.Popen(["true"])
    dead.wait()
    (spare_state_dir / OWNER_FILE).write_text(f"{dead.pid}\n")  # as if its session was SIGKILLed

    assert spare_state_dir in reap_orphans()

    assert not spare_state_dir.exists()
    assert len(pids) == 2 and not any(psutil.pid_exists(pid) for pid in pids)
