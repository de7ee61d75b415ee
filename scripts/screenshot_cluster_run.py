#!/usr/bin/env python
"""Screenshot the graph of the newest green ``customer360_elt`` run on the local cluster.

Writes ``assets/airflow_cluster_run.png`` (the README's picture of the platform on Kubernetes): logs
in to the Airflow UI through the cluster's 127.0.0.1 forward with the admin password from the
chart's Secret, opens the run, switches to the graph view and waits until every task shows its
state. Run it with ``make screenshots-cluster`` after a green run (``make test-cluster`` leaves one).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

import httpx
from airflow_ui import UI_TIMEOUT_MS, log_in, run_url
from headless_chromium import launch
from playwright.sync_api import expect, sync_playwright

from customer360.settings import PROJECT_ROOT
from harness.cluster import lifecycle
from harness.cluster.settings import ClusterSettings

DEFAULT_OUT = PROJECT_ROOT / "assets" / "airflow_cluster_run.png"
DAG_ID = "customer360_elt"


def newest_green_run(base_url: str, username: str, password: str) -> str:
    token = httpx.post(f"{base_url}/auth/token", json={"username": username, "password": password}).json()
    runs = httpx.get(
        f"{base_url}/api/v2/dags/{DAG_ID}/dagRuns",
        params={"state": "success", "order_by": "-run_after", "limit": 1},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    ).json()["dag_runs"]
    if not runs:
        raise SystemExit(f"error: no green {DAG_ID} run on the cluster yet (make test-cluster leaves one)")
    return runs[0]["dag_run_id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write (default: %(default)s)")
    args = parser.parse_args(argv)
    settings = ClusterSettings()
    secret = lifecycle.kubectl(
        settings, "-n", "customer360", "get", "secret", "customer360-airflow", "-o", "json"
    )
    password = base64.b64decode(json.loads(secret.stdout)["data"]["admin-password"]).decode()
    port = next(f.host_port for f in settings.forwards() if f.name == "airflow")
    base_url = f"http://127.0.0.1:{port}"
    run_id = newest_green_run(base_url, "admin", password)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 760}, device_scale_factor=1.5)
            log_in(page, base_url, "admin", password)
            page.goto(run_url(base_url, DAG_ID, run_id))
            page.get_by_role("button", name="Show Graph (Press g)").click()
            expect(page.get_by_text("dbt_docs_generate").first).to_be_visible(timeout=UI_TIMEOUT_MS)
            page.wait_for_timeout(3000)  # the graph lays itself out, then colours its nodes
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
        finally:
            browser.close()
    print(f"wrote {args.out} (run {run_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
