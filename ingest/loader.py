"""Load one lake object into `staging.<source>`: one transaction, all or nothing.

Inside a single transaction, under an advisory lock on the object key:

1. skip if `_loads` already holds this key with this ETag (idempotent, re-checked under the lock
   so two loaders on one source never both load it);
2. delete the object's earlier rows and rejects (a changed object replaces exactly its own rows);
3. **pass 1**: stream S3 -> :class:`ingest.csvstream.CsvStream` -> ``COPY staging.<source> ...
   (FORMAT csv, ON_ERROR ignore)``. Structural rejects (field count, bad UTF-8, required empty)
   are spooled aside; PostgreSQL parses every typed value once and *skips* rows whose numbers or
   timestamps do not parse;
4. **pass 2**, only when COPY skipped rows: stream the object again (same ETag). Normally COPY's
   notices say which records were skipped, and only those are re-emitted into a temporary text
   table; otherwise (multi-line records, notices missing) every record is, and the skipped ones
   are found by comparing line numbers with what was loaded. ``pg_input_error_info`` names the
   column and the problem;
5. check loaded + rejected = data rows, write the `_loads` row, commit.

A kill or a lost connection at any point before the commit leaves staging exactly as it was,
because PostgreSQL rolls back a transaction whose session ends.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection
from psycopg2.extensions import cursor as PgCursor

from customer360.contract import LOADS_TABLE, REJECTED_ROWS_TABLE, STAGING_SCHEMA, Source
from ingest.copyio import copy_from_blocks
from ingest.csvstream import CsvStream, RejectedRecord, intersect_ranges, merge_ranges
from ingest.ddl import pg_type_sql
from ingest.domain import SESSION_SETTINGS, Screen, copy_filter, rule_checks
from ingest.errors import LoadConsistencyError
from ingest.lake import LakeObject
from ingest.locks import LOCK_NAMESPACE, object_lock_object

log = logging.getLogger(__name__)

# Rejects stay in memory up to this size, then spill to a temp file (a broken object can reject
# millions of rows; memory must not grow with that either).
REJECT_SPOOL_BYTES = 8 << 20

ChunkOpener = Callable[[LakeObject], Iterator[bytes]]


@dataclass(frozen=True)
class LoadResult:
    """Outcome of one object: loaded, or skipped because this ETag is already in `_loads`."""

    key: str
    status: str  # "loaded" | "skipped"
    rows_loaded: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0


def _table(name: str) -> sql.Identifier:
    return sql.Identifier(STAGING_SCHEMA, name)


def _csv_quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class _RejectSpool:
    """Rejected records buffered as COPY-ready CSV for `staging._rejected_rows`."""

    def __init__(self, source_key: str, source: str) -> None:
        self.file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed in close()
            max_size=REJECT_SPOOL_BYTES, mode="w+", encoding="utf-8", newline=""
        )
        self.writer = csv.writer(self.file, lineterminator="\n")
        self.source_key = source_key
        self.source = source
        self.count = 0

    def add(self, record: RejectedRecord) -> None:
        self.writer.writerow(
            [self.source_key, self.source, record.line_number, record.raw_line, record.reason]
        )
        self.count += 1

    def reset(self) -> None:
        """Forget what was spooled (pass 1 runs again)."""
        self.file.seek(0)
        self.file.truncate()
        self.count = 0

    def copy_into(self, cur: PgCursor) -> None:
        if not self.count:
            return
        self.file.seek(0)
        cur.copy_expert(
            sql.SQL(
                "copy {} (source_key, source, line_number, raw_line, reason) from stdin"
                " (format csv, force_not_null (raw_line, reason))"
            ).format(_table(REJECTED_ROWS_TABLE)),
            self.file,
            size=1 << 20,
        )

    def close(self) -> None:
        self.file.close()


def _already_loaded(cur: PgCursor, obj: LakeObject) -> bool:
    cur.execute(sql.SQL("select etag from {} where source_key = %s").format(_table(LOADS_TABLE)), (obj.key,))
    row = cur.fetchone()
    return row is not None and row[0] == obj.etag


def _forget_earlier_load(cur: PgCursor, source: Source, key: str) -> None:
    cur.execute(sql.SQL("delete from {} where _source_key = %s").format(_table(source.name)), (key,))
    cur.execute(sql.SQL("delete from {} where source_key = %s").format(_table(REJECTED_ROWS_TABLE)), (key,))


def _pass_one(
    conn: PgConnection,
    cur: PgCursor,
    open_chunks: ChunkOpener,
    source: Source,
    obj: LakeObject,
    spool: _RejectSpool,
    optimistic: bool,
) -> tuple[CsvStream, int, SkippedRows]:
    """Pass 1: the structural pass streamed into the typed COPY. Returns the stream (its counts,
    runs and screened lines), the rows PostgreSQL kept and COPY's notices of skipped rows."""
    stream = CsvStream(
        open_chunks(obj),
        source,
        obj.key,
        spool.add,
        trailer="," + _csv_quote(obj.key),
        screen=Screen.of(source),
        optimistic=optimistic,
    )
    skipped = SkippedRows()
    saved_notices, conn.notices = conn.notices, skipped
    try:
        loaded = _copy_typed(cur, source, stream)
        cur.execute("select 1")  # psycopg2 hands over a statement's notices after the next one
    finally:
        conn.notices = saved_notices
    return stream, loaded, skipped


