"""Faults: the loader killed mid-COPY, its connection cut, the S3 stream broken, bad credentials.

Real faults wherever a real component can produce them on demand (SIGKILL of the loader process,
pg_terminate_backend of its session); a fake chunk iterator only for an S3 stream that breaks
half way, which the S3 server cannot be told to do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from botocore.exceptions import ResponseStreamingError
from ingest_helpers import (
    INGEST_CLI,
    WAIT_S,
    fingerprint,
    load_record,
    orders_csv,
    put,
    rows_of,
    run_cli,
    wait_mid_copy,
)

from customer360.contract import get_source
from customer360.settings import Settings
from ingest.cli import EXIT_CANNOT_RUN, EXIT_NOT_ALL_LOADED, EXIT_USAGE
from ingest.ddl import ensure_staging_schema
from ingest.lake import stream_object
from ingest.loader import load_object
from ingest.retry import RetryPolicy, with_retry
from ingest.runner import connect_warehouse

pytestmark = pytest.mark.integration

BIG_ROWS = 400_000  # ~30 MB: a second or more of COPY, long enough to be caught mid-way


@pytest.fixture(scope="module")
def lake(clean_stack_module: Settings, s3_client, pg_conn):
    ensure_staging_schema(pg_conn)
    return clean_stack_module, s3_client


def _wait_no_loader_session(pg_conn) -> None:
    deadline = time.monotonic() + WAIT_S
    with pg_conn.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("select count(*) from pg_stat_activity where application_name = 'c360-ingest'")
            if cur.fetchone()[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError("the killed loader's session never ended")


def test_sigkill_mid_copy_leaves_staging_unchanged_and_next_run_completes(lake, pg_conn) -> None:
    settings, s3 = lake
    put(s3, settings, "raw/orders/dt=2026-11-01/orders-0001.csv", orders_csv(100))
    assert run_cli("load", "--source", "orders").returncode == 0
    big_key = "raw/orders/dt=2026-11-02/orders-0001.csv"
    put(s3, settings, big_key, orders_csv(BIG_ROWS, start=1_000_000))
    before = fingerprint(pg_conn, "orders")

    loader = subprocess.Popen(
        [INGEST_CLI, "load", "--source", "orders"], stderr=subprocess.PIPE, env=dict(os.environ)
    )
    wait_mid_copy(pg_conn, loader)
    loader.send_signal(signal.SIGKILL)
    loader.communicate(timeout=WAIT_S)
    _wait_no_loader_session(pg_conn)

    assert fingerprint(pg_conn, "orders") == before
    assert load_record(pg_conn, big_key) is None
    rerun = run_cli("load", "--source", "orders")
    assert rerun.returncode == 0, rerun.stderr
    assert rows_of(pg_conn, "orders", big_key) == BIG_ROWS
    assert load_record(pg_conn, big_key)[1:] == (BIG_ROWS, 0)


def test_connection_cut_mid_copy_is_retried(lake, pg_conn) -> None:
    settings, s3 = lake
    key = "raw/orders/dt=2026-11-03/orders-0001.csv"
    put(s3, settings, key, orders_csv(BIG_ROWS, start=2_000_000))
    loader = subprocess.Popen(
        [INGEST_CLI, "load", "--source", "orders"], stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    wait_mid_copy(pg_conn, loader)
    with pg_conn.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'c360-ingest'"
        )
    _out, log = loader.communicate(timeout=WAIT_S)

    assert loader.returncode == 0, log
    assert "transient error" in log
    assert "Traceback" not in log and "SystemError" not in log, log  # psycopg2's stray printout
    assert rows_of(pg_conn, "orders", key) == BIG_ROWS
    assert log.count(f"loaded {key}:") == 1


def test_s3_stream_breaking_mid_object_is_retried_without_duplicates(lake, pg_conn) -> None:
    settings, s3 = lake
    key = "raw/orders/dt=2026-11-04/orders-0001.csv"
    obj = put(s3, settings, key, orders_csv(50_000, start=3_000_000))
    reads = []

    def flaky_opener(lake_object):
        reads.append(lake_object.key)
        for n, chunk in enumerate(stream_object(s3, settings.s3_bucket, lake_object, chunk_bytes=64 << 10)):
            if len(reads) == 1 and n == 5:
                raise ResponseStreamingError(error="connection reset by peer (injected)")
            yield chunk

    conn = connect_warehouse(settings)
    try:
        policy = RetryPolicy(attempts=3, base_delay=0.01)
        result = with_retry(lambda: load_object(conn, flaky_opener, get_source("orders"), obj), key, policy)
    finally:
        conn.close()
    assert len(reads) == 2
    assert (result.rows_loaded, rows_of(pg_conn, "orders", key)) == (50_000, 50_000)


def test_a_refused_object_ends_the_run_with_status_1_and_the_others_load(lake, pg_conn) -> None:
    settings, s3 = lake
    bad = "raw/users/dt=2026-11-05/users-0001.csv"
    good = "raw/users/dt=2026-11-06/users-0001.csv"
    put(s3, settings, bad, b"user_id,name\n1,Ann\n")
    header = "user_id,name,email,phone,address,country,created_at,updated_at"
    put(s3, settings, good, f"{header}\n1,Ann,,,,,2026-11-01T08:00:00Z,2026-11-01T08:00:00Z\n".encode())
    result = run_cli("load", "--source", "users")
    assert result.returncode == EXIT_NOT_ALL_LOADED, result.stderr
    assert f"refused {bad}: " in result.stderr and "missing columns" in result.stderr
    assert rows_of(pg_conn, "users", good) == 1
    last = result.stderr.strip().splitlines()[-1]
    assert bad in last and "not loaded" in last and good not in last


def test_wrong_s3_keys_fail_clearly(lake) -> None:
    env = dict(os.environ, C360_S3_SECRET_ACCESS_KEY="not-the-key")
    result = run_cli("load", "--source", "orders", env=env)
    assert result.returncode == EXIT_CANNOT_RUN
    last = result.stderr.strip().splitlines()[-1]
    assert "could not load orders: S3 at" in last and "SignatureDoesNotMatch" in last
    assert "C360_S3_SECRET_ACCESS_KEY" in last
    assert "Traceback" not in result.stderr


def test_wrong_database_password_fails_clearly(lake) -> None:
    env = dict(os.environ, C360_PG_PASSWORD="not-the-password")
    result = run_cli("load", "--source", "users", env=env)
    assert result.returncode == EXIT_CANNOT_RUN
    last = result.stderr.strip().splitlines()[-1]
    assert "could not load users: PostgreSQL at" in last and "password authentication failed" in last
    assert "C360_PG_PASSWORD" in last
    assert "transient error" not in result.stderr  # not retried: it cannot get better
    assert "Traceback" not in result.stderr


def test_unknown_source_is_a_usage_error(lake) -> None:
    result = run_cli("load", "--source", "invoices")
    assert result.returncode == EXIT_USAGE
    assert "unknown source 'invoices'" in result.stderr
