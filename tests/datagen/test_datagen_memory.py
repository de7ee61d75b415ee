"""Streaming: peak memory does not grow with the number of rows (slow: ~1 M rows)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHILD = """
import resource, sys
from pathlib import Path
from datagen.config import GeneratorConfig
from datagen.generate import generate
from datagen.sinks import LocalTarget
objects = list(generate(GeneratorConfig(users=int(sys.argv[1])), range(2), LocalTarget(Path(sys.argv[2]))))
print(sum(o.data_rows for o in objects), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _peak_rss_mib(users: int, out: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(users), str(out)], check=True, capture_output=True, text=True
    )
    rows, rss = done.stdout.split()
    return int(rows), int(rss)


def test_peak_memory_is_flat_from_20k_to_250k_users(tmp_path: Path) -> None:
    small_rows, small_rss = _peak_rss_mib(20_000, tmp_path / "small")
    big_rows, big_rss = _peak_rss_mib(250_000, tmp_path / "big")
    assert big_rows > 10 * small_rows
    # 12x the rows may cost a few MiB (bigger sampled id lists), never proportionally more.
    assert big_rss <= small_rss + 25, (small_rss, big_rss)
