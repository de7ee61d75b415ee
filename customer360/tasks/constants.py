"""Names and defaults of the task factory that more than one module needs.

Kept apart from the code so the DAG tests, the pod defaults and the Helm chart agree on one
spelling (docs/interfaces.md, Names: runtime switch and pod labels).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class TaskRuntime(StrEnum):
    """Where a pipeline step runs; chosen by ``C360_TASK_RUNTIME``."""

    LOCAL = "local"
    KUBERNETES = "kubernetes"


class ImageKind(StrEnum):
    """Which of the project's images a step needs (``Settings.pipeline_image`` / ``dbt_image``)."""

    PIPELINE = "pipeline"
    DBT = "dbt"


# Labels on every task pod, so `kubectl logs -l customer360/step=ingest-users` works.
PART_OF_LABEL = "app.kubernetes.io/part-of"
PART_OF_VALUE = "customer360"
STEP_LABEL = "customer360/step"

# Retry policy of steps that talk to the lake or the warehouse over the network.
NETWORK_RETRIES = 3
NETWORK_RETRY_DELAY = timedelta(seconds=30)
NETWORK_MAX_RETRY_DELAY = timedelta(minutes=10)

# How long a local step gets to exit after SIGTERM before it is killed.
LOCAL_KILL_GRACE_SECONDS = 10.0
