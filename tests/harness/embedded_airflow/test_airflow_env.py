"""Embedded Airflow's configuration: one env builder, secrets generated once and kept private."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from customer360.settings import PROJECT_ROOT
from harness.embedded_airflow.env import (
    AirflowPaths,
    airflow_env,
    ensure_admin_password,
    ensure_airflow_secrets,
)
from harness.settings import get_harness_settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("C360_PG_PASSWORD", "p@ss/word")
    monkeypatch.setenv("C360_S3_ACCESS_KEY_ID", "kid")
    monkeypatch.setenv("C360_S3_SECRET_ACCESS_KEY", "ksecret")
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    roles = {"c360_loader": "l", "c360_dbt": "d", "c360_analyst": "an@lyst", "airflow": "a/f"}
    (state_dir / "credentials.json").write_text(json.dumps({f"{r}_password": p for r, p in roles.items()}))
    return get_harness_settings(state_dir=state_dir, pg_port=61000, airflow_port=61080)


def test_env_points_airflow_at_the_state_dir_the_repo_dags_and_the_embedded_db(settings) -> None:
    env = airflow_env(settings, base={})
    assert env["AIRFLOW_HOME"] == str(settings.state_dir / "airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(PROJECT_ROOT / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    # Airflow's own role and database, not the warehouse; the password is URL-quoted
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg2://airflow:a%2Ff@127.0.0.1:61000/airflow"
    )
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__PORT"] == "61080"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:61080/execution/"


def test_connections_come_from_env_and_tasks_see_the_same_settings(settings) -> None:
    env = airflow_env(settings, base={})
    # the warehouse connection reads `production` as the analyst, as the chart's does
    assert env["AIRFLOW_CONN_POSTGRES_WAREHOUSE"].startswith("postgres://c360_analyst:an%40lyst@")
    assert json.loads(env["AIRFLOW_CONN_MINIO_S3"])["login"] == "kid"
    assert env["C360_PG_PORT"] == "61000"
    assert env["C360_STATE_DIR"] == str(settings.state_dir)
    assert env["C360_TASK_RUNTIME"] == "local"


def test_generated_secrets_are_private_and_stable(settings) -> None:
    paths = AirflowPaths.of(settings)
    first = ensure_airflow_secrets(paths)
    assert ensure_airflow_secrets(paths) == first
    assert airflow_env(settings, base={})["AIRFLOW__API_AUTH__JWT_SECRET"] == first["jwt_secret"]
    password = ensure_admin_password(paths)
    assert len(password) >= 16
    assert ensure_admin_password(paths) == password
    assert json.loads(paths.passwords_file.read_text()) == {"admin": password}
    for path in (paths.secrets_file, paths.passwords_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_state_dir_is_git_ignored() -> None:
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert ".state/" in ignored
