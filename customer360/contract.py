"""The source data contract: the one place that names sources, columns and types.

The names are docs/interfaces.md's (Names), the files and columns docs/data-contract.md's.

The generator writes these headers, the loader creates and validates `staging` tables from them and
the dbt sources describe them; tests check that all three agree with this module.
"""

from __future__ import annotations

from dataclasses import dataclass

LAKE_BUCKET = "data-lake"
RAW_PREFIX = "raw"
WAREHOUSE_DATABASE = "warehouse"
STAGING_SCHEMA = "staging"
PRODUCTION_SCHEMA = "production"
LOADS_TABLE = "_loads"
REJECTED_ROWS_TABLE = "_rejected_rows"
LINEAGE_COLUMNS = ("_source_key", "_loaded_at", "_line_number")

# The warehouse's login roles (the privilege model of charts/customer360/files/warehouse-init.sql,
# the chart's warehouse.roles defaults): the loader writes `staging`, dbt reads it and writes
# `production`, analysts read `production`; Airflow keeps its metadata in a database of its own.
LOADER_ROLE = "c360_loader"
DBT_ROLE = "c360_dbt"
ANALYST_ROLE = "c360_analyst"
AIRFLOW_ROLE = "airflow"
AIRFLOW_DATABASE = "airflow"

# The value domain of every timestamp: [TIMESTAMP_MIN, TIMESTAMP_MAX), UTC. Wide enough for any
# real sign-up, order or ticket; narrow enough to refuse the sentinels exports use for "no date"
# (0001-01-01, 1900-01-01, 1970-01-01, 9999-12-31) and to keep dim_date's calendar small.
TIMESTAMP_MIN = "2000-01-01T00:00:00Z"
TIMESTAMP_MAX = "2100-01-01T00:00:00Z"

ORDER_STATUSES = ("placed", "shipped", "delivered", "cancelled", "returned")
TICKET_STATUSES = ("open", "pending", "resolved", "closed")
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")
TICKET_CHANNELS = ("email", "chat", "phone")


@dataclass(frozen=True)
class Column:
    """One CSV column and the PostgreSQL type it must parse as (empty field = NULL)."""

    name: str
    pg_type: str
    required: bool = True


@dataclass(frozen=True)
class Source:
    """One source system's CSV feed, landed under `raw/<name>/` and loaded into `staging.<name>`."""

    name: str
    id_column: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def object_key(self, day: str, batch: int | str) -> str:
        """Lake key of one batch: raw/<source>/dt=YYYY-MM-DD/<source>-<batch>.csv."""
        return f"{RAW_PREFIX}/{self.name}/dt={day}/{self.name}-{batch}.csv"

    @property
    def prefix(self) -> str:
        return f"{RAW_PREFIX}/{self.name}/"

    def day_prefix(self, day: str) -> str:
        """Lake prefix of one day's batches: raw/<source>/dt=YYYY-MM-DD/."""
        return f"{self.prefix}dt={day}/"


USERS = Source(
    name="users",
    id_column="user_id",
    columns=(
        Column("user_id", "bigint"),
        Column("name", "text"),
        Column("email", "text", required=False),
        Column("phone", "text", required=False),
        Column("address", "text", required=False),
        Column("country", "text", required=False),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
    ),
)

ORDERS = Source(
    name="orders",
    id_column="order_id",
    columns=(
        Column("order_id", "bigint"),
        Column("user_id", "bigint"),
        Column("order_date", "timestamptz"),
        Column("amount", "numeric(14,2)"),
        Column("currency", "text"),
        Column("status", "text"),
        Column("updated_at", "timestamptz"),
    ),
)

SUPPORT_TICKETS = Source(
    name="support_tickets",
    id_column="ticket_id",
    columns=(
        Column("ticket_id", "bigint"),
        Column("user_id", "bigint"),
        Column("created_at", "timestamptz"),
        Column("resolved_at", "timestamptz", required=False),
        Column("status", "text"),
        Column("priority", "text"),
        Column("channel", "text"),
        Column("csat", "smallint", required=False),
        Column("updated_at", "timestamptz"),
    ),
)

SOURCES: dict[str, Source] = {source.name: source for source in (USERS, ORDERS, SUPPORT_TICKETS)}


def get_source(name: str) -> Source:
    """Return the source called `name`, or fail with the list of known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(SOURCES)
        raise ValueError(f"unknown source {name!r}; known sources: {known}") from None
