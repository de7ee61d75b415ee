"""The dbt project end to end on generated data, as the DAG runs it: datagen -> lake -> ingest ->
`dbt source freshness`, `build --selector staging`, `snapshot`, `build --selector marts`, docs.

One dataset per module (a few thousand users, two daily batches). The tests run in file order:
first everything about day 1, then day 2 is loaded and built incrementally, then broken inputs.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from dbt_runner import DbtResult, DbtRunner, node_name
from psycopg2.extensions import connection as Connection
from psycopg2.extras import RealDictCursor
from reference_360 import RawObject, assert_same_rows, customer_360

from customer360.settings import Settings

pytestmark = pytest.mark.integration

USERS = 2000
SEED = 4  # with 2000 users every dirt kind the warn tests count occurs a few times
BIN = Path(sys.executable).parent
DayBuild = tuple["Day", dict[str, DbtResult]]
WARN_TESTS_BY_DIRT = {
    ("orders", "negative_amount"): "warn_stg_orders_negative_amount",
    ("orders", "unknown_status"): "warn_stg_orders_unknown_status",
    ("orders", "orphan_user_id"): "warn_stg_orders_orphan_customer",
    ("support_tickets", "orphan_user_id"): "warn_stg_tickets_orphan_customer",
    ("support_tickets", "resolved_before_created"): "warn_stg_tickets_resolved_before_created",
}
FULL_REFRESH_SCHEMA = "production_full"
# What incremental runs build, with the key to order by (the snapshot keeps history: not compared).
INCREMENTAL_TABLES = {
    "stg_user_db__users": "customer_id",
    "stg_ecommerce__orders": "order_id",
    "stg_support_desk__support_tickets": "ticket_id",
    "dim_customers": "customer_id",
    "dim_date": "date_day",
    "fct_orders": "order_id",
    "fct_support_tickets": "ticket_id",
    "customer_360": "customer_id",
}
# The loader refuses what these count, so on loaded data they find nothing.
DOMAIN_WARN_TESTS = (
    "warn_stg_orders_out_of_domain",
    "warn_stg_tickets_out_of_domain",
    "warn_stg_users_out_of_domain",
)


@dataclass
class Day:
    """One generated daily batch: its summary and its objects' local copies."""

    summary: dict[str, Any]

    def dirt(self, source: str, kind: str) -> int:
        return self.summary["sources"][source]["dirt"][kind]


