"""Settings every component reads: the one place that knows hosts, ports, credentials and paths.

Values come from environment variables (prefix ``C360_``) and fall back to the embedded defaults:
PostgreSQL and S3 on loopback, with credentials generated once into the state directory by
``c360-stack up`` (never committed). The same settings render the Airflow connection URIs and the
environment that every pipeline task receives, so a task's env is identical in both runtimes.
"""

from __future__ import annotations

import json
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from customer360.contract import LAKE_BUCKET, WAREHOUSE_DATABASE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE_NAME = "credentials.json"

# Names of the Airflow connections (the seed's ids; docs/interfaces.md, Names).
POSTGRES_CONN_ID = "postgres_warehouse"
S3_CONN_ID = "minio_s3"


class Settings(BaseSettings):
    """Typed configuration of the platform; override any field with ``C360_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="C360_", extra="ignore", frozen=True)

    state_dir: Path = Field(
        default=PROJECT_ROOT / ".state", description="Embedded servers' data, logs, credentials."
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

    # The embedded S3 server (`weed mini`) opens these ports besides the S3 API port (taken from
    # s3_endpoint_url). Each is a setting so two stacks with different settings never collide;
    # `c360-stack up` checks every one before starting. Defaults are weed's own (gRPC = HTTP + 10000).
    weed_master_port: int = 9333
    weed_master_grpc_port: int = 19333
    weed_volume_port: int = 9340
    weed_volume_grpc_port: int = 19340
    weed_filer_port: int = 8888
    weed_filer_grpc_port: int = 18888
    weed_s3_grpc_port: int = 18333
    weed_admin_port: int = 23646
    weed_admin_grpc_port: int = 33646

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

    # Embedded Airflow (`make ui`): the api-server (UI + execution API) listens here, loopback only.
    airflow_host: str = "127.0.0.1"
    airflow_port: int = 8080
    # `make docs-serve`: the dbt docs site on loopback.
    dbt_docs_port: int = 8081

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

    def ensure_generated_secrets(self) -> None:
        """Create the embedded stack's credentials once; later calls keep what is there."""
        if self.secrets_file.exists():
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        generated = {
            "pg_password": secrets.token_urlsafe(24),
            "s3_access_key_id": "c360" + secrets.token_hex(8),
            "s3_secret_access_key": secrets.token_urlsafe(32),
        }
        self.secrets_file.touch(mode=0o600)
        self.secrets_file.write_text(json.dumps(generated, indent=2))
        self.__dict__.pop("_stored_secrets", None)

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
    def warehouse_dsn(self, database: str | None = None) -> str:
        """libpq URI of the warehouse (or another database on the same server)."""
        return (
            f"postgresql://{quote(self.pg_user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.pg_host}:{self.pg_port}/{database or self.pg_database}"
        )

    def airflow_postgres_conn_uri(self) -> str:
        return self.warehouse_dsn().replace("postgresql://", "postgres://", 1)

    def airflow_s3_conn_json(self) -> str:
        """Airflow connection `minio_s3` in JSON form (endpoint_url lives in `extra`)."""
        return json.dumps(
            {
                "conn_type": "aws",
                "login": self.access_key_id,
                "password": self.secret_access_key,
                "extra": {"endpoint_url": self.s3_endpoint_url, "region_name": self.s3_region},
            }
        )

    def boto3_client_kwargs(self) -> dict[str, str]:
        return {
            "endpoint_url": self.s3_endpoint_url,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "region_name": self.s3_region,
        }

    def task_env(self) -> dict[str, str]:
        """Environment of every pipeline task: what a pod gets from its ConfigMap + Secret."""
        return {
            "C360_PG_HOST": self.pg_host,
            "C360_PG_PORT": str(self.pg_port),
            "C360_PG_USER": self.pg_user,
            "C360_PG_PASSWORD": self.password,
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

    def airflow_connection_env(self) -> dict[str, str]:
        """`AIRFLOW_CONN_*` variables for the two connections; nothing is set in a UI."""
        return {
            f"AIRFLOW_CONN_{POSTGRES_CONN_ID.upper()}": self.airflow_postgres_conn_uri(),
            f"AIRFLOW_CONN_{S3_CONN_ID.upper()}": self.airflow_s3_conn_json(),
        }


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment; keyword overrides win (tests use them)."""
    return Settings(**overrides)
