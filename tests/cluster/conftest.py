"""Fixtures of the cluster tier: the local cluster (started, or reused when it runs).

Tests here need root and the cluster's binaries (built once per machine by `make cluster-up`).
The cluster is started by the same code as `c360-cluster up`, and left running at the end: the
make targets (`make cluster-up && make test-cluster-smoke && make cluster-down`) own its life.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

from customer360.settings import PROJECT_ROOT
from harness.cluster import deploy, lifecycle, node_images
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


# The platform tests reuse the dbt tier's independent reference computation and the headless
# Chromium launcher of scripts/ (neither is a package; both are shared, never copied).
sys.path.insert(0, str(PROJECT_ROOT / "tests" / "dbt"))
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from platform_access import Installation, airflow_api  # noqa: E402  (after the path above)


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Page]:
    """Debian's Chromium driven by Playwright (installed by `make browser-deps`, as for make test)."""
    from headless_chromium import launch

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        try:
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="session")
def installed(cluster: ClusterSettings) -> Installation:
    """The platform deployed as `make cluster-deploy` does it (the Tiltfile's images and values)."""
    report = deploy.deploy(cluster)
    # The figures docs/kubernetes.md quotes (a report, not a check: no test asserts a duration).
    timings = cluster.layout.logs / "platform-deploy.json"
    timings.write_text(json.dumps({k: round(v, 1) for k, v in report.__dict__.items()}, indent=2))
    return Installation(cluster, airflow_api(cluster), report)
