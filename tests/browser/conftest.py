"""Fixtures of the browser tier: headless Chromium, one real pipeline run, the Airflow UI.

The pipeline runs once per session, exactly as `make demo` runs it (generate into the lake, migrate
Airflow's metadata DB, `airflow dags test customer360_elt` on the session's embedded stack), with
dbt's artifacts in a private directory so the shared `dbt/target` of a developer's demo is never
touched. The dbt docs tests serve that directory; the Airflow UI tests start the embedded Airflow
services (`make ui`'s code) on the session stack's own free port and read the run from its DB.

The browser helpers live next to the screenshot script (`scripts/`), which uses the same ones.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_session import DAG_ID, AirflowUi, EltRun
from playwright.sync_api import Browser, Page, sync_playwright

from customer360.settings import PROJECT_ROOT
from customer360.tasks.local_process import local_step_env, run_streaming
from harness.demo_report import task_states
from harness.embedded_airflow import cli as airflow_cli
from harness.embedded_airflow import services
from harness.embedded_airflow.env import ADMIN_USER, AirflowPaths, api_base_url
from harness.settings import HarnessSettings
from harness.stack import stack

# scripts/ is no package; its browser helpers are shared with scripts/screenshot_lineage.py.
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from headless_chromium import ChromiumMissingError, launch

# Small, but with every kind of dirt at the generator's default rates (and a second day).
DATASET_ARGS = ("--users", "150", "--days", "2", "--seed", "9")
VIEWPORT = {"width": 1400, "height": 900}


class _Quiet:
    def info(self, *_: object) -> None:
        pass


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright; the tier is skipped when it is not installed."""
    with sync_playwright() as playwright:
        try:
            chromium = launch(playwright)
        except ChromiumMissingError as err:
            pytest.skip(str(err))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A fresh browser context per test (no shared login); a screenshot is kept when a test fails."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        tab.screenshot(path=str(shot))
        print(f"screenshot of the failing page: {shot}")
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so the `page` fixture knows whether it failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def elt_run(stack_settings: HarnessSettings, tmp_path_factory: pytest.TempPathFactory) -> EltRun:
    """Generate a small dataset into an empty lake and run customer360_elt through Airflow once."""
    stack.reset(stack_settings)
    work = tmp_path_factory.mktemp("browser-elt")
    log = work / "airflow.log"
    with pytest.MonkeyPatch.context() as mp:
        # Only for this run: the steps write dbt's target and logs here, not into dbt/.
        mp.setenv("DBT_TARGET_PATH", str(work / "dbt-target"))
        mp.setenv("DBT_LOG_PATH", str(work / "dbt-logs"))
        argv = ["c360-datagen", "generate", *DATASET_ARGS]
        run_streaming("generate", argv, env=local_step_env({}), cwd=work, log=_Quiet())
        airflow_cli.migrate(stack_settings, log_file=log)
        code = airflow_cli.dags_test(stack_settings, DAG_ID, log_file=log)
    if code != 0:
        states = {task.task_id: task.state for task in task_states(stack_settings, DAG_ID)}
        pytest.fail(f"{DAG_ID} failed (exit {code}): {states}; see {log}")
    return EltRun(settings=stack_settings, dbt_target=work / "dbt-target", log=log)


@pytest.fixture(scope="session")
def airflow_ui(elt_run: EltRun) -> Iterator[AirflowUi]:
    """`make ui`'s services on the session stack (its own free port), stopped at the end."""
    settings = elt_run.settings
    try:
        services.start(settings)
        passwords = json.loads(AirflowPaths.of(settings).passwords_file.read_text())
        yield AirflowUi(base_url=api_base_url(settings), user=ADMIN_USER, password=passwords[ADMIN_USER])
    finally:
        services.stop(settings)
