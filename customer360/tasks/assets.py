"""Airflow assets the pipeline produces, so other DAGs can be scheduled on data rather than on time.

Assets are *named* (``warehouse.staging.users``) rather than addressed by a host URI: the same DAG
runs against the embedded server on 127.0.0.1 and against the cluster's warehouse Service, and an
asset must keep one identity across both (and across the dag-processor and the workers, which may
not see the same ``C360_PG_HOST``). The steps carry the names (:mod:`customer360.tasks.steps`);
this builds the Airflow objects from them.
"""

from __future__ import annotations

from collections.abc import Iterable

from airflow.sdk import Asset

from customer360.tasks.steps import LAKE_RAW as LAKE_RAW_NAME
from customer360.tasks.steps import LAKE_RAW_URI

ASSET_GROUP = "customer360"


def asset(name: str) -> Asset:
    """The asset of a name; raw source files in the lake also carry their S3 URI."""
    if name == LAKE_RAW_NAME:
        return Asset(name=name, uri=LAKE_RAW_URI, group=ASSET_GROUP)
    return Asset(name=name, group=ASSET_GROUP)


def assets(names: Iterable[str]) -> list[Asset]:
    return [asset(name) for name in names]


# The lake's raw files: published by the new-day simulator, scheduling customer360_elt.
LAKE_RAW = asset(LAKE_RAW_NAME)