class Pipeline:
    """Drives the module's warehouse through the DAG's steps and remembers what it loaded."""

    def __init__(self, settings: Settings, conn: Connection, s3: BaseClient, dbt: DbtRunner, work: Path):
        self.settings, self.conn, self.s3, self.dbt, self.work = settings, conn, s3, dbt, work
        # the same project, building into a schema of its own: the full refresh to compare with
        self.full_dbt = DbtRunner(work / "dbt-full", env={"DBT_SCHEMA": FULL_REFRESH_SCHEMA})
        self.loaded_objects: list[dict[str, Any]] = []
        self.turned_invalid_order_id: int | None = None
        self.multi_day: dict[str, Any] = {}

    def generate(self, day: int) -> Day:
        folder, summary = self.work / f"day{day}", self.work / f"day{day}.json"
        args = [
            "--users",
            str(USERS),
            "--seed",
            str(SEED),
            "--target",
            str(folder),
            "--summary",
            str(summary),
        ]
        subprocess.run(
            [BIN / "c360-datagen", "generate", "--day", str(day), *args], check=True, capture_output=True
        )
        return Day(json.loads(summary.read_text()))

    def land_and_load(self, day: Day) -> None:
        for obj in day.summary["objects"]:
            self.s3.upload_file(obj["location"], self.settings.s3_bucket, obj["key"])
        self.load()
        self.loaded_objects += day.summary["objects"]

    def load(self) -> None:
        proc = subprocess.run(
            [BIN / "c360-ingest", "load", "--source", "all"], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr[-4000:]

    def replace(self, obj: dict[str, Any], keep: Callable[[dict[str, str]], bool]) -> list[dict[str, str]]:
        """Overwrite a loaded object in the lake with its own records that `keep` accepts (the
        next load replaces its staging rows); returns the records left out."""
        with Path(obj["location"]).open(newline="") as handle:
            reader = csv.DictReader(handle)
            header, records = reader.fieldnames, list(reader)
        replacement = self.work / f"replaced-{Path(obj['location']).name}"
        with replacement.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(record for record in records if keep(record))
        self.s3.upload_file(str(replacement), self.settings.s3_bucket, obj["key"])
        obj["location"] = str(replacement)  # the independent customer_360 reads what is loaded now
        return [record for record in records if not keep(record)]

    def transform(self, *marts_args: str, freshness: bool = True) -> dict[str, DbtResult]:
        """The DAG's dbt tasks in order; each must exit 0 (warnings allowed)."""
        results = {"freshness": self.dbt("source", "freshness")} if freshness else {}
        return results | {
            "staging": self.dbt("build", "--selector", "staging"),
            "snapshot": self.dbt("snapshot", "--selector", "snapshots"),
            "marts": self.dbt("build", "--selector", "marts", *marts_args),
        }

    def query(self, statement: str) -> list[dict[str, Any]]:
        with self.conn.cursor(cursor_factory=RealDictCursor) as cur:
            cur.execute(statement)
            return [dict(row) for row in cur.fetchall()]

    def expected_customer_360(self) -> dict[int, dict[str, Any]]:
        rejected = {
            (r["source_key"], r["line_number"]) for r in self.query("select * from staging._rejected_rows")
        }
        load_rank = {
            r["source_key"]: rank
            for rank, r in enumerate(
                self.query("select source_key from staging._loads order by loaded_at, source_key")
            )
        }
        objects: dict[str, list[RawObject]] = {}
        for obj in self.loaded_objects:
            raw = RawObject(obj["key"], Path(obj["location"]), load_rank[obj["key"]])
            objects.setdefault(obj["source"], []).append(raw)
        return customer_360(objects, rejected)

    def extra_object(self, source: str, name: str, day: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """A hand-written lake object of `source` for generated day `day` (landed with that day)."""
        location = self.work / f"{name}.csv"
        with location.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(
                {
                    k: ("" if v is None else v.isoformat() if hasattr(v, "isoformat") else v)
                    for k, v in row.items()
                }
                for row in rows
            )
        key = f"raw/{source}/dt=2026-11-{day + 1:02d}/{name}.csv"
        return {"source": source, "key": key, "location": str(location)}

    def replace_dropping_some(self, obj: dict[str, Any], id_column: str) -> dict[str, set[int]]:
        """Replace `obj` by a copy without some of its records: newer versions of records loaded
        elsewhere too (an older version is current again: *reverted*) and records that are nowhere
        else (*gone*). Returns the dropped ids by kind."""
        source, key = obj["source"], f"'{obj['key']}'"
        ids = f"select {id_column} from staging.{source} where _source_key"
        reverted = self.query(f"{ids} = {key} intersect {ids} <> {key} order by 1 limit 15")
        gone = self.query(f"{ids} = {key} except {ids} <> {key} order by 1 limit 15")
        dropped = {"reverted": {r[id_column] for r in reverted}, "gone": {r[id_column] for r in gone}}
        drop = {str(i) for i in dropped["reverted"] | dropped["gone"]}
        self.replace(obj, lambda record: record[id_column] not in drop)
        return dropped

    def record_load(self, table: str, key: str) -> None:
        """Rows written into `staging.<table>` by hand under `key` become one load, as the loader
        would record it: one `_loaded_at` for them all and their `_loads` row."""
        self.query(
            f"with moment as (select clock_timestamp() as at),"
            f" stamped as (update staging.{table} set _loaded_at = (select at from moment)"
            f" where _source_key = '{key}' returning 1)"
            f" insert into staging._loads (source_key, source, etag, rows_loaded, rows_rejected,"
            f" loaded_at, seconds) select '{key}', '{table}', 'by-hand', (select count(*) from stamped),"
            f" 0, at, 0 from moment returning 1"
        )

    def forget_load(self, table: str, key: str) -> None:
        """Delete what `record_load` added: the rows and their `_loads` row."""
        self.query(f"delete from staging.{table} where _source_key = '{key}' returning 1")
        self.query(f"delete from staging._loads where source_key = '{key}' returning 1")

    def assert_incremental_equals_full_refresh(self) -> None:
        """Every staging table and mart built so far, incrementally day after day in `production`,
        equals a full refresh of the same staging data built beside it (schema `production_full`,
        every model and test but the snapshot), row for row and column for column."""
        self.full_dbt("build", "--exclude", "resource_type:snapshot", "--full-refresh")
        for table, key in INCREMENTAL_TABLES.items():
            incremental = self.query(f"select * from production.{table} order by {key}")
            full = self.query(f"select * from {FULL_REFRESH_SCHEMA}.{table} order by {key}")
            assert len(incremental) == len(full), table
            assert incremental == full, table

    def actual_customer_360(self) -> dict[int, dict[str, Any]]:
        return {row["customer_id"]: row for row in self.query("select * from production.customer_360")}

    def table(self, name: str, key: str) -> list[dict[str, Any]]:
        return self.query(f"select * from production.{name} order by {key}")


@pytest.fixture(scope="module")
def pipeline(
    clean_stack_module: Settings,
    pg_conn: Connection,
    s3_client: BaseClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    work = tmp_path_factory.mktemp("dbt-build")
    pipeline = Pipeline(clean_stack_module, pg_conn, s3_client, DbtRunner(work / "dbt"), work)
    pipeline.query(f"drop schema if exists {FULL_REFRESH_SCHEMA} cascade; select 1")
    yield pipeline
    pipeline.query(f"drop schema if exists {FULL_REFRESH_SCHEMA} cascade; select 1")


@pytest.fixture(scope="module")
def day1(pipeline: Pipeline) -> DayBuild:
    day = pipeline.generate(0)
    pipeline.land_and_load(day)
    results = pipeline.transform()
    results["docs"] = pipeline.dbt("docs", "generate")
    return day, results


@pytest.fixture(scope="module")
def day2(pipeline: Pipeline, day1: DayBuild) -> DayBuild:
    day = pipeline.generate(1)
    # The user behind one of yesterday's orphan orders turns up late, in an extra users object:
    # the incremental run must move that order from the unknown member to the customer.
    [orphan] = pipeline.query(
        "select source_customer_id as user_id from production.fct_orders where customer_id = -1"
        " order by order_id limit 1"
    )
    late_user = pipeline.work / "users-late.csv"
    late_user.write_text(
        "user_id,name,email,phone,address,country,created_at,updated_at\n"
        f"{orphan['user_id']},Late Arrival, LATE@Example.org ,,,NL,"
        "2026-11-02T08:00:00Z,2026-11-02T08:00:00Z\n"
    )
    late = {
        "source": "users",
        "key": "raw/users/dt=2026-11-02/users-late.csv",
        "location": str(late_user),
    }
    # A correction that turns one valid order of yesterday invalid (a newer version with a negative
    # amount): the incremental run must take it out of fct_orders, a MERGE alone would keep it.
    [valid] = pipeline.query(
        "select order_id, source_customer_id, ordered_at, amount, currency, status from production.fct_orders"
        " where customer_id > 0 and is_revenue_order order by order_id limit 1"
    )
    corrected = pipeline.work / "orders-correction.csv"
    corrected.write_text(
        "order_id,user_id,order_date,amount,currency,status,updated_at\n"
        f"{valid['order_id']},{valid['source_customer_id']},{valid['ordered_at'].isoformat()},"
        f"-{valid['amount']},{valid['currency']},{valid['status']},2026-11-02T09:00:00Z\n"
    )
    correction = {
        "source": "orders",
        "key": "raw/orders/dt=2026-11-02/orders-correction.csv",
        "location": str(corrected),
    }
    pipeline.turned_invalid_order_id = valid["order_id"]
    day.summary["objects"] += [late, correction]
    pipeline.land_and_load(day)
    return day, pipeline.transform(freshness=False)


# ---- day 1: full build -------------------------------------------------------------------------
def test_full_build_passes_every_error_test_and_runs_the_unit_tests(
    day1: DayBuild,
) -> None:
    _, results = day1
    statuses = {name: r.statuses() for name, r in results.items()}
    for step, by_node in statuses.items():
        assert not {n: s for n, s in by_node.items() if s in {"error", "fail", "skipped"}}, step
    assert statuses["marts"]["customer_360"] == "success"
    assert statuses["marts"]["test_customer_360_measures"] == "pass"
    assert statuses["staging"]["test_stg_orders_current_version_rule"] == "pass"
    assert statuses["snapshot"]["customers_snapshot"] == "success"
    assert set(statuses["freshness"].values()) == {"pass"}


def test_warn_tests_count_exactly_the_injected_invalid_records(
    day1: DayBuild,
) -> None:
    day, results = day1
    for (source, kind), test_name in WARN_TESTS_BY_DIRT.items():
        injected = day.dirt(source, kind)
        assert injected > 0, (source, kind)  # the dataset is big enough to exercise every rule
        assert results["staging"].failures(test_name) == injected, test_name
        assert results["staging"].statuses()[test_name] == "warn"
    for test_name in DOMAIN_WARN_TESTS:
        assert (results["staging"].failures(test_name), results["staging"].statuses()[test_name]) == (
            0,
            "pass",
        )


def test_staging_keeps_one_current_row_per_id(pipeline: Pipeline, day1: DayBuild) -> None:
    day, _ = day1
    for source, model in [
        ("users", "stg_user_db__users"),
        ("orders", "stg_ecommerce__orders"),
        ("support_tickets", "stg_support_desk__support_tickets"),
    ]:
        [row] = pipeline.query(f"select count(*) as n from production.{model}")
        assert row["n"] == day.summary["sources"][source]["distinct_ids"], model


def test_customer_360_matches_an_independent_computation(pipeline: Pipeline, day1: DayBuild) -> None:
    assert_same_rows(pipeline.actual_customer_360(), pipeline.expected_customer_360())


def test_orphan_facts_point_at_the_unknown_customer(pipeline: Pipeline, day1: DayBuild) -> None:
    day, _ = day1
    [orders] = pipeline.query("select count(*) as n from production.fct_orders where customer_id = -1")
    [tickets] = pipeline.query(
        "select count(*) as n from production.fct_support_tickets where customer_id = -1"
    )
    assert orders["n"] == day.dirt("orders", "orphan_user_id")
    assert tickets["n"] == day.dirt("support_tickets", "orphan_user_id")


def test_docs_site_has_every_built_column_documented_and_the_lineage(
    pipeline: Pipeline, day1: DayBuild
) -> None:
    target = pipeline.dbt.target_path
    assert (target / "index.html").stat().st_size > 0
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    built = {uid: node for uid, node in catalog["nodes"].items() if uid.startswith(("model.", "snapshot."))}
    assert len(built) >= 9
    for uid, node in built.items():
        documented = set(manifest["nodes"][uid]["columns"])
        assert set(node["columns"]) == documented, uid
    parents = manifest["parent_map"]["model.customer360.customer_360"]
    assert set(parents) == {
        "model.customer360.dim_customers",
        "model.customer360.fct_orders",
        "model.customer360.fct_support_tickets",
    }


# ---- day 2: incremental ------------------------------------------------------------------------
def test_incremental_run_merges_the_new_batch(pipeline: Pipeline, day2: DayBuild) -> None:
    _, results = day2
    # the day's run rewrote the rows of what changed, not the tables
    rewritten = [("staging", "stg_ecommerce__orders"), ("marts", "fct_orders"), ("marts", "customer_360")]
    for step, model in rewritten:
        run = {node_name(r["unique_id"]): r for r in results[step].results}
        [total] = pipeline.query(f"select count(*) as n from production.{model}")
        assert 0 < run[model]["adapter_response"]["rows_affected"] < total["n"] / 5, model
    # day 2 carries new versions of day-1 orders: the fact must show their latest status
    [changed] = pipeline.query(
        "select count(*) as n from production.fct_orders f"
        " join production.stg_ecommerce__orders s using (order_id)"
        " where s._source_key like '%dt=2026-11-02%' and f.updated_at = s.updated_at"
        " and f.order_date < '2026-11-02'"
    )
    assert changed["n"] > 0
    # the late user's orphan order now belongs to them, and they are in customer_360
    [late] = pipeline.query(
        "select f.customer_id, f.source_customer_id from production.fct_orders f"
        " join production.customer_360 c using (customer_id) where c.full_name = 'Late Arrival'"
    )
    assert late["customer_id"] == late["source_customer_id"] > 0
    # the order that a correction made invalid has left the fact
    gone = f"select 1 from production.fct_orders where order_id = {pipeline.turned_invalid_order_id}"
    assert pipeline.query(gone) == []
    assert_same_rows(pipeline.actual_customer_360(), pipeline.expected_customer_360())


def test_snapshot_keeps_the_previous_version_of_changed_customers(pipeline: Pipeline, day2: DayBuild) -> None:
    [closed] = pipeline.query(
        "select count(*) as n from production.customers_snapshot where dbt_valid_to is not null"
    )
    [current] = pipeline.query(
        "select count(*) as n from production.customers_snapshot where dbt_valid_to is null"
    )
    [customers] = pipeline.query("select count(*) as n from production.stg_user_db__users")
    assert closed["n"] > 0
    assert current["n"] == customers["n"]


def test_incremental_equals_full_refresh(pipeline: Pipeline, day2: DayBuild) -> None:
    pipeline.assert_incremental_equals_full_refresh()


# ---- replaced objects: the incremental run after the loader replaced lake objects --------------
# (source, id column, staging model) of the facts' sources
FACT_SOURCES = [
    ("orders", "order_id", "stg_ecommerce__orders"),
    ("support_tickets", "ticket_id", "stg_support_desk__support_tickets"),
]


@pytest.fixture(scope="module")
def replaced(pipeline: Pipeline, day2: DayBuild) -> dict[str, Any]:
    """Day 2's orders and tickets objects are replaced by copies without some of their records:
    newer versions of day-1 records (the day-1 version is current again: *reverted*) and records
    that are nowhere else (*gone*). The late user's object is replaced by its header only, so that
    user's order is an orphan again. Then the DAG's steps run, the facts incrementally."""
    day, _ = day2
    dropped: dict[str, dict[str, set[int]]] = {}
    for source, id_column, _model in FACT_SOURCES:
        [obj] = [o for o in day.summary["objects"] if o["source"] == source and o.get("batch") == "0001"]
        ids = f"select {id_column} from staging.{source} where _source_key"
        key = f"'{obj['key']}'"
        reverted = pipeline.query(f"{ids} = {key} intersect {ids} <> {key} order by 1 limit 15")
        gone = pipeline.query(f"{ids} = {key} except {ids} <> {key} order by 1 limit 15")
        dropped[source] = {
            "reverted": {row[id_column] for row in reverted},
            "gone": {row[id_column] for row in gone},
        }
        drop = {str(i) for i in dropped[source]["reverted"] | dropped[source]["gone"]}
        pipeline.replace(obj, lambda record, c=id_column, drop=drop: record[c] not in drop)
    [late] = [o for o in pipeline.loaded_objects if o["key"].endswith("users-late.csv")]
    pipeline.replace(late, lambda _record: False)
    pipeline.load()
    return {"dropped": dropped, "results": pipeline.transform(freshness=False)}


def test_incremental_run_after_replaced_objects_passes_every_test(pipeline: Pipeline, replaced) -> None:
    statuses = {name: r.statuses() for name, r in replaced["results"].items()}
    for step, by_node in statuses.items():
        assert not {n: s for n, s in by_node.items() if s in {"error", "fail", "skipped"}}, step
    assert statuses["marts"]["assert_customer_360_order_totals_match_staging"] == "pass"
    assert statuses["marts"]["assert_fct_orders_reconcile_with_staging"] == "pass"
    assert statuses["marts"]["assert_fct_support_tickets_reconcile_with_staging"] == "pass"
    for source, id_column, model in FACT_SOURCES:
        dropped = replaced["dropped"][source]
        assert dropped["reverted"] and dropped["gone"], source  # the replacement did both
        current = {r[id_column] for r in pipeline.query(f"select {id_column} from production.{model}")}
        assert dropped["reverted"] <= current and not dropped["gone"] & current, source
    assert_same_rows(pipeline.actual_customer_360(), pipeline.expected_customer_360())


def test_incremental_after_replaced_objects_equals_full_refresh(pipeline: Pipeline, replaced) -> None:
    pipeline.assert_incremental_equals_full_refresh()


# ---- more days: late versions, duplicates, orphans finding their user, corrections, replacements
ORPHAN_ID = 9_000_001  # an order (and later its user) with an id the generator never uses
ORDER_COLUMNS = (
    "order_id, customer_id as user_id, ordered_at as order_date, amount, currency, status, updated_at"
)


@pytest.fixture(scope="module")
def day3(pipeline: Pipeline, replaced: dict[str, Any]) -> DayBuild:
    """Generated day 2 plus: an *older* version of a current order arriving late (it must lose);
    an exact copy of a user's current row in a new object (ties go to the later load: same
    values, new lineage); an order of a user who does not exist yet; a correction that makes a
    valid ticket invalid."""
    day = pipeline.generate(2)
    [current] = pipeline.query(
        f"select {ORDER_COLUMNS} from production.stg_ecommerce__orders where is_valid"
        " order by order_id offset 7 limit 1"
    )
    late = {
        **current,
        "amount": current["amount"] + 1,
        "updated_at": current["updated_at"] - timedelta(days=30),
    }
    orphan = {**current, "order_id": ORPHAN_ID, "user_id": ORPHAN_ID, "updated_at": "2026-11-03T10:00:00Z"}
    [user] = pipeline.query(
        "select u.user_id, u.name, u.email, u.phone, u.address, u.country, u.created_at, u.updated_at"
        " from staging.users u join production.stg_user_db__users s on s.customer_id = u.user_id"
        " and s._source_key = u._source_key and s._line_number = u._line_number"
        " order by u.user_id offset 5 limit 1"
    )
    [ticket] = pipeline.query(
        "select ticket_id, customer_id as user_id, created_at, resolved_at, status, priority, channel,"
        " csat, updated_at from production.stg_support_desk__support_tickets where is_valid"
        " order by ticket_id offset 3 limit 1"
    )
    broken_ticket = {
        **ticket,
        "status": "resolved",
        "resolved_at": ticket["created_at"] - timedelta(hours=1),
        "updated_at": "2026-11-03T11:00:00Z",
    }
    day.summary["objects"] += [
        pipeline.extra_object("orders", "orders-late", 2, [late, orphan]),
        pipeline.extra_object("users", "users-resent", 2, [user]),
        pipeline.extra_object("support_tickets", "tickets-correction", 2, [broken_ticket]),
    ]
    pipeline.land_and_load(day)
    pipeline.multi_day = {
        "late": current,
        "resent_user": user["user_id"],
        "broken_ticket": ticket["ticket_id"],
    }
    return day, pipeline.transform(freshness=False)


@pytest.fixture(scope="module")
def day4(pipeline: Pipeline, day3: DayBuild) -> DayBuild:
    """Generated day 3 plus: the orphan's user arrives; a newer version of the order a day-2
    correction invalidated makes it valid again; and day 3's generated orders object is replaced
    by a copy without some records (the issue-14 case, this time on top of incremental days)."""
    day3_day, _ = day3
    day = pipeline.generate(3)
    user = {
        "user_id": ORPHAN_ID,
        "name": "Found Later",
        "email": "found@example.org",
        "phone": None,
        "address": None,
        "country": "DE",
        "created_at": "2026-11-04T08:00:00Z",
        "updated_at": "2026-11-04T08:00:00Z",
    }
    [invalid] = pipeline.query(
        f"select {ORDER_COLUMNS} from production.stg_ecommerce__orders"
        f" where order_id = {pipeline.turned_invalid_order_id}"
    )
    assert not pipeline.query(
        f"select 1 from production.fct_orders where order_id = {pipeline.turned_invalid_order_id}"
    )
    valid_again = {**invalid, "amount": abs(invalid["amount"]), "updated_at": "2026-11-04T09:00:00Z"}
    day.summary["objects"] += [
        pipeline.extra_object("users", "users-found", 3, [user]),
        pipeline.extra_object("orders", "orders-valid-again", 3, [valid_again]),
    ]
    # the day's objects are loaded first (they carry new versions of day-3 orders), then the
    # replacement; one dbt run takes in both
    for obj in day.summary["objects"]:
        pipeline.s3.upload_file(obj["location"], pipeline.settings.s3_bucket, obj["key"])
    pipeline.load()
    [generated] = [
        o for o in day3_day.summary["objects"] if o["source"] == "orders" and o.get("batch") == "0001"
    ]
    pipeline.multi_day["dropped"] = pipeline.replace_dropping_some(generated, "order_id")
    pipeline.load()
    pipeline.loaded_objects += day.summary["objects"]
    return day, pipeline.transform(freshness=False)


def assert_every_step_passed(results: dict[str, DbtResult]) -> None:
    for step, result in results.items():
        by_node = result.statuses()
        assert not {n: s for n, s in by_node.items() if s in {"error", "fail", "skipped"}}, step


def test_day3_keeps_the_newer_version_counts_duplicates_once_and_keeps_orphans(
    pipeline: Pipeline, day3: DayBuild
) -> None:
    _, results = day3
    assert_every_step_passed(results)
    late = pipeline.multi_day["late"]
    [kept] = pipeline.query(
        f"select amount, updated_at from production.fct_orders where order_id = {late['order_id']}"
    )
    assert (kept["amount"], kept["updated_at"]) == (late["amount"], late["updated_at"])
    [resent] = pipeline.query(
        "select _source_key, count(*) over () as n from production.stg_user_db__users"
        f" where customer_id = {pipeline.multi_day['resent_user']}"
    )
    assert resent["_source_key"].endswith("users-resent.csv") and resent["n"] == 1
    [orphan] = pipeline.query(f"select customer_id from production.fct_orders where order_id = {ORPHAN_ID}")
    assert orphan["customer_id"] == -1
    ticket = pipeline.multi_day["broken_ticket"]
    gone = f"select 1 from production.fct_support_tickets where ticket_id = {ticket}"
    assert pipeline.query(gone) == []
    assert_same_rows(pipeline.actual_customer_360(), pipeline.expected_customer_360())


def test_day3_incremental_equals_full_refresh(pipeline: Pipeline, day3: DayBuild) -> None:
    pipeline.assert_incremental_equals_full_refresh()


def test_day4_orphan_finds_its_user_corrections_revert_and_replacements_follow(
    pipeline: Pipeline, day4: DayBuild
) -> None:
    _, results = day4
    assert_every_step_passed(results)
    [order] = pipeline.query(
        f"select f.customer_id, c.order_count from production.fct_orders f"
        f" join production.customer_360 c using (customer_id) where f.order_id = {ORPHAN_ID}"
    )
    assert order["customer_id"] == ORPHAN_ID and order["order_count"] >= 1
    back = f"select 1 from production.fct_orders where order_id = {pipeline.turned_invalid_order_id}"
    assert pipeline.query(back) == [{"?column?": 1}]
    dropped = pipeline.multi_day["dropped"]
    assert dropped["reverted"] and dropped["gone"]
    current = {r["order_id"] for r in pipeline.query("select order_id from production.stg_ecommerce__orders")}
    missing = sorted(dropped["reverted"] - current)
    assert not missing
    assert not dropped["gone"] & current
    assert_same_rows(pipeline.actual_customer_360(), pipeline.expected_customer_360())


def test_day4_incremental_equals_full_refresh(pipeline: Pipeline, day4: DayBuild) -> None:
    pipeline.assert_incremental_equals_full_refresh()


def test_day4_snapshot_has_each_customers_staging_row_as_its_one_current_version(
    pipeline: Pipeline, day4: DayBuild
) -> None:
    """Four days of snapshots that compared only the changed customers: each customer's current
    version is still its staging row, there is one, and every closed version ends where the next
    begins (a customer that vanished from staging keeps its last version: no hard deletes)."""
    differing = pipeline.query(
        "select users.customer_id from production.stg_user_db__users as users"
        " left join production.customers_snapshot as version"
        " on version.customer_id = users.customer_id and version.dbt_valid_to is null"
        " where version.customer_id is null or (version.updated_at, version.full_name, version.email)"
        " is distinct from (users.updated_at, users.full_name, users.email)"
    )
    assert differing == []
    [current] = pipeline.query(
        "select count(*) - count(distinct customer_id) as extra from production.customers_snapshot"
        " where dbt_valid_to is null"
    )
    assert current["extra"] == 0
    broken_chain = pipeline.query(
        "select customer_id from (select customer_id, dbt_valid_to, lead(dbt_valid_from) over"
        " (partition by customer_id order by dbt_valid_from) as next_from"
        " from production.customers_snapshot) as version where dbt_valid_to is distinct from next_from"
    )
    assert broken_chain == []


def invocation(result: DbtResult) -> str:
    assert result.run_results is not None
    return result.run_results["metadata"]["invocation_id"]


def test_the_changed_ids_ledger_holds_only_what_a_consumer_has_still_to_take_in(
    pipeline: Pipeline, day4: DayBuild
) -> None:
    """Four days ran, yet the ledger holds only the last day's batches: each run forgets what every
    consumer took in. A staging batch that the marts have not taken in yet survives the runs in
    between, and the marts then take it in."""
    _, results = day4
    ledger = "select distinct batch from production.dbt_changed_ids"
    assert {r["batch"] for r in pipeline.query(ledger)} == {
        invocation(results["staging"]),
        invocation(results["marts"]),
    }

    [user] = pipeline.query(
        "select customer_id as user_id, full_name as name, email, phone, address, country,"
        " signed_up_at as created_at, updated_at + interval '1 day' as updated_at"
        " from production.stg_user_db__users where customer_id > 0 order by customer_id limit 1"
    )
    pipeline.land_and_load(Day({"objects": [pipeline.extra_object("users", "users-day5", 4, [user])]}))
    staging = pipeline.dbt("build", "--selector", "staging")
    pipeline.dbt("snapshot", "--selector", "snapshots")  # its on-run-start prunes too
    waiting = {r["batch"] for r in pipeline.query(ledger)}
    assert waiting == {invocation(staging)}

    marts = pipeline.dbt("build", "--selector", "marts")
    [rebuilt] = pipeline.query(
        f"select updated_at from production.dim_customers where customer_id = {user['user_id']}"
    )
    assert rebuilt["updated_at"] == user["updated_at"]
    assert {r["batch"] for r in pipeline.query(ledger)} == {invocation(staging), invocation(marts)}


# ---- values outside the contract's domain already in staging ---------------------------------
def test_values_outside_the_domain_never_stop_the_daily_build(pipeline: Pipeline, day2: DayBuild) -> None:
    """Rows loaded before the loader refused such values: `infinity` would make dim_date endless
    ("timestamp out of range") and a NaN amount would pass `amount >= 0` and turn a customer's
    lifetime_value into NaN. Staging treats them as invalid records instead, counted by warn tests."""
    [customer] = pipeline.query(
        "select customer_id from production.customer_360 where order_count > 0 order by customer_id limit 1"
    )
    cid = customer["customer_id"]
    rows = [
        f"insert into staging.orders values (990000001, {cid}, 'infinity', 10.00, 'USD', 'placed',"
        " now(), 'out-of-domain-orders', now(), 2)",
        f"insert into staging.orders values (990000002, {cid}, now(), 'NaN', 'USD', 'delivered',"
        " now(), 'out-of-domain-orders', now(), 3)",
        "insert into staging.support_tickets values (990000003, 1, now(), 'infinity', 'resolved', 'low',"
        " 'chat', 5, now(), 'out-of-domain-support_tickets', now(), 4)",
        "insert into staging.users values (990000004, 'Ancient', null, null, null, null, '0001-01-01',"
        " now(), 'out-of-domain-users', now(), 5)",
    ]
    for insert in rows:
        pipeline.query(insert + " returning 1")
    for table in ("orders", "support_tickets", "users"):
        pipeline.record_load(table, f"out-of-domain-{table}")
    try:
        results = pipeline.transform(freshness=False)  # the DAG's steps; each must exit 0
        staging = results["staging"]
        assert [staging.failures(name) for name in DOMAIN_WARN_TESTS] == [2, 1, 1]
        assert {staging.statuses()[name] for name in DOMAIN_WARN_TESTS} == {"warn"}
        assert (
            pipeline.query("select 1 from production.fct_orders where order_id in (990000001, 990000002)")
            == []
        )
        [value] = pipeline.query(
            f"select lifetime_value::text as ltv from production.customer_360 where customer_id = {cid}"
        )
        assert value["ltv"] != "NaN"
        [calendar] = pipeline.query(
            "select min(date_day) as first, max(date_day) as last from production.dim_date"
        )
        assert calendar["first"].year >= 2000 and calendar["last"].year < 2100
    finally:
        for table in ("orders", "support_tickets", "users"):
            pipeline.forget_load(table, f"out-of-domain-{table}")


# ---- broken inputs: the right test stops the build ---------------------------------------------
BROKEN_ROWS = [
    # a user whose id collides with the unknown-customer member: dim_customers gets a duplicate key
    "insert into staging.users values (-1, 'Imposter', null, null, null, null, now(), now(),"
    " 'broken-users', now(), 1)",
    # a new current version of ticket 1 with a status the contract does not know
    "insert into staging.support_tickets values (1, 1, now(), null, 'escalated', 'low', 'chat', null,"
    " now() + interval '1 day', 'broken-support_tickets', now(), 1)",
]


def test_broken_inputs_fail_the_right_tests(pipeline: Pipeline, day2: DayBuild) -> None:
    for insert in BROKEN_ROWS:
        pipeline.query(insert + " returning 1")
    for table in ("users", "support_tickets"):
        pipeline.record_load(table, f"broken-{table}")
    try:
        # both broken rows in one build (every model and test, no snapshot): two tests must fail
        result = pipeline.dbt("build", "--exclude", "resource_type:snapshot", check=False)
    finally:
        for table in ("users", "support_tickets"):
            pipeline.forget_load(table, f"broken-{table}")
    statuses = result.statuses()
    assert result.returncode == 1
    failed = {name for name, status in statuses.items() if status in {"fail", "error"}}
    assert len(failed) == 2, failed
    assert "unique_dim_customers_customer_id" in failed
    assert any(name.startswith("accepted_values_stg_support_desk__support_tickets_status") for name in failed)
    # what depends on a failed test is not built
    assert statuses["fct_support_tickets"] == "skipped"
    assert statuses["customer_360"] == "skipped"


# ---- the day's tests: a daily run tests what it rewrote, a full refresh tests everything ---------
def test_a_daily_run_tests_the_days_rows_and_a_full_refresh_tests_them_all(
    pipeline: Pipeline, day2: DayBuild
) -> None:
    """On a day that brings nothing new, the staging tests read no row: the warn tests count no
    dirt, and a bad status edited by hand into an old raw row (the current version of a ticket no
    load touches) goes unseen. A full refresh reads everything: it counts all the dirt there is and
    fails on that status."""
    pipeline.transform(freshness=False)  # take in what the tests above left behind
    [ticket] = pipeline.query(
        "select ticket_id, _source_key, updated_at from production.stg_support_desk__support_tickets"
        " where status = 'open' and is_valid order by ticket_id limit 1"
    )
    current_raw_row = (
        f"ticket_id = {ticket['ticket_id']} and _source_key = '{ticket['_source_key']}'"
        f" and updated_at = '{ticket['updated_at'].isoformat()}'"
    )
    edit = "update staging.support_tickets set status = '{}' where " + current_raw_row + " returning 1"
    pipeline.query(edit.format("escalated"))
    status_test = "accepted_values_stg_support_desk__support_tickets_status"
    try:
        daily = pipeline.dbt("build", "--selector", "staging")
        full = pipeline.dbt("build", "--selector", "staging", "--full-refresh", check=False)
    finally:
        pipeline.query(edit.format("open"))
        pipeline.dbt("build", "--selector", "staging", "--full-refresh")

    [daily_status] = [s for name, s in daily.statuses().items() if name.startswith(status_test)]
    [full_status] = [s for name, s in full.statuses().items() if name.startswith(status_test)]
    assert (daily_status, full_status) == ("pass", "fail")
    assert full.returncode == 1
    for test_name in WARN_TESTS_BY_DIRT.values():
        assert daily.failures(test_name) == 0, test_name
        assert full.failures(test_name) > 0, test_name
