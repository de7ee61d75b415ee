"""Load the new objects of one source (or all) from the lake: the body of `c360-ingest load`.

Opens the connections, brings the staging schema up to date, lists the source's objects and
loads each in its own transaction with retries. One log line per object (key, status, rows
loaded, rows rejected, seconds) so `kubectl logs` tells the story. A refused object (bad header)
does not stop the others; the run reports it and ends non-zero.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import boto3
import psycopg2
from botocore.config import Config
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection

from customer360.contract import LOADS_TABLE, REJECTED_ROWS_TABLE, STAGING_SCHEMA, Source
from customer360.settings import Settings
from ingest.ddl import ensure_staging_schema
from ingest.errors import ObjectChangedError, ObjectVanishedError, PermanentLoadError
from ingest.lake import LakeObject, head_object, list_source_objects
from ingest.loader import LoadResult, load_object, open_from_s3
from ingest.retry import RetryPolicy, is_transient, with_retry

log = logging.getLogger(__name__)


@dataclass
class SourceReport:
    """What one run did for one source."""

    source: str
    loaded: list[LoadResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def connect_warehouse(settings: Settings) -> PgConnection:
    """A connection for loading; keepalives so a dead peer is noticed instead of hanging."""
    return psycopg2.connect(
        settings.warehouse_dsn(),
        application_name="c360-ingest",
        connect_timeout=10,
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    )


def s3_client(settings: Settings) -> Any:
    """boto3 client with botocore's own retries for single API calls and path-style addressing
    (MinIO and SeaweedFS serve buckets by path)."""
    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=10,
        read_timeout=60,
        s3={"addressing_style": "path"},
    )
    return boto3.client("s3", config=config, **settings.boto3_client_kwargs())


class _Warehouse:
    """Holds the loader's connection and replaces it after it broke."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conn = connect_warehouse(settings)

    def reconnect_if_broken(self) -> None:
        if self.conn.closed:
            self.conn = connect_warehouse(self.settings)
            return
        try:
            with self.conn.cursor() as cur:
                cur.execute("select 1")
            self.conn.rollback()
        except psycopg2.Error:
            self.conn.close()
            self.conn = connect_warehouse(self.settings)

    def close(self) -> None:
        self.conn.close()


def load_source(
    settings: Settings, source: Source, s3: Any | None = None, policy: RetryPolicy | None = None
) -> SourceReport:
    """Load every object of `source` that is new or changed since its recorded load."""
    policy = policy or RetryPolicy()
    report = SourceReport(source.name)
    s3 = s3 or s3_client(settings)
    bucket = settings.s3_bucket
    warehouse = with_retry(lambda: _Warehouse(settings), "connect to the warehouse", policy)
    try:
        with_retry(
            lambda: ensure_staging_schema(warehouse.conn),
            "staging schema",
            policy,
            warehouse.reconnect_if_broken,
        )
        objects = with_retry(
            lambda: list_source_objects(s3, bucket, source), f"list s3://{bucket}/{source.prefix}", policy
        )
        log.info("%s: %d object(s) under s3://%s/%s", source.name, len(objects), bucket, source.prefix)
        opener = open_from_s3(s3, bucket)
        for obj in objects:
            refresh = partial(head_object, s3, bucket)
            _load_one(warehouse, opener, refresh, source, obj, report, policy)
        if report.loaded:
            with_retry(
                lambda: _analyze(warehouse.conn, source), "analyze", policy, warehouse.reconnect_if_broken
            )
    finally:
        warehouse.close()
    log.info(
        "%s: done: %d loaded, %d skipped (already loaded), %d failed",
        source.name,
        len(report.loaded),
        len(report.skipped),
        len(report.failed),
    )
    return report


def _analyze(conn: PgConnection, source: Source) -> None:
    """Refresh planner statistics after a load: dbt's queries run right after, before autovacuum
    would have looked at the freshly filled tables."""
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for table in (source.name, LOADS_TABLE, REJECTED_ROWS_TABLE):
                cur.execute(sql.SQL("analyze {}").format(sql.Identifier(STAGING_SCHEMA, table)))
    finally:
        conn.autocommit = False


def _load_one(
    warehouse: _Warehouse,
    opener: Any,
    refresh: Callable[[str], LakeObject],
    source: Source,
    obj: LakeObject,
    report: SourceReport,
    policy: RetryPolicy,
) -> None:
    current = [obj]

    def attempt() -> LoadResult:
        try:
            return load_object(warehouse.conn, opener, source, current[0])
        except ObjectChangedError:
            current[0] = refresh(obj.key)  # overwritten mid-load: the retry loads the new bytes
            raise

    try:
        result = with_retry(attempt, obj.key, policy, warehouse.reconnect_if_broken)
    except ObjectVanishedError as error:
        report.skipped.append(obj.key)
        log.warning("skipped %s: %s", obj.key, error)
        warehouse.reconnect_if_broken()
        return
    except Exception as error:
        if not isinstance(error, PermanentLoadError) and not is_transient(error):
            raise  # a bug or a broken setup (credentials, bucket): stop the run loudly
        reason = " ".join(str(error).split())
        report.failed[obj.key] = reason
        log.error("refused %s: %s", obj.key, reason)
        warehouse.reconnect_if_broken()
        return
    if result.status == "skipped":
        report.skipped.append(obj.key)
        log.info("skipped %s: already loaded with etag %s", obj.key, obj.etag)
    else:
        report.loaded.append(result)
        log.info(
            "loaded %s: rows_loaded=%d rows_rejected=%d seconds=%.2f",
            obj.key,
            result.rows_loaded,
            result.rows_rejected,
            result.seconds,
        )
