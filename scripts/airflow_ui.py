"""The Airflow 3 UI as a person uses it, in headless Chromium: log in, open a run, read a task's log.

Shared by the browser tests (the embedded `make ui`, simple auth manager), the cluster tier (the
chart's FAB auth manager) and the cluster screenshot: both login forms have a username and a
password field and a "Sign in" button.
"""

from __future__ import annotations

import re
import urllib.parse

from playwright.sync_api import Page, expect

# The UI renders from its API; on two busy cores the first page can take a while.
UI_TIMEOUT_MS = 90_000


SIGN_IN = re.compile(r"^sign in$", re.IGNORECASE)


def submit_login(page: Page, base_url: str, username: str, password: str) -> None:
    """Open the UI (it sends a stranger to its login form) and submit these credentials."""
    page.goto(f"{base_url}/dags")
    page.wait_for_url("**/auth/login**", timeout=UI_TIMEOUT_MS)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name=SIGN_IN).click()


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Log in and wait for the DAG list."""
    submit_login(page, base_url, username, password)
    expect(page.get_by_test_id("dag-card").first).to_be_visible(timeout=UI_TIMEOUT_MS)


def run_url(base_url: str, dag_id: str, run_id: str) -> str:
    return f"{base_url}/dags/{dag_id}/runs/{urllib.parse.quote(run_id, safe='')}"


def run_state(page: Page, base_url: str, dag_id: str, run_id: str) -> str:
    """The state the run's page shows in its header badge (``success``, ``failed``, ...)."""
    page.goto(run_url(base_url, dag_id, run_id))
    badge = page.get_by_test_id("state-badge").first
    expect(badge).to_be_visible(timeout=UI_TIMEOUT_MS)
    return badge.inner_text().strip().lower()


def task_log_text(page: Page, base_url: str, dag_id: str, run_id: str, task_id: str, expected: str) -> str:
    """The text of a task's log tab once ``expected`` shows in it (the log view renders lazily)."""
    page.goto(f"{run_url(base_url, dag_id, run_id)}/tasks/{task_id}")
    expect(page.get_by_text(expected).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    return page.inner_text("body")
