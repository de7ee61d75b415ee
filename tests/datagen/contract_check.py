"""Reads generated objects back the way the contract says a loader must (data-contract.md, loader.md).

Independent of the generator's code on purpose: it checks the bytes against customer360.contract
only, and classifies every row that does not fit with the reason a loader would give, named like
the generator's `unparseable` variants so tests can compare the two exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from customer360.contract import SOURCES, Column, Source

_INTEGER = re.compile(r"-?\d+")
_NUMERIC_14_2 = re.compile(r"-?\d{1,12}(\.\d{1,2})?")
_LIMITS = {"bigint": 2**63, "smallint": 2**15}


@dataclass
class Row:
    line: int  # 1-based physical line (the header is line 1)
    values: dict[str, Any]  # typed: int, Decimal, aware datetime, str, or None for empty
    raw: list[str]


@dataclass
class Rejected:
    line: int
    reason: str  # wrong_field_count | invalid_utf8 | empty_required | bad_number | bad_timestamp


def _typed(value: str, column: Column) -> Any:
    """The typed value, or raise ValueError naming the unparseable-variant it falls under."""
    if value == "":
        if column.required:
            raise ValueError("empty_required")
        return None
    if column.pg_type in _LIMITS:
        if not _INTEGER.fullmatch(value) or abs(int(value)) >= _LIMITS[column.pg_type]:
            raise ValueError("bad_number")
        return int(value)
    if column.pg_type.startswith("numeric"):
        if not _NUMERIC_14_2.fullmatch(value):
            raise ValueError("bad_number")
        return Decimal(value)
    if column.pg_type == "timestamptz":
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("bad_timestamp") from None
        if parsed.tzinfo is None:
            raise ValueError("bad_timestamp")
        return parsed
    return value


def read_object(path: Path, source: Source) -> tuple[tuple[str, ...], list[Row], list[Rejected]]:
    """Header, parsed rows and rejected rows of one CSV object."""
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", f"{path} does not end with a newline"
    header = tuple(next(csv.reader([lines[0].decode("utf-8")])))
    rows: list[Row] = []
    rejected: list[Rejected] = []
    for number, raw in enumerate(lines[1:-1], start=2):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            rejected.append(Rejected(number, "invalid_utf8"))
            continue
        fields = next(csv.reader([text]))
        if len(fields) != len(source.columns):
            rejected.append(Rejected(number, "wrong_field_count"))
            continue
        try:
            pairs = zip(source.columns, fields, strict=True)
            values = {column.name: _typed(value, column) for column, value in pairs}
        except ValueError as error:
            rejected.append(Rejected(number, str(error)))
            continue
        rows.append(Row(number, values, fields))
    return header, rows, rejected


def csv_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.csv"))


def tree_digest(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every object under `root` (for byte-for-byte comparisons)."""
    return {str(path.relative_to(root)): path.read_bytes() for path in csv_files(root)}


def load_summary(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def source_of(obj: dict[str, Any]) -> Source:
    return SOURCES[obj["source"]]
