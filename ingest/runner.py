"""Load the new objects of one source (or all) from the lake: the body of `c360-ingest load`.

Brings the staging schema up to date, lists the source's objects and loads each in its own
transaction with retries. One log line per object (key, status, rows loaded, rows rejected,
seconds) so `kubectl logs` tells the story. An object that cannot be loaded as it is (a refused
header, one that keeps changing) does not stop the others: the report names it and the run ends
non-zero. A server that stays unreachable through every retry stops the source: there is no
point in trying each remaining object for another half minute.
"""

from __future__ import annotations

import contextlib
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
from ingest.errors import HeaderMismatchError, ObjectChangedError, ObjectVanishedError, PermanentLoadError
from ingest.lake import LakeObject, head_object, list_source_objects
from ingest.loader import LoadResult, load_object, open_from_s3
from ingest.retry import RetriesExhaustedError, RetryPolicy, with_retry

log = logging.getLogger(__name__)


@dataclass
class SourceReport:
    """What one run did for one source. `refused` and `failed` map an object key to the reason."""

    source: str
    loaded: list[LoadResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # the object itself is bad (its header)
    failed: dict[str, str] = field(default_factory=dict)  # could not be loaded (e.g. kept changing)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.failed


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
    """boto3 client with path-style addressing (MinIO and SeaweedFS serve buckets by path).

    botocore's own retries are off: :func:`ingest.retry.with_retry` is the one retry layer, so the
    documented attempts are what really happens (botocore's 5 tries inside each of ours would
    stretch a dead S3 server to minutes and make the attempt count meaningless).
    """
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=10,
        read_timeout=60,
        s3={"addressing_style": "path"},
    )
    return boto3.client("s3", config=config, **settings.boto3_client_kwargs())


class _Warehouse:
    """The loader's connection, opened on first use and dropped after a failed attempt.

    Every operation asks for :meth:`connection` inside its retried block, so (re)connecting is
    part of the attempt: while the server restarts, connecting fails and counts as one attempt.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: PgConnection | None = None

    def connection(self) -> PgConnection:
        if self._conn is not None and self._conn.closed:
            self._conn = None
        if self._conn is None:
            self._conn = connect_warehouse(self.settings)
        return self._conn

    def discard(self) -> None:
        """Forget the connection before a retry: it may have died with its server (a restarted
        server leaves the client side looking open), and a new one costs milliseconds."""
        if self._conn is not None:
            with contextlib.suppress(psycopg2.Error):  # already broken: nothing left to close
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        self.discard()


def load_source(
    settings: Settings, source: Source, s3: Any | None = None, policy: RetryPolicy | None = None
) -> SourceReport:
    """Load every object of `source` that is new or changed since its recorded load.

    Raises when the source cannot be loaded at all (a server unreachable after every attempt,
    bad credentials, a missing bucket, schema drift); :mod:`ingest.diagnosis` turns that into the
    one line the CLI ends with.
    """
    policy = policy or RetryPolicy()
    report = SourceReport(source.name)
    s3 = s3 or s3_client(settings)
    bucket = settings.s3_bucket
    warehouse = _Warehouse(settings)
    try:
        with_retry(
            lambda: ensure_staging_schema(warehouse.connection()), "staging schema", policy, warehouse.discard
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
            with_retry(lambda: _analyze(warehouse.connection(), source), "analyze", policy, warehouse.discard)
    finally:
        warehouse.close()
    log.info(
        "%s: done: %d loaded, %d skipped (already loaded), %d refused, %d failed",
        source.name,
        len(report.loaded),
        len(report.skipped),
        len(report.refused),
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
            return load_object(warehouse.connection(), opener, source, current[0])
        except ObjectChangedError:
            current[0] = refresh(obj.key)  # overwritten mid-load: the retry loads the new bytes
            raise

    try:
        result = with_retry(attempt, obj.key, policy, warehouse.discard)
    except ObjectVanishedError as error:
        report.skipped.append(obj.key)
        log.warning("skipped %s: %s", obj.key, error)
        return
    except HeaderMismatchError as error:
        # "refused" is reserved for this: the object itself does not fit the contract
        report.refused[obj.key] = _flat(error)
        log.error("refused %s: %s", obj.key, report.refused[obj.key])
        return
    except PermanentLoadError as error:  # e.g. LoadConsistencyError: rolled back, nothing written
        report.failed[obj.key] = _flat(error)
        log.error("failed %s: %s", obj.key, report.failed[obj.key])
        return
    except RetriesExhaustedError as error:
        if not isinstance(error.error, ObjectChangedError):
            raise  # a server stayed unreachable: every other object would wait the same way
        report.failed[obj.key] = _flat(error)
        log.error("failed %s: %s", obj.key, report.failed[obj.key])
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


def _flat(error: BaseException) -> str:
    return " ".join(str(error).split())
