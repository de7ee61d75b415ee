"""The one place that configures embedded Airflow: ``AIRFLOW_HOME``, metadata DB, auth, connections.

Everything is passed as environment variables (``AIRFLOW__SECTION__KEY``) to Airflow processes we
start, never written into an ``airflow.cfg`` by hand, so the configuration is visible in one
function and the state dir holds only what Airflow generates. Secrets Airflow needs (JWT signing
key, Fernet key, the UI admin's password) are generated once into ``<state_dir>/airflow`` with
mode 0600; the state dir is git-ignored.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from customer360.contract import AIRFLOW_DATABASE, AIRFLOW_ROLE
from customer360.settings import PROJECT_ROOT
from harness.settings import HarnessSettings

SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
ADMIN_USER = "admin"
DAGS_FOLDER = PROJECT_ROOT / "dags"


@dataclass(frozen=True)
class AirflowPaths:
    """Where embedded Airflow keeps its files, all under ``<state_dir>/airflow``."""

    home: Path

    @classmethod
    def of(cls, settings: HarnessSettings) -> AirflowPaths:
        return cls(home=settings.state_dir / "airflow")

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def secrets_file(self) -> Path:
        return self.home / "secrets.json"

    @property
    def passwords_file(self) -> Path:
        """The simple auth manager's ``{user: password}`` file (admin password for the UI)."""
        return self.home / "simple_auth_manager_passwords.json.generated"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 before any secret is written into it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ensure_airflow_secrets(paths: AirflowPaths) -> dict[str, str]:
    """JWT secret and Fernet key, generated on first use and reused (every process must agree)."""
    if paths.secrets_file.exists():
        return json.loads(paths.secrets_file.read_text())
    generated = {"jwt_secret": secrets.token_urlsafe(48), "fernet_key": Fernet.generate_key().decode()}
    _write_private(paths.secrets_file, json.dumps(generated, indent=2))
    return generated


def ensure_admin_password(paths: AirflowPaths) -> str:
    """The UI admin's password, generated once into the simple auth manager's passwords file."""
    if paths.passwords_file.exists():
        stored = json.loads(paths.passwords_file.read_text() or "{}")
        if stored.get(ADMIN_USER):
            return stored[ADMIN_USER]
    password = secrets.token_urlsafe(18)
    _write_private(paths.passwords_file, json.dumps({ADMIN_USER: password}) + "\n")
    return password


def metadata_db_uri(settings: HarnessSettings) -> str:
    """SQLAlchemy URI of Airflow's own database, on the embedded PostgreSQL next to the warehouse,
    as Airflow's own role (the privilege model creates both, as in the chart)."""
    return settings.warehouse_dsn(AIRFLOW_DATABASE, login_role=AIRFLOW_ROLE).replace(
        "postgresql://", "postgresql+psycopg2://", 1
    )


def api_base_url(settings: HarnessSettings) -> str:
    return f"http://{settings.airflow_host}:{settings.airflow_port}"


def airflow_env(settings: HarnessSettings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Full environment for an embedded Airflow process: ``base`` (default: ours) + Airflow config.

    Reads the stack's credentials, so call it only when the stack is up (never at DAG-parse time).
    """
    paths = AirflowPaths.of(settings)
    generated = ensure_airflow_secrets(paths)
    ensure_admin_password(paths)
    base_url = api_base_url(settings)
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "AIRFLOW_HOME": str(paths.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Two cores: a handful of concurrent task processes is all the machine can use.
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__FERNET_KEY": generated["fernet_key"],
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            # Airflow's development auth manager: fine on loopback (the chart's Airflow uses FAB's).
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(paths.passwords_file),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db_uri(settings),
            "AIRFLOW__API__HOST": settings.airflow_host,
            "AIRFLOW__API__PORT": str(settings.airflow_port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__API_AUTH__JWT_SECRET": generated["jwt_secret"],
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(paths.logs),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        }
    )
    # Tasks and DAG parsing see the same C360_* settings as this process, overrides included.
    env.update(settings.task_env())
    env.update(
        {
            "C360_STATE_DIR": str(settings.state_dir),
            "C360_TASK_RUNTIME": settings.task_runtime,
            "C360_AIRFLOW_HOST": settings.airflow_host,
            "C360_AIRFLOW_PORT": str(settings.airflow_port),
        }
    )
    env.update(settings.airflow_connection_env())
    # Airflow's console scripts and the steps' (`c360-ingest`, `dbt`) live next to this interpreter.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, *[p for p in env.get("PATH", "").split(os.pathsep) if p]])
    return env
