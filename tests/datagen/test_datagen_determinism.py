"""Same arguments -> same bytes; a day generated alone equals that day of a multi-day run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import Dataset, generate_into
from contract_check import tree_digest

from datagen.config import GeneratorConfig
from datagen.generate import generate_day
from datagen.sinks import LocalTarget

SMALL = ("--users", "400", "--days", "3")


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = generate_into(tmp_path / "a", *SMALL, "--seed", "7")
    second = generate_into(tmp_path / "b", *SMALL, "--seed", "7")
    other = generate_into(tmp_path / "c", *SMALL, "--seed", "8")
    assert tree_digest(first.root) == tree_digest(second.root)
    assert first.summary["objects"] == [
        {**obj, "location": obj["location"].replace("/b/", "/a/")} for obj in second.summary["objects"]
    ]
    other_tree = tree_digest(other.root)
    assert other_tree.keys() == tree_digest(first.root).keys()
    assert all(other_tree[name] != data for name, data in tree_digest(first.root).items())


def test_single_day_equals_that_day_of_a_multi_day_run(dataset: Dataset, tmp_path: Path) -> None:
    alone = generate_into(tmp_path, "--users", "3000", "--day", "2", "--rows-per-object", "4000")
    full = tree_digest(dataset.root)
    day2 = {name: data for name, data in full.items() if "dt=2026-11-03" in name}
    assert day2 and tree_digest(alone.root) == day2
    # Per source, a single-day run counts the ids of that day's objects.
    for name, total in alone.summary["sources"].items():
        assert total["distinct_ids"] == sum(
            o["distinct_ids"] for o in dataset.summary["objects"] if o["source"] == name and o["day"] == 2
        )


def test_bytes_do_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    """Faker and set/dict order must not leak into the data: two processes, two hash seeds."""
    digests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        code = "from datagen.cli import app; app()"
        subprocess.run(
            [sys.executable, "-c", code, "generate", "--users", "300", "--days", "2", "--target", str(out)],
            check=True,
            env=env,
            capture_output=True,
        )
        digests.append(tree_digest(out))
    assert digests[0] == digests[1]


def test_dirt_never_changes_the_clean_records(tmp_path: Path) -> None:
    """The dirt stream is separate: a clean run's order lines all appear in the dirty run."""
    config_dirty = GeneratorConfig(users=500)
    config_clean = GeneratorConfig(users=500, dirt_rates=dict.fromkeys(config_dirty.dirt_rates, 0.0))
    for name, config in (("dirty", config_dirty), ("clean", config_clean)):
        for day in (0, 1):
            generate_day(config, day, LocalTarget(tmp_path / name))
    clean_lines = dirty_lines = 0
    for path in sorted((tmp_path / "clean" / "orders").rglob("*.csv")):
        dirty = (tmp_path / "dirty" / path.relative_to(tmp_path / "clean")).read_bytes().split(b"\n")
        clean = path.read_bytes().split(b"\n")
        assert set(clean) <= set(dirty), path
        clean_lines, dirty_lines = clean_lines + len(clean), dirty_lines + len(dirty)
    assert dirty_lines > clean_lines


def test_daily_volume_scales_the_days_after_the_initial_export(tmp_path: Path) -> None:
    usual = generate_into(tmp_path / "usual", "--users", "2000", "--days", "2")
    tenfold = generate_into(tmp_path / "tenfold", "--users", "2000", "--days", "2", "--daily-volume", "10")
    day0 = {name: data for name, data in tree_digest(usual.root).items() if "dt=2026-11-01" in name}
    assert day0 and day0.items() <= tree_digest(tenfold.root).items()  # the export is the same

    def day1_users(run: Dataset) -> int:  # new and updated users (orders still in flight from
        # before day 1 keep changing status at the usual rate, so the other sources grow less)
        return sum(o["data_rows"] for o in run.summary["objects"] if o["day"] == 1 and o["source"] == "users")

    assert 8 * day1_users(usual) < day1_users(tenfold) < 12 * day1_users(usual)
