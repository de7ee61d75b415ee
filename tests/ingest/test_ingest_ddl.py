"""The versioned staging DDL on the real PostgreSQL: what dbt reads is what the contract says,
migrations run once even when loaders race, and a contract change without a migration is caught."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from customer360.contract import SOURCES
from customer360.settings import Settings
from ingest.ddl import LATEST_VERSION, SchemaDriftError, ensure_staging_schema

pytestmark = pytest.mark.integration


def _columns(conn, table: str) -> list[tuple[str, str, bool]]:
    with conn.cursor() as cur:
        cur.execute(
            """
            select column_name, data_type, is_nullable = 'YES' from information_schema.columns
            where table_schema = 'staging' and table_name = %s order by ordinal_position
            """,
            (table,),
        )
        return cur.fetchall()


def test_racing_loaders_migrate_once(clean_stack: Settings, pg_conn) -> None:
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        conn = psycopg2.connect(clean_stack.warehouse_dsn())
        try:
            applied.append(ensure_staging_schema(conn))
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(applied) == [[], [], [], list(range(1, LATEST_VERSION + 1))]
    with pg_conn.cursor() as cur:
        cur.execute("select version from staging._schema_version order by 1")
        assert [v for (v,) in cur.fetchall()] == list(range(1, LATEST_VERSION + 1))
    assert ensure_staging_schema(pg_conn) == []


def test_staging_tables_follow_the_contract(clean_stack: Settings, pg_conn) -> None:
    ensure_staging_schema(pg_conn)
    for source in SOURCES.values():
        columns = _columns(pg_conn, source.name)
        assert [name for name, _, _ in columns] == [
            *source.header,
            "_source_key",
            "_loaded_at",
            "_line_number",
        ]
        assert columns[-3:] == [
            ("_source_key", "text", False),
            ("_loaded_at", "timestamp with time zone", False),
            ("_line_number", "bigint", False),
        ]
    assert [name for name, _, _ in _columns(pg_conn, "_loads")] == [
        "source_key", "source", "etag", "size_bytes", "rows_loaded", "rows_rejected", "loaded_at", "seconds",
    ]  # fmt: skip
    assert [name for name, _, _ in _columns(pg_conn, "_rejected_rows")] == [
        "source_key", "source", "line_number", "raw_line", "reason", "rejected_at",
    ]  # fmt: skip


def test_contract_drift_without_migration_is_refused(clean_stack: Settings, pg_conn) -> None:
    ensure_staging_schema(pg_conn)
    with pg_conn.cursor() as cur:
        cur.execute("alter table staging.orders alter column amount type numeric(10,2)")
        try:
            with pytest.raises(SchemaDriftError, match=r"staging\.orders .*add a migration"):
                ensure_staging_schema(pg_conn)
        finally:  # later modules of the session may expect a sound schema
            cur.execute("alter table staging.orders alter column amount type numeric(14,2)")
    ensure_staging_schema(pg_conn)
