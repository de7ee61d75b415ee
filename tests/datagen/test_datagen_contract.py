"""Every object follows the source contract, and the summary's numbers are exactly what is in it."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from pathlib import Path

from conftest import Dataset
from contract_check import csv_files, read_object, source_of

from customer360.contract import ORDER_STATUSES, TICKET_CHANNELS, TICKET_PRIORITIES, TICKET_STATUSES

EXTRA_ROW_KINDS = (
    "duplicate_row",
    "later_version",
    "orphan_user_id",
    "resolved_before_created",
    "negative_amount",
    "unknown_status",
    "unparseable",
)


def _objects(dataset: Dataset) -> list[tuple[dict, Path]]:
    found = []
    for obj in dataset.summary["objects"]:
        path = Path(obj["location"])
        assert path.exists(), obj["location"]
        found.append((obj, path))
    return found


def test_layout_follows_the_contract_keys(dataset: Dataset) -> None:
    listed = {Path(obj["location"]) for obj in dataset.summary["objects"]}
    assert set(csv_files(dataset.root)) == listed
    for obj, path in _objects(dataset):
        source = source_of(obj)
        assert obj["key"] == source.object_key(obj["date"], obj["batch"])
        assert path.relative_to(dataset.root.parent).as_posix() == obj["key"]
    batches = Counter((obj["source"], obj["day"]) for obj in dataset.summary["objects"])
    assert batches[("orders", 0)] >= 2, "day 0 orders should have been split by --rows-per-object"
    assert len(batches) == 3 * 3


def test_every_row_parses_except_the_ones_the_summary_says(dataset: Dataset) -> None:
    for obj, path in _objects(dataset):
        source = source_of(obj)
        header, rows, rejected = read_object(path, source)
        assert header == source.header
        assert len(rows) + len(rejected) == obj["data_rows"]
        assert len(rejected) == obj["rejected_rows"] == obj["dirt"]["unparseable"]
        assert len(rows) == obj["loadable_rows"]
        reasons = Counter(r.reason for r in rejected)
        assert reasons == Counter({k: v for k, v in obj["unparseable"].items() if v}), path


def test_summary_counts_match_the_rows(dataset: Dataset) -> None:
    for obj, path in _objects(dataset):
        source = source_of(obj)
        _, rows, _ = read_object(path, source)
        extra = sum(obj["dirt"].get(kind, 0) for kind in EXTRA_ROW_KINDS)
        assert obj["data_rows"] == obj["clean_rows"] + extra
        ids = Counter(row.values[source.id_column] for row in rows)
        assert len(ids) == obj["distinct_ids"]
        repeats = sum(count - 1 for count in ids.values())
        assert repeats == obj["dirt"]["duplicate_row"] + obj["dirt"]["later_version"]
        adjacent = itertools.pairwise(rows)
        exact_dups = sum(1 for a, b in adjacent if a.raw == b.raw and b.line == a.line + 1)
        assert exact_dups == obj["dirt"]["duplicate_row"]


def test_distinct_ids_per_source_over_the_run(dataset: Dataset) -> None:
    ids: dict[str, set[int]] = defaultdict(set)
    for obj, path in _objects(dataset):
        source = source_of(obj)
        _, rows, _ = read_object(path, source)
        ids[source.name].update(row.values[source.id_column] for row in rows)
    for name, found in ids.items():
        assert len(found) == dataset.summary["sources"][name]["distinct_ids"], name


def test_values_respect_enums_formats_and_day_bounds(dataset: Dataset) -> None:
    for obj, path in _objects(dataset):
        source = source_of(obj)
        _, rows, _ = read_object(path, source)
        day_end = f"{obj['date']}T23:59:59+00:00"
        for row in rows:
            values = row.values
            assert values["updated_at"].isoformat() <= day_end, (path, row.line)
            if source.name == "orders":
                assert row.raw[3].count(".") == 1 and len(row.raw[3].split(".")[1]) == 2
                assert values["currency"] in ("USD", "EUR", "GBP")
            if source.name == "support_tickets":
                assert values["status"] in TICKET_STATUSES
                assert values["priority"] in TICKET_PRIORITIES
                assert values["channel"] in TICKET_CHANNELS
                assert values["csat"] is None or 1 <= values["csat"] <= 5
                resolved = values["status"] in ("resolved", "closed")
                assert (values["resolved_at"] is not None) == resolved
                assert values["csat"] is None or resolved
        if source.name == "orders":
            unknown = sum(row.values["status"] not in ORDER_STATUSES for row in rows)
            assert unknown == obj["dirt"]["unknown_status"]
            negative = sum(row.values["amount"] < 0 for row in rows)
            assert negative == obj["dirt"]["negative_amount"]
        if source.name == "support_tickets":
            backwards = sum(
                row.values["resolved_at"] is not None and row.values["resolved_at"] < row.values["created_at"]
                for row in rows
            )
            assert backwards == obj["dirt"]["resolved_before_created"]
        if source.name == "users":
            messy = sum(e is not None and (e != e.strip().lower()) for e in (r.values["email"] for r in rows))
            assert messy == obj["dirt"]["email_case_space"]


def test_orphans_are_exactly_the_rows_whose_user_never_exists(dataset: Dataset) -> None:
    parsed = {}
    for obj, path in _objects(dataset):
        parsed[obj["location"]] = (obj, read_object(path, source_of(obj))[1])
    user_ids = {
        row.values["user_id"] for obj, rows in parsed.values() if obj["source"] == "users" for row in rows
    }
    for obj, rows in parsed.values():
        if obj["source"] in ("orders", "support_tickets"):
            orphans = sum(row.values["user_id"] not in user_ids for row in rows)
            assert orphans == obj["dirt"]["orphan_user_id"], obj["location"]


def test_versions_only_move_forward_across_days(dataset: Dataset) -> None:
    """What dbt relies on: a later day's version of an id always has a greater updated_at."""
    latest: dict[tuple[str, int], tuple[int, object]] = {}
    for obj, path in sorted(_objects(dataset), key=lambda item: (item[0]["day"], item[0]["batch"])):
        source = source_of(obj)
        _, rows, _ = read_object(path, source)
        for row in rows:
            key = (source.name, row.values[source.id_column])
            seen = latest.get(key)
            if seen is not None and seen[0] < obj["day"]:
                assert row.values["updated_at"] > seen[1], (key, obj["day"])
            if seen is None or row.values["updated_at"] >= seen[1]:
                latest[key] = (obj["day"], row.values["updated_at"])


def test_delta_days_hold_new_and_changed_records(dataset: Dataset) -> None:
    for obj in dataset.summary["objects"]:
        if obj["day"] > 0:
            # Some ids are new that day, others are later versions of earlier records.
            assert 0 < obj["new_ids"] < obj["distinct_ids"], obj["key"]
