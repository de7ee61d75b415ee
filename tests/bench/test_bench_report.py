"""bench_pipeline.py's report: figures from a results document become well-formed markdown and plots.

`quick_results.json` is the raw output of a real `bench_pipeline.py --quick` run, so these tests
read the schema the benchmark writes. No timing is asserted anywhere (the figures are data here).
The end-to-end run of the benchmark itself is under the `slow` marker (a few minutes).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import bench_pipeline  # noqa: E402
import bench_report  # noqa: E402
import pod_overhead  # noqa: E402

FIXTURE = Path(__file__).with_name("quick_results.json")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def results() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def tables(markdown: str) -> list[list[str]]:
    """Every markdown table as its list of lines."""
    found, current = [], []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def cells(line: str) -> int:
    # A cell may hold "\|"-free text only; the report never writes a pipe inside a cell.
    return line.strip().strip("|").count("|") + 1


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the fixture's results, written once (plots are the slow part) into prose."""
    doc = tmp_path_factory.mktemp("report") / "benchmarks.md"
    doc.write_text(f"# Title\n\nintro\n\n{bench_report.START}\nold figures\n{bench_report.END}\n\noutro\n")
    bench_pipeline.write_report(json.loads(FIXTURE.read_text()), doc)
    return doc


def test_report_keeps_the_prose_and_replaces_only_the_generated_block(written: Path) -> None:
    text = written.read_text()
    assert text.startswith("# Title\n\nintro\n\n") and text.endswith("\n\noutro\n")
    assert "old figures" not in text
    assert text.count(bench_report.START) == 1 and text.count(bench_report.END) == 1
    for name in ("load.png", "scale.png"):
        assert (written.parent / "benchmarks" / name).read_bytes().startswith(PNG_MAGIC)
        assert f"(benchmarks/{name})" in text


def test_a_rerun_replaces_the_block_instead_of_appending(tmp_path: Path, results) -> None:
    doc = tmp_path / "benchmarks.md"
    for _ in range(2):
        bench_report.write_doc(doc, bench_report.render(results, {}))
    text = doc.read_text()
    assert text.count(bench_report.START) == 1 and text.count("#### Targets") == 1


def test_every_table_is_well_formed_and_every_result_row_names_machine_and_date(
    written: Path, results
) -> None:
    found = tables(written.read_text())
    assert len(found) >= 8
    for table in found:
        header, separator, *rows = table
        assert set(separator.replace("|", "").replace(" ", "")) <= {"-", ":"}
        assert rows, f"empty table under {header}"
        assert all(cells(row) == cells(header) for row in [separator, *rows]), header
        if "machine" in header:
            for row in rows:
                assert results["meta"]["machine_short"] in row and results["meta"]["date"] in row


def test_targets_report_what_the_figures_say(results) -> None:
    status = {target.split(" (")[0]: met for target, _, met in bench_report.targets(results)}
    assert status["loader >= 0.6x psql \\copy"] is False  # the fixture's 100k-row run measured 0.55x
    assert status["loader >= 50x the seed's way"] is True
    assert status["no-op rerun reloads and changes nothing"] is True
    assert "steady-state day <= 15% of the full build, load + dbt" not in status  # no target at this size

    better = copy.deepcopy(results)
    for row in better["load"]["sizes"]:
        row["ratio_psql"] = 0.9
    size = better["scale"][0]
    size["users"] = 1_000_000
    size["noop"]["unchanged"] = False
    size["incremental"]["fraction_load_transform"] = 0.05
    size["noop"]["transform_s"] = 25.0
    size["full"]["transform_s"] = 80.0
    size["noop"]["steps"] |= {"dbt_source_freshness": 9.0, "dbt_build_staging": 2.0, "dbt_snapshot": 2.5}
    size["noop"]["steps"]["dbt_build_marts"] = 2.9
    status = {target.split(" (")[0]: met for target, _, met in bench_report.targets(better)}
    assert status["loader >= 0.6x psql \\copy"] is True
    assert status["steady-state day <= 15% of the full build, load + dbt"] is True
    assert status["no-op rerun, dbt <= 20 s"] is False
    assert status["full build, dbt <= 90 s"] is True
    assert status["fixed cost of a dbt step <= 3 s, median of the no-op steps"] is True  # median 2.7 s
    assert status["no-op rerun reloads and changes nothing"] is False


