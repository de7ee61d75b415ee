"""Fixtures of the cluster tier: the local cluster (started, or reused when it runs).

Tests here need root and the cluster's binaries (built once per machine by `make cluster-up`).
The cluster is started by the same code as `c360-cluster up`, and left running at the end: the
make targets (`make cluster-up && make test-cluster-smoke && make cluster-down`) own its life.
"""

from __future__ import annotations

import pytest

from harness.cluster import lifecycle, node_images
from harness.cluster.settings import ClusterSettings

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="session")
def cluster() -> ClusterSettings:
    settings = ClusterSettings()
    lifecycle.up(settings)
    return settings


@pytest.fixture(scope="session")
def busybox() -> str:
    """The node's busybox image (imported at cluster-up), for client and server pods."""
    return node_images.busybox_image()
