"""Run the real dbt CLI on the project in `dbt/` as a subprocess, the way the DAG's tasks do.

Each pytest session gets its own target and log directories (DBT_TARGET_PATH / DBT_LOG_PATH), so
concurrent sessions and a developer's own `dbt` runs in the shared work tree never share
`dbt/target/` (partial-parse state, run results, the docs site).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customer360.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
DBT_TIMEOUT_SECONDS = 900


def node_name(unique_id: str) -> str:
    """The name of a node from its unique_id: model.pkg.NAME, test.pkg.NAME.hash,
    unit_test.pkg.model.NAME, source.pkg.SOURCE.table."""
    parts = unique_id.split(".")
    return parts[3] if parts[0] == "unit_test" else parts[2]


@dataclass(frozen=True)
class DbtResult:
    """What one dbt invocation did: exit code, console output and its results file."""

    returncode: int
    output: str
    run_results: dict[str, Any] | None

    @property
    def results(self) -> list[dict[str, Any]]:
        return list(self.run_results["results"]) if self.run_results else []

    def statuses(self) -> dict[str, str]:
        """Node name (last part of unique_id) -> status (pass, warn, fail, error, success, ...)."""
        return {node_name(r["unique_id"]): r["status"] for r in self.results}

    def failures(self, name_part: str) -> int | None:
        """Failing-row count of the one test whose name contains `name_part` (None if not run)."""
        matches = [r for r in self.results if name_part in node_name(r["unique_id"])]
        if len(matches) != 1:
            found = [m["unique_id"] for m in matches]
            raise AssertionError(f"{len(matches)} results match {name_part!r}: {found}")
        return matches[0]["failures"]


class DbtRunner:
    """Invokes `dbt <args>` with the task environment plus a private target/log directory."""

    def __init__(self, work_dir: Path, env: dict[str, str] | None = None) -> None:
        self.target_path = work_dir / "target"
        self.log_path = work_dir / "logs"
        self.env = {**os.environ, **(env or {})}
        self.env.update(
            {
                "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
                "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
                "DBT_TARGET_PATH": str(self.target_path),
                "DBT_LOG_PATH": str(self.log_path),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DBT_USE_COLORS": "false",
            }
        )

    def __call__(self, *args: str, check: bool = True) -> DbtResult:
        # `dbt source freshness` reports in sources.json, every other command in run_results.json
        freshness = args[:2] == ("source", "freshness")
        results_file = self.target_path / ("sources.json" if freshness else "run_results.json")
        results_file.unlink(missing_ok=True)
        proc = subprocess.run(
            [str(DBT_EXECUTABLE), *args],
            cwd=DBT_PROJECT_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DBT_TIMEOUT_SECONDS,
            check=False,
        )
        output = proc.stdout + proc.stderr
        run_results = json.loads(results_file.read_text()) if results_file.exists() else None
        result = DbtResult(proc.returncode, output, run_results)
        if check and proc.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} exited {proc.returncode}:\n{output[-6000:]}")
        return result