def test_marginal_cost_is_the_slope_through_the_days(results) -> None:
    days = [
        {"rows": 1_000, "load_s": 1.0, "transform_s": 9.0},
        {"rows": 11_000, "load_s": 2.0, "transform_s": 13.0},
        {"rows": 101_000, "load_s": 10.0, "transform_s": 50.0},
    ]
    per_thousand, intercept = bench_report.marginal_cost(days)
    assert per_thousand == pytest.approx(0.5, rel=0.01)
    assert intercept == pytest.approx(9.5, abs=0.3)
    with_days = copy.deepcopy(results)
    with_days["scale"][0]["day_sizes"] = [
        day | {"daily_volume": volume, "rows_fraction": 0.01, "fraction_load_transform": 0.1, "steps": {}}
        for day, volume in zip(days, (0.1, 1.0, 10.0), strict=True)
    ]
    block = bench_report.render(with_days, {"day_size": "benchmarks/day-size.png"})
    assert "0.50 s per 1,000 changed rows" in block and "day-size.png" in block


def test_a_changed_figure_after_the_no_op_rerun_is_shown(results) -> None:
    changed = copy.deepcopy(results)
    noop = changed["scale"][0]["noop"]
    noop["after"]["customer_360_md5"] = "0" * 32
    noop["changed"] = {"customer_360_md5": [noop["before"]["customer_360_md5"], "0" * 32]}
    block = "\n".join(bench_report.noop_section(changed, changed["meta"]))
    assert "DIFFERENT" in block and "customer_360_md5" in block


def test_pod_figures_are_read_from_the_images_doc() -> None:
    figures = pod_overhead.images_doc_figures(ROOT / "docs" / "images.md")
    assert {"pipeline", "dbt"} <= set(figures["sizes_mb"])
    assert {"c360-ingest --help", "dbt parse"} <= set(figures["start_s"])


@pytest.mark.slow
@pytest.mark.integration
def test_quick_benchmark_runs_end_to_end_and_writes_well_formed_output(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    argv = ["--quick", "--load-sizes", "5000", "--seed-rows", "500", "--users", "300", "--out", str(out)]
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_pipeline.py"), *argv], check=True, timeout=1200
    )
    results = json.loads((tmp_path / "benchmarks" / "pipeline.json").read_text())
    assert [row["rows"] for row in results["load"]["sizes"]] == [5000]
    assert results["load"]["sizes"][0]["loaded"] == 5000
    assert results["scale"][0]["noop"]["unchanged"] is True
    assert all(cells(row) == cells(t[0]) for t in tables(out.read_text()) for row in t)


def test_the_committed_results_render_well_formed() -> None:
    """docs/benchmarks/pipeline.json (the full run, newer schema: two incremental days) renders."""
    results = json.loads((ROOT / "docs" / "benchmarks" / "pipeline.json").read_text())
    block = bench_report.render(results, {})
    for table in tables(block):
        assert all(cells(row) == cells(table[0]) for row in table), table[0]
    assert "(steady state)" in block and "(first after the export)" in block


def test_a_reused_load_section_keeps_the_date_it_was_measured_on_across_reuses(
    results: dict[str, Any],
) -> None:
    measured = copy.deepcopy(results)
    measured["meta"].update(date="2026-11-26", time="05:58")
    once = bench_pipeline.reused_load(measured)
    # A later --skip-load run saved it next to its own meta, and is reused in turn.
    later = {"meta": {**measured["meta"], "date": "2026-12-03", "time": "08:25"}, "load": once}
    twice = bench_pipeline.reused_load(later)

    assert twice["measured_at"] == "2026-11-26 05:58"
    assert twice["date"] == "2026-11-26"
    assert twice["sizes"] == results["load"]["sizes"]
    section = bench_report.load_section({**results, "load": twice}, later["meta"], None)
    (table,) = [t for t in tables("\n".join(section))]
    assert all(line.split("|")[-3].strip() == "2026-11-26" for line in table[2:])
