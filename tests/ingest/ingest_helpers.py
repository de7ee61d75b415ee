"""Shared helpers of the loader tests: put objects into the real S3, load, and look at staging."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from customer360.contract import LOADS_TABLE, REJECTED_ROWS_TABLE, STAGING_SCHEMA, Source, get_source
from customer360.settings import Settings
from ingest.ddl import ensure_staging_schema
from ingest.lake import LakeObject
from ingest.loader import LoadResult, load_object, open_from_s3
from ingest.runner import connect_warehouse

ORDERS_HEADER = "order_id,user_id,order_date,amount,currency,status,updated_at"
INGEST_CLI = str(Path(sys.executable).with_name("c360-ingest"))
WAIT_S = 120


def order_line(order_id: int, amount: str = "12.50", currency: str = "USD") -> str:
    return f"{order_id},7,2026-11-01T08:15:02Z,{amount},{currency},placed,2026-11-01T08:15:02Z"


def orders_csv(rows: int, start: int = 1) -> bytes:
    """A clean orders object with `rows` data rows (ids start..start+rows-1)."""
    lines = [ORDERS_HEADER]
    lines += [order_line(i, f"{i % 1000}.{i % 100:02d}") for i in range(start, start + rows)]
    return ("\n".join(lines) + "\n").encode()


def put(s3: Any, settings: Settings, key: str, body: bytes) -> LakeObject:
    s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=body)
    head = s3.head_object(Bucket=settings.s3_bucket, Key=key)
    return LakeObject(key, head["ETag"].strip('"'), int(head["ContentLength"]))


def load_key(settings: Settings, s3: Any, source: str, obj: LakeObject) -> LoadResult:
    """Load one object with the loader's own code, on a fresh connection."""
    conn = connect_warehouse(settings)
    try:
        ensure_staging_schema(conn)
        return load_object(conn, open_from_s3(s3, settings.s3_bucket), get_source(source), obj)
    finally:
        conn.close()


def run_cli(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`c360-ingest ...` as the pods run it, with the session stack's C360_* environment."""
    return subprocess.run(
        [INGEST_CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or dict(os.environ),
        check=False,
    )


def _table(name: str) -> sql.Identifier:
    return sql.Identifier(STAGING_SCHEMA, name)


def fingerprint(conn: Connection, source: Source | str) -> tuple[int, str, int, str, int, str]:
    """(rows, md5) of staging.<source>, of `_rejected_rows` and of `_loads`, over every column:
    equal fingerprints mean nothing changed, not even `_loaded_at`."""
    name = source if isinstance(source, str) else source.name
    result: list[Any] = []
    with conn.cursor() as cur:
        for table, order in (
            (name, "_source_key, _line_number"),
            (REJECTED_ROWS_TABLE, "source_key, line_number"),
            (LOADS_TABLE, "source_key"),
        ):
            cur.execute(
                sql.SQL(
                    "select count(*), coalesce(md5(string_agg(t::text, '|' order by {})), '') from {} t"
                ).format(sql.SQL(order), _table(table))
            )
            result.extend(cur.fetchone())
    return tuple(result)  # type: ignore[return-value]


def content(conn: Connection, source: str) -> tuple[int, str, int, str, int, str]:
    """(rows, md5) of what loads of `source` produced, leaving out when they ran (`_loaded_at`,
    `loaded_at`, `seconds`, `rejected_at`): equal for two loads of the same objects, interrupted
    or not."""
    columns = sql.SQL(", ").join(
        sql.Identifier(name) for name in (*get_source(source).header, "_source_key", "_line_number")
    )
    queries = (
        sql.SQL("select {} from {}").format(columns, _table(source)),
        sql.SQL("select source_key, line_number, raw_line, reason from {} where source = %(source)s").format(
            _table(REJECTED_ROWS_TABLE)
        ),
        sql.SQL(
            "select source_key, etag, rows_loaded, rows_rejected from {} where source = %(source)s"
        ).format(_table(LOADS_TABLE)),
    )
    digest = sql.SQL(
        "select count(*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from ({}) t"
    )
    result: list[Any] = []
    with conn.cursor() as cur:
        for query in queries:
            cur.execute(digest.format(query), {"source": source})
            result.extend(cur.fetchone())
    return tuple(result)  # type: ignore[return-value]


def forget_loads(conn: Connection, source: str) -> None:
    """Empty staging.<source> and its bookkeeping, so the next run loads every object again."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("truncate {}").format(_table(source)))
        for table in (REJECTED_ROWS_TABLE, LOADS_TABLE):
            cur.execute(sql.SQL("delete from {} where source = %s").format(_table(table)), (source,))


def copy_progress(conn: Connection, table: str = "staging.orders") -> int | None:
    """Rows the loader's COPY into `table` has processed so far, None while no loader COPY runs."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select p.tuples_processed from pg_stat_progress_copy p
            join pg_stat_activity a using (pid)
            where a.application_name = 'c360-ingest' and p.relid = %s::regclass
            """,
            (table,),
        )
        row = cur.fetchone()
    return None if row is None else row[0]


def wait_mid_copy(conn: Connection, process: subprocess.Popen) -> None:
    """Return once the loader's COPY has passed its first thousand rows."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        progress = copy_progress(conn)
        if progress and progress > 1000:
            return
        assert process.poll() is None, "the loader finished before it could be caught mid-COPY"
        time.sleep(0.02)
    raise AssertionError("the loader never started its COPY")


def rows_of(conn: Connection, source: str, key: str) -> int:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("select count(*) from {} where _source_key = %s").format(_table(source)), (key,))
        return cur.fetchone()[0]


def rejects_of(conn: Connection, key: str) -> list[tuple[int, str, str]]:
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("select line_number, raw_line, reason from {} where source_key = %s order by 1").format(
                _table(REJECTED_ROWS_TABLE)
            ),
            (key,),
        )
        return cur.fetchall()


def load_record(conn: Connection, key: str) -> tuple | None:
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("select etag, rows_loaded, rows_rejected from {} where source_key = %s").format(
                _table(LOADS_TABLE)
            ),
            (key,),
        )
        return cur.fetchone()
