"""The local harness's settings: the runtime's (``customer360.settings``) plus its own servers and UIs.

The embedded S3 server's extra ports, the loopback UIs, the generation of the embedded stack's
credentials and the Airflow connections of the laptop's Airflow: none of this reaches a pod, so it
stays out of the runtime package. Same ``C360_`` prefix: one environment configures both.
"""

from __future__ import annotations

import json
import secrets

from customer360.contract import AIRFLOW_ROLE, ANALYST_ROLE, DBT_ROLE, LOADER_ROLE
from customer360.settings import Settings

# Names of the Airflow connections (docs/interfaces.md, Names).
POSTGRES_CONN_ID = "postgres_warehouse"
S3_CONN_ID = "minio_s3"
# Login roles of the privilege model the embedded warehouse gets (as the chart's does).
WAREHOUSE_ROLES = (LOADER_ROLE, DBT_ROLE, ANALYST_ROLE, AIRFLOW_ROLE)


class HarnessSettings(Settings):
    """Settings of the embedded stack, the laptop's Airflow and the docs server."""

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

    # Embedded Airflow (`make ui`): the api-server (UI + execution API) listens here, loopback only.
    airflow_host: str = "127.0.0.1"
    airflow_port: int = 8080
    # `make docs-serve`: the dbt docs site on loopback.
    dbt_docs_port: int = 8081

    def ensure_generated_secrets(self) -> None:
        """Create the embedded stack's credentials once (the superuser's, the S3 keys and one
        password per warehouse role); later calls keep what is there and add what is missing."""
        stored = json.loads(self.secrets_file.read_text()) if self.secrets_file.exists() else {}
        wanted = {
            "pg_password": lambda: secrets.token_urlsafe(24),
            "s3_access_key_id": lambda: "c360" + secrets.token_hex(8),
            "s3_secret_access_key": lambda: secrets.token_urlsafe(32),
            **{f"{role}_password": lambda: secrets.token_urlsafe(24) for role in WAREHOUSE_ROLES},
        }
        missing = {name: make() for name, make in wanted.items() if name not in stored}
        if not missing:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.secrets_file.touch(mode=0o600)
        self.secrets_file.write_text(json.dumps(stored | missing, indent=2))
        self.__dict__.pop("_stored_secrets", None)

    def airflow_postgres_conn_uri(self) -> str:
        """`postgres_warehouse` logs in as the analyst role (reads `production`), as in the chart."""
        return self.warehouse_dsn(login_role=ANALYST_ROLE).replace("postgresql://", "postgres://", 1)

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

    def airflow_connection_env(self) -> dict[str, str]:
        """`AIRFLOW_CONN_*` variables for the two connections; nothing is set in a UI."""
        return {
            f"AIRFLOW_CONN_{POSTGRES_CONN_ID.upper()}": self.airflow_postgres_conn_uri(),
            f"AIRFLOW_CONN_{S3_CONN_ID.upper()}": self.airflow_s3_conn_json(),
        }


def get_harness_settings(**overrides: object) -> HarnessSettings:
    """Harness settings from the environment; keyword overrides win (tests use them)."""
    return HarnessSettings(**overrides)
