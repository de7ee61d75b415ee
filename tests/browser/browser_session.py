"""What the browser tier's session fixtures hand to the tests (here, not in conftest: tests import it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.settings import HarnessSettings

DAG_ID = "customer360_elt"


@dataclass(frozen=True)
class EltRun:
    """What one green run of customer360_elt left behind."""

    settings: HarnessSettings
    dbt_target: Path
    log: Path


@dataclass(frozen=True)
class AirflowUi:
    base_url: str
    user: str
    password: str