def _copy_typed(cur: PgCursor, source: Source, stream: CsvStream) -> int:
    """Pass 1: COPY straight into the typed staging table, holding back the domain suspects
    (:func:`ingest.domain.copy_filter`); returns the rows PostgreSQL kept."""
    columns = [sql.Identifier(c.name) for c in source.columns]
    columns += [sql.Identifier("_line_number"), sql.Identifier("_source_key")]
    cur.execute("select now()::text")
    where = copy_filter(source, cur.fetchone()[0]) or sql.SQL("")
    statement = sql.SQL(
        "copy {} ({}) from stdin (format csv, on_error ignore, log_verbosity verbose) {}"
    ).format(_table(source.name), sql.SQL(", ").join(columns), where)
    return copy_from_blocks(cur, statement, stream.copy_blocks())


def _csv_field_sql(column: sql.Identifier) -> sql.Composable:
    """SQL that re-serialises one text field as RFC 4180 CSV (minimal quoting, NULL as empty)."""
    return sql.SQL(
        """case when {c} is null then '' when {c} ~ '[",\\r\\n]' """
        """then '"' || replace({c}, '"', '""') || '"' else {c} end"""
    ).format(c=column)


class SkippedRows:
    """psycopg2 notice sink that keeps only the ordinals of the rows COPY skipped.

    With ``log_verbosity verbose`` PostgreSQL sends one NOTICE per row that ``on_error ignore``
    skipped, naming its line in the COPY stream. That line is the record's ordinal only when no
    emitted record holds a newline (the loader checks), and parsing is English-only: whenever
    the notices cannot be trusted (count differs, multi-line records) the loader falls back to
    comparing line numbers in SQL, and in exact mode every picked record must really fail a
    type check, so a wrong guess here costs time or fails loudly, never loses or invents rows.
    """

    _PATTERN = re.compile(r"skipping row due to data type incompatibility at line (\d+) for column")

    def __init__(self) -> None:
        self.ordinals: list[int] = []

    def append(self, notice: str) -> None:
        match = self._PATTERN.search(notice)
        if match:
            self.ordinals.append(int(match.group(1)))


def _multirange(ranges: list[tuple[int, int]]) -> str:
    return "{" + ",".join(f"[{start},{stop})" for start, stop in ranges) + "}"


@dataclass(frozen=True)
class _Routed:
    """What pass 2 did: of the records COPY did not keep (`missing`: type errors and held-back
    suspects), how many it `restored` (held back but inside the domain after all); and how many
    loaded rows broke the value domain (`out_of_domain`, deleted). Everything else it judged went
    to `_rejected_rows`."""

    missing: int
    restored: int
    out_of_domain: int


