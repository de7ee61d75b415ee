"""Versioned DDL of the `staging` schema: the loader creates what it writes into.

Migrations are numbered and applied in order, each exactly once, recorded in
``staging._schema_version``. Every loader calls :func:`ensure_staging_schema` before loading, so
several loaders (three sources in parallel, or two on the same source) may race here: the work
runs in one transaction under a transaction-scoped advisory lock, and a loader that finds the
schema already current returns without taking the lock at all.

Table and column names come from :mod:`customer360.contract` and are always quoted with
``psycopg2.sql.Identifier``. To change a staging table, append a migration; never edit an
applied one (a database that already ran it would silently differ from a fresh one).
:func:`check_staging_matches_contract` catches a contract change that has no migration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection
from psycopg2.extensions import cursor as PgCursor

from customer360.contract import (
    LINEAGE_COLUMNS,
    LOADS_TABLE,
    REJECTED_ROWS_TABLE,
    SOURCES,
    STAGING_SCHEMA,
)
from ingest.locks import DDL_LOCK_OBJECT, LOCK_NAMESPACE

SCHEMA_VERSION_TABLE = "_schema_version"

# Contract types are code, not input, but they are spliced into DDL unquoted (a type name cannot
# be an Identifier), so accept only the plain shapes the contract uses, e.g. `numeric(14,2)`.
_PG_TYPE = re.compile(r"^[a-z][a-z0-9 ]*(\(\d+(,\d+)?\))?$")


class SchemaDriftError(RuntimeError):
    """A staging table differs from the contract (a contract change without a migration)."""


@dataclass(frozen=True)
class Migration:
    """One forward step of the staging schema; ``apply`` runs inside the migration transaction."""

    version: int
    description: str
    apply: Callable[[PgCursor], None]


def pg_type_sql(type_name: str) -> sql.SQL:
    if not _PG_TYPE.match(type_name):
        raise ValueError(f"refusing to use {type_name!r} as a PostgreSQL type in DDL")
    return sql.SQL(type_name)


def _table(name: str) -> sql.Identifier:
    return sql.Identifier(STAGING_SCHEMA, name)


# Migration 1 as it was applied: frozen here, not read from the live contract, so that changing
# the contract cannot rewrite history (a database that ran it would differ from a fresh one).
# A contract change appends a migration; check_staging_matches_contract catches one that does not.
_V1_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "users": (
        ("user_id", "bigint"),
        ("name", "text"),
        ("email", "text"),
        ("phone", "text"),
        ("address", "text"),
        ("country", "text"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ),
    "orders": (
        ("order_id", "bigint"),
        ("user_id", "bigint"),
        ("order_date", "timestamptz"),
        ("amount", "numeric(14,2)"),
        ("currency", "text"),
        ("status", "text"),
        ("updated_at", "timestamptz"),
    ),
    "support_tickets": (
        ("ticket_id", "bigint"),
        ("user_id", "bigint"),
        ("created_at", "timestamptz"),
        ("resolved_at", "timestamptz"),
        ("status", "text"),
        ("priority", "text"),
        ("channel", "text"),
        ("csat", "smallint"),
        ("updated_at", "timestamptz"),
    ),
}


def _v1_initial(cur: PgCursor) -> None:
    for name, contract_columns in _V1_TABLES.items():
        # Contract columns allow NULL (the loader enforces `required`; rows that break it never
        # get here); the lineage columns (contract.LINEAGE_COLUMNS) follow them.
        columns = [
            sql.SQL("{} {}").format(sql.Identifier(column), pg_type_sql(pg_type))
            for column, pg_type in contract_columns
        ]
        columns += [
            sql.SQL("_source_key text not null"),
            # Defaults to the transaction start, so every row of one object shares one load time.
            sql.SQL("_loaded_at timestamptz not null default now()"),
            sql.SQL("_line_number bigint not null"),
        ]
        cur.execute(
            sql.SQL("create table if not exists {} ({})").format(_table(name), sql.SQL(", ").join(columns))
        )
        # Replacing or reconciling one object's rows must not scan the whole table. An object's
        # rows are appended together, so a BRIN index prunes well; a btree on the key measured
        # about twice the COPY time of the table alone (every row inserts an index entry).
        cur.execute(
            sql.SQL(
                "create index if not exists {} on {} using brin (_source_key) with (autosummarize = on)"
            ).format(sql.Identifier(f"{name}__source_key_idx"), _table(name))
        )
    cur.execute(
        sql.SQL(
            """
            create table if not exists {} (
                source_key    text primary key,
                source        text not null,
                etag          text not null,
                size_bytes    bigint,
                rows_loaded   bigint not null check (rows_loaded >= 0),
                rows_rejected bigint not null check (rows_rejected >= 0),
                loaded_at     timestamptz not null default now(),
                seconds       double precision not null
            )
            """
        ).format(_table(LOADS_TABLE))
    )
    cur.execute(
        sql.SQL("create index if not exists {} on {} (source)").format(
            sql.Identifier(f"{LOADS_TABLE}__source_idx"), _table(LOADS_TABLE)
        )
    )
    cur.execute(
        sql.SQL(
            """
            create table if not exists {} (
                source_key  text not null,
                source      text not null,
                line_number bigint not null,
                raw_line    text not null,
                reason      text not null,
                rejected_at timestamptz not null default now(),
                primary key (source_key, line_number)
            )
            """
        ).format(_table(REJECTED_ROWS_TABLE))
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "staging tables per source, _loads, _rejected_rows", _v1_initial),
)
LATEST_VERSION = MIGRATIONS[-1].version


def _current_version(cur: PgCursor) -> int:
    cur.execute("select to_regclass(%s)", (f"{STAGING_SCHEMA}.{SCHEMA_VERSION_TABLE}",))
    if cur.fetchone()[0] is None:
        return 0
    cur.execute(sql.SQL("select coalesce(max(version), 0) from {}").format(_table(SCHEMA_VERSION_TABLE)))
    return int(cur.fetchone()[0])


def _migrate(cur: PgCursor, migrations: Sequence[Migration]) -> list[int]:
    cur.execute("select pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, DDL_LOCK_OBJECT))
    # The schema belongs to the warehouse's privilege model (charts/customer360/files/
    # warehouse-init.sql, which makes the loader its owner), not to a migration.
    cur.execute("select to_regnamespace(%s)", (STAGING_SCHEMA,))
    if cur.fetchone()[0] is None:
        raise SchemaDriftError(
            f"schema {STAGING_SCHEMA} does not exist in this database; the warehouse's init SQL "
            "creates it (the chart's postgres init script, or `c360-stack up` locally)"
        )
    cur.execute(
        sql.SQL(
            """
            create table if not exists {} (
                version     integer primary key,
                description text not null,
                applied_at  timestamptz not null default now()
            )
            """
        ).format(_table(SCHEMA_VERSION_TABLE))
    )
    current = _current_version(cur)  # re-read under the lock: another loader may have migrated
    applied = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= current:
            continue
        migration.apply(cur)
        cur.execute(
            sql.SQL("insert into {} (version, description) values (%s, %s)").format(
                _table(SCHEMA_VERSION_TABLE)
            ),
            (migration.version, migration.description),
        )
        applied.append(migration.version)
    return applied


def ensure_staging_schema(conn: PgConnection, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Bring `staging` to the latest version; return the versions applied now (empty if current).

    Works on autocommit and non-autocommit connections alike and commits its own transaction,
    so call it before starting a load transaction, not inside one.
    """
    latest = max(m.version for m in migrations)
    was_autocommit = conn.autocommit
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            if _current_version(cur) >= latest:
                conn.rollback()
                check_staging_matches_contract(conn)
                return []
            applied = _migrate(cur, migrations)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.autocommit = was_autocommit
    check_staging_matches_contract(conn)
    return applied


