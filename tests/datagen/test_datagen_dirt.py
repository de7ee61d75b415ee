"""Dirt lands at the rates asked for, is fully configurable, and rate 0 gives a clean dataset."""

from __future__ import annotations

import math
from pathlib import Path

from conftest import generate_into
from contract_check import read_object, source_of

from customer360.contract import ORDER_STATUSES
from datagen.config import DIRT_KINDS


def _within(count: int, trials: int, rate: float) -> bool:
    """Binomial count within 4 standard deviations (+1) of trials x rate."""
    expected = trials * rate
    return abs(count - expected) <= 4 * math.sqrt(trials * rate * (1 - rate)) + 1


def test_each_kind_lands_near_its_rate(tmp_path: Path) -> None:
    multiplier = 3.0
    data = generate_into(tmp_path, "--users", "3000", "--dirt-rate", str(multiplier))
    rates = data.summary["parameters"]["dirt_rates"]
    for kind in DIRT_KINDS:
        assert rates[kind.name] == kind.default_rate * multiplier
        for name in kind.sources:
            total = data.summary["sources"][name]
            count = total["dirt"][kind.name]
            assert count > 0, (kind.name, name)
            assert _within(count, total["clean_rows"], rates[kind.name]), (kind.name, name, count, total)


def test_one_kind_can_be_set_alone(tmp_path: Path) -> None:
    data = generate_into(tmp_path, "--users", "1000", "--dirt-rate", "0", "--dirt", "duplicate_row=0.2")
    for name, total in data.summary["sources"].items():
        assert {kind: count for kind, count in total["dirt"].items() if count} == {
            "duplicate_row": total["dirt"]["duplicate_row"]
        }, name
        assert _within(total["dirt"]["duplicate_row"], total["clean_rows"], 0.2)


def test_dirt_rate_zero_gives_a_clean_dataset(tmp_path: Path) -> None:
    data = generate_into(tmp_path, "--users", "1500", "--days", "2", "--dirt-rate", "0")
    user_ids: set[int] = set()
    parsed = []
    for obj in sorted(data.summary["objects"], key=lambda o: o["source"] != "users"):
        assert obj["data_rows"] == obj["clean_rows"] == obj["loadable_rows"]
        assert not any(obj["dirt"].values())
        source = source_of(obj)
        _, rows, rejected = read_object(Path(obj["location"]), source)
        assert rejected == []
        ids = [row.values[source.id_column] for row in rows]
        assert len(ids) == len(set(ids)), "an id repeats inside a clean object"
        if source.name == "users":
            user_ids.update(ids)
            for row in rows:
                assert all(row.values[c] for c in ("email", "phone", "address", "country"))
                assert row.values["email"] == row.values["email"].strip().lower()
        parsed.append((source.name, rows))
    for name, rows in parsed:
        for row in rows:
            if name == "orders":
                assert row.values["amount"] >= 0 and row.values["status"] in ORDER_STATUSES
            if name != "users":
                assert row.values["user_id"] in user_ids
            if name == "support_tickets" and row.values["resolved_at"] is not None:
                assert row.values["resolved_at"] >= row.values["created_at"]