def _route_rejects(
    cur: PgCursor,
    source: Source,
    key: str,
    stream: CsvStream,
    skipped_lines: list[int] | None,
    candidates: list[tuple[int, int]],
) -> _Routed:
    """Pass 2: the records COPY did not keep and the domain candidates, as text, judged set-based.

    `stream` re-reads the object. With `skipped_lines` (every record COPY did not keep, located
    from its notices) it emits only those records and the candidates; with None it emits every
    record, and the missing ones are found by comparing line numbers with what was loaded. Each
    record gets the first rule it breaks: a type error (``pg_input_error_info`` names the column
    and the problem), then the value domain (:func:`ingest.domain.rule_checks`). In exact mode a
    skipped record must break a type rule (else the mapping from notices to lines was wrong: NOT
    NULL on `reason` fails loudly). A candidate that breaks no rule stays loaded; a held-back
    suspect that breaks none is inserted.
    """
    names = [sql.Identifier(c.name) for c in source.columns]
    text_columns = sql.SQL(", ").join(sql.SQL("{} text").format(n) for n in names)
    cur.execute(
        sql.SQL("create temp table c360_retype ({}, _line_number bigint) on commit drop").format(text_columns)
    )
    copy_from_blocks(
        cur,
        sql.SQL("copy c360_retype ({}, _line_number) from stdin (format csv)").format(
            sql.SQL(", ").join(names)
        ),
        stream.copy_blocks(),
    )
    cur.execute("create temp table c360_skipped (_line_number bigint primary key) on commit drop")
    params = {"key": key, "source": source.name, "candidates": _multirange(candidates)}
    exact = skipped_lines is not None
    if exact:
        if skipped_lines:
            cur.copy_expert(
                "copy c360_skipped from stdin", io.StringIO("".join(f"{line}\n" for line in skipped_lines))
            )
    else:
        # The missing line numbers are a set difference; hashing both sides is linear. (A NOT
        # EXISTS planned as a nested loop over the un-analysed temp table probed BRIN per row.)
        cur.execute(
            sql.SQL(
                """
                insert into c360_skipped
                select _line_number from c360_retype
                except
                select _line_number from {} where _source_key = %(key)s
                """
            ).format(_table(source.name)),
            params,
        )
        # Judge only what needs judging: the skipped records and the domain candidates.
        cur.execute(
            """
            delete from c360_retype t
            where not t._line_number <@ %(candidates)s::int8multirange
            and not exists (select from c360_skipped s where s._line_number = t._line_number)
            """,
            params,
        )
    type_checks = [
        sql.SQL(
            "when not pg_input_is_valid(t.{c}, {ty})"
            " then {label} || (pg_input_error_info(t.{c}, {ty})).message"
        ).format(c=sql.Identifier(c.name), ty=sql.Literal(c.pg_type), label=sql.Literal(f"{c.name}: "))
        for c in source.columns
        if c.pg_type != "text"
    ]
    reason = sql.SQL("case {} else null end").format(
        sql.SQL(" ").join(type_checks + rule_checks(source, "t"))
    )
    raw = sql.SQL("concat_ws(',', {})").format(
        sql.SQL(", ").join(_csv_field_sql(sql.SQL("t.{}").format(n)) for n in names)
    )
    cur.execute(
        sql.SQL(
            """
            create temp table c360_judged on commit drop as
            select t._line_number, {raw} as raw_line, {reason} as reason,
                   s._line_number is not null as skipped
            from c360_retype t left join c360_skipped s using (_line_number)
            """
        ).format(raw=raw, reason=reason)
    )
    rejected = "reason is not null or skipped" if exact else "reason is not null"
    cur.execute(
        sql.SQL(
            """
            insert into {} (source_key, source, line_number, raw_line, reason)
            select %(key)s, %(source)s, _line_number, raw_line, reason
            from c360_judged
            where {}
            """
        ).format(_table(REJECTED_ROWS_TABLE), sql.SQL(rejected)),
        params,
    )
    cur.execute(
        "select count(*) filter (where skipped), count(*) filter (where skipped and reason is null),"
        " count(*) filter (where not skipped and reason is not null) from c360_judged"
    )
    missing, restored, out_of_domain = cur.fetchone()
    if restored:  # held back by the COPY's filter, inside the domain after all (see domain.py)
        casts = sql.SQL(", ").join(
            sql.SQL("t.{}::{}").format(n, pg_type_sql(c.pg_type))
            for n, c in zip(names, source.columns, strict=True)
        )
        cur.execute(
            sql.SQL(
                """
                insert into {target} ({columns}, _line_number, _source_key)
                select {casts}, t._line_number, %(key)s
                from c360_retype t join c360_judged j using (_line_number)
                where j.skipped and j.reason is null
                """
            ).format(target=_table(source.name), columns=sql.SQL(", ").join(names), casts=casts),
            params,
        )
    if out_of_domain:
        cur.execute(
            sql.SQL(
                """
                delete from {target} x using c360_judged j
                where x._source_key = %(key)s and x._line_number = j._line_number
                and not j.skipped and j.reason is not null
                """
            ).format(target=_table(source.name)),
            params,
        )
        if cur.rowcount != out_of_domain:
            raise LoadConsistencyError(
                f"{key}: {out_of_domain} loaded rows break the value domain but {cur.rowcount} were deleted"
            )
    return _Routed(missing, restored, out_of_domain)


