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
    fingerprint,
    load_record,
    orders_csv,
    put,
    rows_of,
    run_cli,
)

from customer360.contract import get_source
from customer360.settings import Settings
from ingest.ddl import ensure_staging_schema
from ingest.lake import stream_object
from ingest.loader import load_object
from ingest.retry import RetryPolicy, with_retry
from ingest.runner import connect_warehouse

pytestmark = pytest.mark.integration

BIG_ROWS = 400_000  # ~30 MB: a second or more of COPY, long enough to be caught mid-way
WAIT_S = 120


@pytest.fixture(scope="module")
def lake(clean_stack_module: Settings, s3_client, pg_conn):
    ensure_staging_schema(pg_conn)
    return clean_stack_module, s3_client


def _copy_progress(pg_conn) -> int | None:
    """Rows the loader's COPY has processed so far, None while no loader COPY runs."""
    with pg_conn.cursor() as cur:
        cur.execute(
            """
            select p.tuples_processed from pg_stat_progress_copy p
            join pg_stat_activity a using (pid)
            where a.application_name = 'c360-ingest' and p.relid = 'staging.orders'::regclass
            """
        )
        row = cur.fetchone()
    return None if row is None else row[0]


def _wait_mid_copy(pg_conn, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        progress = _copy_progress(pg_conn)
        if progress and progress > 1000:
            return
        assert process.poll() is None, "the loader finished before it could be caught mid-COPY"
        time.sleep(0.02)
    raise AssertionError("the loader never started its COPY")


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
    _wait_mid_copy(pg_conn, loader)
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
    _wait_mid_copy(pg_conn, loader)
    with pg_conn.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'c360-ingest'"
        )
    _out, log = loader.communicate(timeout=WAIT_S)

    assert loader.returncode == 0, log
    assert "transient error" in log
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


def test_wrong_s3_keys_fail_clearly(lake) -> None:
    env = dict(os.environ, C360_S3_SECRET_ACCESS_KEY="not-the-key")
    result = run_cli("load", "--source", "orders", env=env)
    assert result.returncode == 1
    assert "orders: load failed" in result.stderr and "SignatureDoesNotMatch" in result.stderr


def test_wrong_database_password_fails_clearly(lake) -> None:
    env = dict(os.environ, C360_PG_PASSWORD="not-the-password")
    result = run_cli("load", "--source", "users", env=env)
    assert result.returncode == 1
    assert "password authentication failed" in result.stderr
    assert "transient error" not in result.stderr  # not retried: it cannot get better


def test_unknown_source_is_a_usage_error(lake) -> None:
    result = run_cli("load", "--source", "invoices")
    assert result.returncode == 2
    assert "unknown source 'invoices'" in result.stderr
