"""What a pipeline step reads: the warehouse, the lake, dbt, and how tasks run.

Values come from environment variables (prefix ``C360_``). In a pod they all do (the chart's
ConfigMap and Secret); on a laptop the defaults point at the embedded servers on loopback, and the
credentials, when not in the environment, are read from the file the local harness generated them
into (``c360-stack up``; never committed). The same settings render the environment every task
receives, so a task's env is identical in both runtimes. What only the local harness needs (its
servers' ports, the UIs) lives in ``harness.settings``.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from customer360.contract import LAKE_BUCKET, WAREHOUSE_DATABASE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE_NAME = "credentials.json"


class Settings(BaseSettings):
    """What a step reads; override any field with ``C360_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="C360_", extra="ignore", frozen=True)

    state_dir: Path = Field(
        default=PROJECT_ROOT / ".state", description="Where the local harness keeps generated credentials."
    )

    pg_host: str = "127.0.0.1"
    pg_port: int = 55432
    pg_user: str = "c360"
    pg_password: str | None = Field(default=None, description="Generated into the state dir when unset.")
    pg_database: str = WAREHOUSE_DATABASE

    s3_endpoint_url: str = "http://127.0.0.1:8333"
    s3_access_key_id: str | None = Field(default=None, description="Generated into the state dir when unset.")
    s3_secret_access_key: str | None = Field(
        default=None, description="Generated into the state dir when unset."
    )
    s3_bucket: str = LAKE_BUCKET
    s3_region: str = "us-east-1"

    dbt_project_dir: Path = PROJECT_ROOT / "dbt"
    dbt_target: str = "embedded"

    # How pipeline tasks run (docs/architecture.md: one code path, two runtimes) and what pods get.
    task_runtime: Literal["local", "kubernetes"] = "local"
    pipeline_image: str = "customer360/pipeline:0.1.0"
    dbt_image: str = "customer360/dbt:0.1.0"
    # The tasks namespace of the chart (release `customer360`): task pods run apart from the platform.
    k8s_namespace: str = "customer360-tasks"
    task_secret_name: str = "customer360-task-credentials"
    task_configmap_name: str = "customer360-task-config"
    # Set by the Helm chart on Airflow: the dbt pods' own Secret (dbt warehouse role; unset = the
    # task Secret), the task pods' ServiceAccount, and the PVC the docs task writes the site to.
    dbt_task_secret_name: str | None = None
    task_service_account_name: str | None = None
    docs_pvc_name: str | None = None
    docs_mount_path: str = "/dbt-docs"

    # --- secrets -------------------------------------------------------------------------------
    @property
    def secrets_file(self) -> Path:
        return self.state_dir / SECRETS_FILE_NAME

    @cached_property
    def _stored_secrets(self) -> dict[str, str]:
        if self.secrets_file.exists():
            return json.loads(self.secrets_file.read_text())
        return {}

    def _secret(self, name: str) -> str:
        explicit = getattr(self, name)
        if explicit:
            return explicit
        stored = self._stored_secrets.get(name)
        if stored:
            return stored
        raise RuntimeError(
            f"no value for C360_{name.upper()} and no generated credentials in {self.secrets_file}; "
            "run `c360-stack up` (or `make up`) first, or set the variable"
        )

    @property
    def password(self) -> str:
        return self._secret("pg_password")

    @property
    def access_key_id(self) -> str:
        return self._secret("s3_access_key_id")

    @property
    def secret_access_key(self) -> str:
        return self._secret("s3_secret_access_key")

    # --- derived connection strings ------------------------------------------------------------
    def warehouse_dsn(self, database: str | None = None, login_role: str | None = None) -> str:
        """libpq URI of the warehouse (or another database on the same server), as `pg_user` or
        as one of the privilege model's roles (see :meth:`task_env`)."""
        user, password = self._login(login_role)
        return (
            f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@{self.pg_host}:{self.pg_port}/{database or self.pg_database}"
        )

    def boto3_client_kwargs(self) -> dict[str, str]:
        return {
            "endpoint_url": self.s3_endpoint_url,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "region_name": self.s3_region,
        }

    def role_password(self, role: str) -> str:
        """The password of one of the warehouse's login roles (contract.LOADER_ROLE, ...), as the
        local harness generated it (`<role>_password` in the credentials file)."""
        stored = self._stored_secrets.get(f"{role}_password")
        if not stored:
            raise RuntimeError(
                f"no generated password for the warehouse role {role!r} in {self.secrets_file}; "
                "run `c360-stack up` (or `make up`) first"
            )
        return stored

    def _login(self, login_role: str | None) -> tuple[str, str]:
        if login_role is None:
            return self.pg_user, self.password
        return login_role, self.role_password(login_role)

    def task_env(self, login_role: str | None = None) -> dict[str, str]:
        """Environment of every pipeline task: what a pod gets from its ConfigMap + Secret.

        `login_role` logs the task in as that role of the privilege model instead of `pg_user`,
        as the chart's task Secrets do (the local runtime: loader steps as the loader role, dbt
        steps as the dbt role).
        """
        user, password = self._login(login_role)
        return {
            "C360_PG_HOST": self.pg_host,
            "C360_PG_PORT": str(self.pg_port),
            "C360_PG_USER": user,
            "C360_PG_PASSWORD": password,
            "C360_PG_DATABASE": self.pg_database,
            "C360_S3_ENDPOINT_URL": self.s3_endpoint_url,
            "C360_S3_ACCESS_KEY_ID": self.access_key_id,
            "C360_S3_SECRET_ACCESS_KEY": self.secret_access_key,
            "C360_S3_BUCKET": self.s3_bucket,
            "C360_S3_REGION": self.s3_region,
            "DBT_PROJECT_DIR": str(self.dbt_project_dir),
            "DBT_PROFILES_DIR": str(self.dbt_project_dir),
            "DBT_TARGET": self.dbt_target,
        }


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment; keyword overrides win (tests use them)."""
    return Settings(**overrides)
