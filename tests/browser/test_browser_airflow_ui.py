"""The embedded Airflow UI (`make ui`): log in with the generated admin password, see the DAG green."""

from __future__ import annotations

import re

import pytest
from airflow_ui import UI_TIMEOUT_MS, submit_login
from browser_session import DAG_ID, AirflowUi
from playwright.sync_api import Page, expect

from customer360.tasks.steps import DBT_STEPS, ingest_steps

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _log_in(page: Page, ui: AirflowUi, password: str) -> None:
    submit_login(page, ui.base_url, ui.user, password)


def test_admin_logs_in_and_sees_the_elt_dag_with_its_last_run_green(
    airflow_ui: AirflowUi, page: Page
) -> None:
    _log_in(page, airflow_ui, airflow_ui.password)

    dag_link = page.get_by_test_id("dag-id").get_by_text(DAG_ID, exact=True)
    card = page.get_by_test_id("dag-card").filter(has=dag_link)
    expect(card).to_be_visible(timeout=UI_TIMEOUT_MS)
    badge = card.get_by_test_id("latest-run").get_by_test_id("state-badge")
    expect(badge).to_have_attribute("aria-label", "success", timeout=UI_TIMEOUT_MS)

    # The DAG's own page lists every task of the run.
    dag_link.click()
    expect(page).to_have_url(f"{airflow_ui.base_url}/dags/{DAG_ID}", timeout=UI_TIMEOUT_MS)
    for task_id in [step.name for step in (*ingest_steps(), *DBT_STEPS)]:
        expect(page.get_by_text(task_id, exact=True).first).to_be_visible(timeout=UI_TIMEOUT_MS)


def test_a_wrong_password_is_refused(airflow_ui: AirflowUi, page: Page) -> None:
    _log_in(page, airflow_ui, airflow_ui.password + "-wrong")

    expect(page.get_by_text("Invalid credentials")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page).to_have_url(re.compile(rf"^{re.escape(airflow_ui.base_url)}/auth/login\b"))
    expect(page.get_by_test_id("dag-card")).to_have_count(0)
