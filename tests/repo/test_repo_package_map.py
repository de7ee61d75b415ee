"""The package map of docs/architecture.md holds: what runs in a pod imports nothing of the harness.

The runtime (``customer360``, ``datagen``, ``ingest`` and the DAG files) is what the images ship;
the harness (``harness``) brings the platform up around it on one machine. A runtime module that
imported the harness would drag the embedded servers, the cluster builder or the demo into a pod.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from customer360.settings import PROJECT_ROOT

RUNTIME = ("customer360", "datagen", "ingest", "dags")
# What each runtime part may import of the project (besides itself); the harness never.
MAY_IMPORT = {
    "customer360": {"customer360"},
    "datagen": {"customer360", "datagen"},
    "ingest": {"customer360", "ingest"},
    "dags": {"customer360"},
}
PROJECT_PACKAGES = {"customer360", "datagen", "ingest", "harness", "dags"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & PROJECT_PACKAGES


@pytest.mark.parametrize("part", RUNTIME)
def test_the_runtime_imports_nothing_of_the_harness(part: str) -> None:
    offending = {
        str(path.relative_to(PROJECT_ROOT)): sorted(imported_packages(path) - MAY_IMPORT[part])
        for path in (PROJECT_ROOT / part).rglob("*.py")
    }
    assert {name: packages for name, packages in offending.items() if packages} == {}


def test_the_images_ship_the_runtime_and_not_the_harness() -> None:
    copied = set()
    for dockerfile in (PROJECT_ROOT / "images").glob("*/Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY ") and "--from" not in line:
                copied |= {part.split("/")[0] for part in line.split()[1:-1] if not part.startswith("--")}
    assert copied & PROJECT_PACKAGES == {"customer360", "datagen", "ingest", "dags"}
