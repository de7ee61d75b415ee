"""End to end through the CLI the pods run: a generated dataset in the real S3, loaded into the real
PostgreSQL, reconciled object by object with the generator's summary; then the guarantees a
re-run, a changed object and two concurrent loaders must keep."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from ingest_helpers import (
    INGEST_CLI,
    fingerprint,
    load_record,
    orders_csv,
    put,
    rejects_of,
    rows_of,
    run_cli,
)

from customer360.contract import SOURCES
from customer360.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dataset(clean_stack_module: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two days of dirty data (dirt x10 so every unparseable variant shows up) in the lake."""
    summary = tmp_path_factory.mktemp("datagen") / "summary.json"
    datagen = str(Path(INGEST_CLI).with_name("c360-datagen"))
    args = ["--users", "1500", "--days", "2", "--seed", "11", "--dirt-rate", "10"]
    target = f"s3://{clean_stack_module.s3_bucket}/raw"
    subprocess.run(
        [datagen, "generate", *args, "--target", target, "--summary", str(summary)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return json.loads(summary.read_text())


@pytest.fixture(scope="module")
def first_run(dataset: dict) -> subprocess.CompletedProcess:
    return run_cli("load", "--source", "all")


def test_load_all_reconciles_with_the_generator(dataset: dict, first_run, pg_conn) -> None:
    assert first_run.returncode == 0, first_run.stderr
    assert sum(o["rejected_rows"] for o in dataset["objects"]) > 0  # the dirt really is there
    for obj in dataset["objects"]:
        key = obj["key"]
        assert load_record(pg_conn, key)[1:] == (obj["loadable_rows"], obj["rejected_rows"]), key
        assert rows_of(pg_conn, obj["source"], key) == obj["loadable_rows"]
        assert len(rejects_of(pg_conn, key)) == obj["rejected_rows"]
        # one plain log line per object, with its figures
        line = f"loaded {key}: rows_loaded={obj['loadable_rows']} rows_rejected={obj['rejected_rows']}"
        assert line in first_run.stderr
    with pg_conn.cursor() as cur:  # planner statistics are fresh for dbt, which runs next
        cur.execute(
            "select count(*) from pg_stat_user_tables where schemaname = 'staging'"
            " and relname = any(%s) and last_analyze is not null",
            (list(SOURCES),),
        )
        assert cur.fetchone()[0] == len(SOURCES)


def test_second_run_changes_nothing(dataset: dict, first_run, pg_conn) -> None:
    before = {source: fingerprint(pg_conn, source) for source in SOURCES}
    again = run_cli("load", "--source", "all")
    assert again.returncode == 0, again.stderr
    assert {source: fingerprint(pg_conn, source) for source in SOURCES} == before
    assert again.stderr.count("skipped raw/") == len(dataset["objects"])
    assert "loaded raw/" not in again.stderr


def test_changed_object_replaces_exactly_its_rows(
    dataset: dict, first_run, pg_conn, s3_client, stack_settings: Settings
) -> None:
    target = next(o for o in dataset["objects"] if o["source"] == "orders" and o["rejected_rows"])
    others = [o for o in dataset["objects"] if o["source"] == "orders" and o is not target]
    other_counts = [rows_of(pg_conn, "orders", o["key"]) for o in others]
    new_body = orders_csv(5, start=9_000_001) + b"1,2,3\n"
    obj = put(s3_client, stack_settings, target["key"], new_body)

    result = run_cli("load", "--source", "orders")

    assert result.returncode == 0, result.stderr
    assert rows_of(pg_conn, "orders", target["key"]) == 5
    assert [(line, reason) for line, _raw, reason in rejects_of(pg_conn, target["key"])] == [
        (7, "expected 7 fields, found 3")
    ]
    assert load_record(pg_conn, target["key"]) == (obj.etag, 5, 1)
    assert [rows_of(pg_conn, "orders", o["key"]) for o in others] == other_counts


def test_two_loaders_on_one_source_load_each_object_once(
    first_run, pg_conn, s3_client, stack_settings: Settings
) -> None:
    keys = [f"raw/orders/dt=2026-12-0{i}/orders-0001.csv" for i in range(1, 5)]
    for i, key in enumerate(keys):
        put(s3_client, stack_settings, key, orders_csv(20_000, start=10_000_000 + i * 20_000))
    env = dict(os.environ)
    loaders = [
        subprocess.Popen(
            [INGEST_CLI, "load", "--source", "orders"], stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    logs = [loader.communicate(timeout=300)[1] for loader in loaders]

    assert [loader.returncode for loader in loaders] == [0, 0], logs
    for key in keys:
        assert rows_of(pg_conn, "orders", key) == 20_000
        loaded_lines = sum(len(re.findall(rf"loaded {re.escape(key)}:", log)) for log in logs)
        assert loaded_lines == 1, (key, logs)