def load_object(conn: PgConnection, open_chunks: ChunkOpener, source: Source, obj: LakeObject) -> LoadResult:
    """Load `obj` into `staging.<source>` atomically (see the module docstring for the steps).

    `open_chunks(obj)` returns a fresh iterator over the object's bytes; it is called once, or
    twice when rows need routing to `_rejected_rows` after the COPY. Raises on any failure after
    rolling back.
    """
    started = time.monotonic()
    conn.autocommit = False
    spool = _RejectSpool(obj.key, source.name)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, object_lock_object(obj.key)))
            if _already_loaded(cur, obj):
                conn.rollback()
                return LoadResult(obj.key, "skipped")
            cur.execute(SESSION_SETTINGS)
            _forget_earlier_load(cur, source, obj.key)
            cur.execute("savepoint c360_pass_one")
            try:
                first, loaded, skipped = _pass_one(conn, cur, open_chunks, source, obj, spool, True)
            except psycopg2.errors.BadCopyFileFormat:
                # lines whose wrong field counts cancelled out in a block's total reached COPY (see
                # CsvStream.optimistic): read the object again, counting every line
                cur.execute("rollback to savepoint c360_pass_one")
                log.info("%s: wrong field counts cancel out in a block; reading it again", obj.key)
                spool.reset()
                first, loaded, skipped = _pass_one(conn, cur, open_chunks, source, obj, spool, False)
            spool.copy_into(cur)
            candidates = intersect_ranges(merge_ranges(first.flagged), first.emitted_ranges())
            routed = _Routed(0, 0, 0)
            if loaded < first.emitted or candidates:
                exact = len(skipped.ordinals) == first.emitted - loaded and not first.multiline_emitted
                skipped_lines = first.lines_of_ordinals(skipped.ordinals) if exact else None
                pick = merge_ranges([*candidates, *((n, n + 1) for n in skipped_lines)]) if exact else None
                second = CsvStream(
                    open_chunks(obj), source, obj.key, lambda _r: None, pick=pick, optimistic=first.optimistic
                )
                routed = _route_rejects(cur, source, obj.key, second, skipped_lines, candidates)
                if second.data_rows != first.data_rows:
                    raise LoadConsistencyError(
                        f"{obj.key}: the two reads differ ({first.data_rows} vs {second.data_rows} data rows)"
                    )
            if routed.missing != first.emitted - loaded:
                raise LoadConsistencyError(
                    f"{obj.key}: COPY did not keep {first.emitted - loaded} rows, {routed.missing} were found"
                )
            loaded += routed.restored - routed.out_of_domain
            rejected = spool.count + routed.missing - routed.restored + routed.out_of_domain
            if loaded + rejected != first.data_rows:
                raise LoadConsistencyError(
                    f"{obj.key}: loaded {loaded} + rejected {rejected} != {first.data_rows} data rows"
                )
            seconds = time.monotonic() - started
            cur.execute(
                sql.SQL(
                    """
                    insert into {} (source_key, source, etag, size_bytes, rows_loaded, rows_rejected,
                                    loaded_at, seconds)
                    values (%s, %s, %s, %s, %s, %s, now(), %s)
                    on conflict (source_key) do update set
                        source = excluded.source, etag = excluded.etag, size_bytes = excluded.size_bytes,
                        rows_loaded = excluded.rows_loaded, rows_rejected = excluded.rows_rejected,
                        loaded_at = excluded.loaded_at, seconds = excluded.seconds
                    """
                ).format(_table(LOADS_TABLE)),
                (obj.key, source.name, obj.etag, obj.size, loaded, rejected, seconds),
            )
        conn.commit()
        return LoadResult(obj.key, "loaded", loaded, rejected, seconds)
    except BaseException:
        if not conn.closed:
            try:
                conn.rollback()
            except Exception:  # the connection may be gone; the server rolls back on its own
                log.debug("rollback failed after an error", exc_info=True)
        raise
    finally:
        spool.close()


def open_from_s3(s3: Any, bucket: str) -> ChunkOpener:
    """A ChunkOpener that streams from the lake (kept here so tests can pass their own)."""
    from ingest.lake import stream_object

    return lambda obj: stream_object(s3, bucket, obj)
