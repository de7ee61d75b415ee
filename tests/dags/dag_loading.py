"""Helpers that load DAG files the way the dag-processor does, for the DAG tests."""

from __future__ import annotations

import importlib.util
import sys
import uuid
import warnings
from pathlib import Path
from types import ModuleType

from customer360.settings import PROJECT_ROOT

DAGS_FOLDER = PROJECT_ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))


def import_dag_file(path: Path) -> tuple[ModuleType, list[warnings.WarningMessage]]:
    """Execute one DAG file as a fresh module; return it and every warning it raised."""
    name = f"c360_dag_under_test_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            sys.modules.pop(name, None)
    return module, list(caught)


def dags_of(module: ModuleType) -> dict[str, object]:
    from airflow.sdk import DAG

    return {value.dag_id: value for value in vars(module).values() if isinstance(value, DAG)}