def check_staging_matches_contract(conn: PgConnection) -> None:
    """Fail clearly when a staging table's columns differ from the contract (names and types)."""
    with conn.cursor() as cur:
        for source in SOURCES.values():
            cur.execute(
                """
                select a.attname, format_type(a.atttypid, a.atttypmod)
                from pg_attribute a
                where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
                order by a.attnum
                """,
                (f"{STAGING_SCHEMA}.{source.name}",),
            )
            found = cur.fetchall()
            actual = [(name, type_name) for name, type_name in found if name not in LINEAGE_COLUMNS]
            lineage = tuple(name for name, _ in found if name in LINEAGE_COLUMNS)
            # Let the server canonicalise the contract's type names (`timestamptz` prints as
            # `timestamp with time zone`); to_regtypemod keeps the typmod of `numeric(14,2)`.
            cur.execute(
                "select format_type(to_regtype(t), to_regtypemod(t))"
                " from unnest(%s::text[]) with ordinality u(t, i) order by i",
                ([c.pg_type for c in source.columns],),
            )
            expected = [(c.name, row[0]) for c, row in zip(source.columns, cur.fetchall(), strict=True)]
            if actual != expected or lineage != LINEAGE_COLUMNS:
                raise SchemaDriftError(
                    f"table {STAGING_SCHEMA}.{source.name} has columns {actual} and lineage columns "
                    f"{list(lineage)} but the contract says {expected} and {list(LINEAGE_COLUMNS)}; "
                    "add a migration to ingest/ddl.py"
                )
    if not conn.autocommit:
        conn.rollback()
