"""Datasets generated once per session for the datagen tests (a few thousand users: seconds)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from datagen.cli import app

USERS = 3000
DAYS = 3
ROWS_PER_OBJECT = 4000  # day 0 has ~7,600 order rows: exercises the split into -0001, -0002


@dataclass
class Dataset:
    root: Path
    summary: dict[str, Any]


def run_cli(*args: str) -> Any:
    """Invoke `c360-datagen` in-process; returns the click Result (exit_code, output)."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def generate_into(root: Path, *args: str) -> Dataset:
    summary_path = root / "summary.json"
    result = run_cli("generate", "--target", str(root / "raw"), "--summary", str(summary_path), *args)
    assert result.exit_code == 0, result.output
    return Dataset(root / "raw", json.loads(summary_path.read_text()))


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Days 0..2 of 3,000 users with the default dirt, split into objects of <= ~4,000 rows."""
    return generate_into(
        tmp_path_factory.mktemp("datagen"),
        *("--users", str(USERS), "--days", str(DAYS), "--rows-per-object", str(ROWS_PER_OBJECT)),
    )
