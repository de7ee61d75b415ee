"""docs/data-contract.md stays true to the code: every dirt kind, its rate, sources and variants."""

from __future__ import annotations

import re
from pathlib import Path

from customer360.contract import SOURCES
from datagen.config import DIRT_KINDS, UNPARSEABLE_VARIANTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def _table_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`(\w+)`", cells[0]) if line.startswith("|") else None
        if match:
            rows[match.group(1)] = cells[1:]
    return rows


def test_the_dirt_catalogue_matches_the_code() -> None:
    rows = _table_rows()
    for kind in DIRT_KINDS:
        assert kind.name in rows, f"{kind.name} missing from {DOC.name}"
        rate, sources = rows[kind.name][0], rows[kind.name][1]
        assert float(rate) == kind.default_rate, kind.name
        expected = "all" if len(kind.sources) == len(SOURCES) else ", ".join(kind.sources)
        assert sources == expected, kind.name
    for variant in UNPARSEABLE_VARIANTS:
        assert variant in rows, f"unparseable variant {variant} missing from {DOC.name}"


def test_every_contract_column_is_documented() -> None:
    text = DOC.read_text()
    for source in SOURCES.values():
        section = text.split(f"`{source.name}` (id `{source.id_column}`)")[1].split("\n\n")[1]
        documented = [line.split("|")[1].strip() for line in section.splitlines()[2:]]
        assert documented == list(source.header), source.name
        for line, column in zip(section.splitlines()[2:], source.columns, strict=True):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            assert cells[1] == column.pg_type and cells[2] == ("yes" if column.required else "no"), line
