"""Airflow assets the pipeline produces, so other DAGs can be scheduled on data rather than on time.

Assets are *named* (``warehouse.staging.users``) rather than addressed by a host URI: the same DAG
runs against the embedded server on 127.0.0.1 and against the cluster's warehouse Service, and an
asset must keep one identity across both (and across the dag-processor and the workers, which may
not see the same ``C360_PG_HOST``). The lake asset uses the contract's bucket, which never changes.
"""

from __future__ import annotations

from airflow.sdk import Asset

from customer360.contract import LAKE_BUCKET, PRODUCTION_SCHEMA, RAW_PREFIX, SOURCES, STAGING_SCHEMA
from customer360.tasks.steps import MART_MODELS

ASSET_GROUP = "customer360"

# Raw source files in the lake; updated by the new-day simulator (or any producer of raw files).
LAKE_RAW = Asset(name="lake.raw", uri=f"s3://{LAKE_BUCKET}/{RAW_PREFIX}", group=ASSET_GROUP)


def staging_table(source: str) -> Asset:
    """``staging.<source>``, updated by ``ingest_<source>``."""
    return Asset(name=f"warehouse.{STAGING_SCHEMA}.{source}", group=ASSET_GROUP)


def mart(model: str) -> Asset:
    """``production.<model>``, updated by ``dbt_build_marts``."""
    return Asset(name=f"warehouse.{PRODUCTION_SCHEMA}.{model}", group=ASSET_GROUP)


STAGING_TABLES: dict[str, Asset] = {source: staging_table(source) for source in SOURCES}
MARTS: tuple[Asset, ...] = tuple(mart(model) for model in MART_MODELS)
