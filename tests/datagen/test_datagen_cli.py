"""The command line: help that documents the dirt, clear errors for bad arguments, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from datagen.config import DIRT_KINDS


def test_help_lists_every_dirt_kind_with_its_default_rate() -> None:
    result = run_cli("generate", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for kind in DIRT_KINDS:
        assert f"{kind.name} = {kind.default_rate:g}" in text
    for option in (
        "--users",
        "--days",
        "--day",
        "--start-date",
        "--seed",
        "--dirt-rate",
        "--target",
        "--summary",
    ):
        assert option in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--users", "-5"), "--users must be within"),
        (("--users", "0"), "--users must be within"),
        (("--start-date", "2026-13-01"), "not a date"),
        (("--start-date", "yesterday"), "not a date"),
        (("--days", "0"), "--days must be within"),
        (("--day", "-1"), "--day must be within"),
        (("--day", "2", "--days", "3"), "give one of"),
        (("--through-day", "2", "--day", "3"), "give one of"),
        (("--through-day", "-1"), "--through-day must be within"),
        (("--seed", "-1"), "--seed must be"),
        (("--dirt-rate", "-0.5"), "--dirt-rate must be >= 0"),
        (("--dirt", "mud=0.1"), "unknown dirt kind 'mud'"),
        (("--dirt", "duplicate_row"), "is not KIND=RATE"),
        (("--dirt", "duplicate_row=2"), "within 0..1"),
        (("--rows-per-object", "0"), "--rows-per-object must be"),
        (("--daily-volume", "0"), "--daily-volume must be within"),
        (("--target", "gs://bucket/raw"), "unknown target scheme 'gs'"),
        (("--target", "s3://"), "names no bucket"),
    ],
)
def test_bad_arguments_fail_with_a_clear_message(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    full = ("generate", "--users", "10", "--target", str(tmp_path / "out"), *args)
    result = run_cli(*full)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "out").exists(), "nothing may be written when the arguments are bad"


def test_s3_target_without_credentials_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("C360_S3_ACCESS_KEY_ID", "C360_S3_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("C360_STATE_DIR", str(tmp_path / "no-stack"))
    result = run_cli("generate", "--users", "10", "--target", "s3://data-lake/raw")
    assert result.exit_code == 2
    assert "C360_S3_ACCESS_KEY_ID" in " ".join(result.output.split())


def test_a_file_as_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = run_cli("generate", "--users", "10", "--target", str(tmp_path / "file"))
    assert result.exit_code == 2
    assert "not a folder" in result.output


def test_prints_one_line_per_object_and_writes_the_summary(tmp_path: Path) -> None:
    summary = tmp_path / "reports" / "summary.json"
    result = run_cli(
        "generate",
        "--users",
        "50",
        "--days",
        "2",
        "--target",
        str(tmp_path / "raw"),
        "--summary",
        str(summary),
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 6 and all(line.startswith("wrote ") for line in lines)
    document = json.loads(summary.read_text())
    assert document["parameters"]["days"] == [0, 1]
    assert [obj["location"] for obj in document["objects"]] == [line.split()[1] for line in lines]
    for line, obj in zip(lines, document["objects"], strict=True):
        assert f"rows={obj['data_rows']}" in line and f"bytes={obj['bytes']}" in line
        assert Path(obj["location"]).stat().st_size == obj["bytes"]


def test_through_day_fills_in_the_missing_days_initial_export_first(tmp_path: Path) -> None:
    """The simulator's first run on an empty lake lands day 0 (the export) and every day up to K."""
    target = tmp_path / "raw"
    common = ("generate", "--users", "40", "--seed", "7", "--target", str(target))
    assert run_cli(*common, "--day", "1").exit_code == 0
    first = run_cli(*common, "--through-day", "3")
    assert first.exit_code == 0, first.output
    assert "3 missing" in first.output and "0, 2-3" in first.output
    written = sorted(line.split()[1] for line in first.output.splitlines() if line.startswith("wrote "))
    assert [Path(p).parent.name for p in written if "/users/" in p] == [
        "dt=2026-11-01",
        "dt=2026-11-03",
        "dt=2026-11-04",
    ]
    reference = tmp_path / "reference"
    assert (
        run_cli(
            "generate", "--users", "40", "--seed", "7", "--target", str(reference), "--days", "4"
        ).exit_code
        == 0
    )
    for path in reference.rglob("*.csv"):
        assert (target / path.relative_to(reference)).read_bytes() == path.read_bytes()
    again = run_cli(*common, "--through-day", "3")
    assert again.exit_code == 0 and "0 missing" in again.output and "wrote " not in again.output
