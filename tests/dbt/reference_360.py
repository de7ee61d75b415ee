"""An independent customer_360: plain Python over the raw CSV objects, the rules of docs/data-model.md.

Shares no code with the dbt models (no SQL, no dbt vars): it reads the very CSV files that were
uploaded to the lake, drops the records the loader rejected (their key and first line from
`staging._rejected_rows`, so the loader's parsing decisions are taken, not re-implemented),
then applies the rules as the design states them. Money is exact (Decimal); averages are rounded
to 2 decimals half away from zero, as PostgreSQL's numeric rounding does.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ORDER_STATUSES = {"placed", "shipped", "delivered", "cancelled", "returned"}
NOT_COUNTED_ORDER_STATUSES = {"cancelled", "returned"}
OPEN_TICKET_STATUSES = {"open", "pending"}
VALUE_SEGMENT_MEDIUM_FROM = Decimal(100)
VALUE_SEGMENT_HIGH_FROM = Decimal(1000)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class RawObject:
    """One CSV object as uploaded: its lake key, local copy and position in the load order."""

    key: str
    path: Path
    load_rank: int  # higher = loaded later (ties in updated_at go to the later load)


def _records(obj: RawObject, rejected: set[tuple[str, int]]) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line number, record) of every record the loader accepted; the header is line 1."""
    with obj.path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        previous_end = reader.line_num
        for fields in reader:
            first_line, previous_end = previous_end + 1, reader.line_num
            if (obj.key, first_line) not in rejected:
                yield first_line, dict(zip(header, fields, strict=True))


def _ts(text: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def current_versions(
    objects: Iterable[RawObject], id_column: str, rejected: set[tuple[str, int]]
) -> dict[int, dict[str, str]]:
    """Per id the record with the greatest updated_at; ties: loaded last, then the later line."""
    best: dict[int, tuple[tuple[dt.datetime, int, int], dict[str, str]]] = {}
    for obj in objects:
        for line, record in _records(obj, rejected):
            rank = (_ts(record["updated_at"]), obj.load_rank, line)
            record_id = int(record[id_column])
            if record_id not in best or rank > best[record_id][0]:
                best[record_id] = (rank, record)
    return {record_id: record for record_id, (_, record) in best.items()}


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


def _hours(start: dt.datetime, end: dt.datetime) -> Decimal:
    delta = end - start
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros) / Decimal(3_600_000_000)


def customer_360(
    objects_by_source: dict[str, list[RawObject]], rejected: set[tuple[str, int]]
) -> dict[int, dict[str, Any]]:
    """Expected customer_360 rows keyed by customer_id."""
    users = current_versions(objects_by_source["users"], "user_id", rejected)
    orders = current_versions(objects_by_source["orders"], "order_id", rejected)
    tickets = current_versions(objects_by_source["support_tickets"], "ticket_id", rejected)

    counted: dict[int, list[tuple[Decimal, dt.datetime]]] = defaultdict(list)
    for order in orders.values():
        amount = Decimal(order["amount"])
        valid = amount >= 0 and order["status"] in ORDER_STATUSES
        if valid and order["status"] not in NOT_COUNTED_ORDER_STATUSES:
            counted[int(order["user_id"])].append((amount, _ts(order["order_date"])))

    valid_tickets: dict[int, list[dict[str, str]]] = defaultdict(list)
    for ticket in tickets.values():
        created, resolved = _ts(ticket["created_at"]), _ts(ticket["resolved_at"])
        if resolved is None or resolved >= created:
            valid_tickets[int(ticket["user_id"])].append(ticket)

    expected: dict[int, dict[str, Any]] = {}
    for user_id, user in users.items():
        own_orders = counted.get(user_id, [])
        own_tickets = valid_tickets.get(user_id, [])
        order_count = len(own_orders)
        lifetime_value = sum((amount for amount, _ in own_orders), Decimal(0)).quantize(CENT)
        email = user["email"].strip(" \t\r\n").lower() or None
        resolution = [
            _hours(_ts(t["created_at"]), _ts(t["resolved_at"])) for t in own_tickets if t["resolved_at"]
        ]
        if order_count == 0:
            segment = "none"
        elif lifetime_value >= VALUE_SEGMENT_HIGH_FROM:
            segment = "high"
        elif lifetime_value >= VALUE_SEGMENT_MEDIUM_FROM:
            segment = "medium"
        else:
            segment = "low"
        expected[user_id] = {
            "customer_id": user_id,
            "full_name": user["name"].strip(" "),
            "email": email,
            "country": user["country"] or None,
            "signed_up_at": _ts(user["created_at"]),
            "order_count": order_count,
            "lifetime_value": lifetime_value,
            "avg_order_value": (
                (lifetime_value / order_count).quantize(CENT, rounding=ROUND_HALF_UP) if order_count else None
            ),
            "first_order_at": min((at for _, at in own_orders), default=None),
            "last_order_at": max((at for _, at in own_orders), default=None),
            "ticket_count": len(own_tickets),
            "open_ticket_count": sum(t["status"] in OPEN_TICKET_STATUSES for t in own_tickets),
            "avg_resolution_hours": _mean(resolution),
            "avg_csat": _mean([Decimal(t["csat"]) for t in own_tickets if t["csat"]]),
            "value_segment": segment,
            "is_repeat_customer": order_count >= 2,
        }
    return expected


def assert_same_rows(actual: dict[int, dict[str, Any]], expected: dict[int, dict[str, Any]]) -> None:
    missing, extra = sorted(expected.keys() - actual.keys()), sorted(actual.keys() - expected.keys())
    assert not missing and not extra, f"missing {missing[:10]}, extra {extra[:10]}"
    mismatches = [
        (customer_id, column, actual[customer_id].get(column), value)
        for customer_id, row in expected.items()
        for column, value in row.items()
        if actual[customer_id].get(column) != value
    ]
    assert not mismatches, (
        f"{len(mismatches)} mismatches (customer, column, dbt, expected): {mismatches[:10]}"
    )
    assert set(next(iter(actual.values()))) == set(next(iter(expected.values())))  # no extra column
