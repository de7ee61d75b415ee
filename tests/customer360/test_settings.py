"""Unit tests of customer360.settings: env overrides, generated secrets, URIs, the task environment."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest
from psycopg2.extensions import parse_dsn

from customer360.settings import PROJECT_ROOT, Settings, get_settings
from harness.settings import HarnessSettings, get_harness_settings

TASK_ENV_KEYS = {  # docs/interfaces.md, "Task environment"
    "C360_PG_HOST",
    "C360_PG_PORT",
    "C360_PG_USER",
    "C360_PG_PASSWORD",
    "C360_PG_DATABASE",
    "C360_S3_ENDPOINT_URL",
    "C360_S3_ACCESS_KEY_ID",
    "C360_S3_SECRET_ACCESS_KEY",
    "C360_S3_BUCKET",
    "C360_S3_REGION",
    "DBT_PROJECT_DIR",
    "DBT_PROFILES_DIR",
    "DBT_TARGET",
}


@pytest.fixture(autouse=True)
def _no_c360_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start each test from the defaults, whatever the shell or the session stack exported."""
    import os

    for key in list(os.environ):
        if key.startswith(("C360_", "DBT_")):
            monkeypatch.delenv(key)


def test_env_override_wins_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_PG_PORT", "6543")
    monkeypatch.setenv("C360_WEED_FILER_PORT", "7777")
    assert Settings().pg_port == 6543
    # The harness's settings read the same environment, with their own fields on top.
    harness = HarnessSettings()
    assert (harness.pg_port, harness.weed_filer_port) == (6543, 7777)


def test_keyword_override_wins_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_PG_PORT", "6543")
    assert get_settings(pg_port=7000).pg_port == 7000


def test_bad_env_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_PG_PORT", "not-a-port")
    with pytest.raises(ValueError, match="pg_port"):
        Settings()


def test_missing_credentials_tell_the_user_what_to_run(tmp_path: Path) -> None:
    settings = get_settings(state_dir=tmp_path)
    with pytest.raises(RuntimeError, match="c360-stack up"):
        _ = settings.password


def test_generated_secrets_are_private_and_stable(tmp_path: Path) -> None:
    settings = get_harness_settings(state_dir=tmp_path / "state")
    settings.ensure_generated_secrets()
    mode = stat.S_IMODE(settings.secrets_file.stat().st_mode)
    assert mode == 0o600
    first = (settings.password, settings.access_key_id, settings.secret_access_key)
    assert all(len(value) >= 16 for value in first)

    again = get_harness_settings(state_dir=tmp_path / "state")
    again.ensure_generated_secrets()  # a second call keeps what is there
    assert (again.password, again.access_key_id, again.secret_access_key) == first

    other = get_harness_settings(state_dir=tmp_path / "other")
    other.ensure_generated_secrets()
    assert other.password != settings.password


def test_explicit_secret_beats_generated_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    get_harness_settings(state_dir=tmp_path).ensure_generated_secrets()
    monkeypatch.setenv("C360_PG_PASSWORD", "from-the-env")
    assert get_harness_settings(state_dir=tmp_path).password == "from-the-env"


def test_default_credentials_file_is_git_ignored() -> None:
    secrets_file = Settings().secrets_file
    assert secrets_file.is_relative_to(PROJECT_ROOT)
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(secrets_file)], cwd=PROJECT_ROOT, check=False
    ).returncode
    assert ignored == 0, f"{secrets_file} is not git-ignored"
    tracked = subprocess.run(
        ["git", "ls-files", str(Settings().state_dir)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert tracked == ""


def test_dsn_quotes_special_characters_and_round_trips() -> None:
    password = "p@ss:w/rd%?#&= é"
    settings = get_settings(pg_user="us:er@x", pg_password=password, pg_port=6000)
    parsed = parse_dsn(settings.warehouse_dsn())
    assert parsed["password"] == password
    assert parsed["user"] == "us:er@x"
    assert parsed["port"] == "6000"
    assert parsed["dbname"] == "warehouse"
    assert parse_dsn(settings.warehouse_dsn("airflow"))["dbname"] == "airflow"


def test_airflow_connections_carry_endpoint_and_keys(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps({"c360_analyst_password": "pw/1"}))
    settings = get_harness_settings(
        state_dir=tmp_path,
        pg_password="super",
        s3_access_key_id="AK",
        s3_secret_access_key="S+K",
        s3_endpoint_url="http://h:1",
    )
    env = settings.airflow_connection_env()
    # Airflow's warehouse connection reads as the analyst role, never as the superuser
    assert env["AIRFLOW_CONN_POSTGRES_WAREHOUSE"].startswith("postgres://c360_analyst:pw%2F1@")
    s3 = json.loads(env["AIRFLOW_CONN_MINIO_S3"])
    assert (s3["login"], s3["password"]) == ("AK", "S+K")
    assert s3["extra"]["endpoint_url"] == "http://h:1"


def test_task_env_has_exactly_the_documented_variables() -> None:
    settings = get_settings(
        pg_password="pw", s3_access_key_id="ak", s3_secret_access_key="sk", pg_port=6001, dbt_target="ci"
    )
    env = settings.task_env()
    assert set(env) == TASK_ENV_KEYS
    assert all(isinstance(value, str) for value in env.values())
    assert env["C360_PG_PORT"] == "6001"
    assert env["C360_PG_PASSWORD"] == "pw"
    assert env["C360_S3_BUCKET"] == "data-lake"
    assert env["DBT_TARGET"] == "ci"
    assert env["DBT_PROFILES_DIR"] == env["DBT_PROJECT_DIR"] == str(PROJECT_ROOT / "dbt")


def test_task_env_round_trips_through_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A task that receives task_env() sees the same servers as the process that built it."""
    original = get_settings(pg_password="pw", s3_access_key_id="ak", s3_secret_access_key="sk", pg_port=6002)
    for key, value in original.task_env().items():
        monkeypatch.setenv(key, value)
    inside_task = Settings()
    assert inside_task.warehouse_dsn() == original.warehouse_dsn()
    assert inside_task.boto3_client_kwargs() == original.boto3_client_kwargs()
