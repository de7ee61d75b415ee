"""Airflow's configuration, written in three places, agrees where it must and differs only on purpose.

The chart's airflow.cfg (ConfigMap), the laptop's Airflow (``AIRFLOW__*`` variables of
``harness.embedded_airflow.env``) and the Airflow image's ``ENV`` each set some of Airflow's options.
What wins: in a pod, the chart's file (``AIRFLOW_CONFIG``) over the image's defaults, and any
``AIRFLOW__*`` variable over both; on the laptop, the variables alone. Every option set in two of
them must have the same value, except the ones listed here, each for a reason docs/architecture.md
gives ("Airflow's configuration").
"""

from __future__ import annotations

import configparser
import re

import pytest
from chart_render import find, render_chart

from customer360.settings import PROJECT_ROOT
from harness.embedded_airflow.env import airflow_env
from harness.settings import HarnessSettings
from harness.stack.isolated import foreign_env_keys

# (section, option): why the runtimes differ.
DIFFERENCES = {
    ("core", "dags_folder"): "a path inside the image vs the checkout's dags/",
    ("core", "parallelism"): "the chart's airflow.parallelism vs 4 task processes on a 2-core laptop",
    ("core", "execution_api_server_url"): "each runtime's own api-server (same /execution/ path)",
    ("core", "auth_manager"): "FAB's in the cluster, the simple (development) one on loopback",
    ("logging", "base_log_folder"): "the logs volume vs the state dir",
    ("scheduler", "enable_health_check"): "the kubelet probes it in a pod; nothing does on a laptop",
}


def _chart_options() -> dict[tuple[str, str], str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(find(render_chart(), "ConfigMap", "customer360-airflow-config")["data"]["airflow.cfg"])
    return {
        (section, option): value for section in parser.sections() for option, value in parser[section].items()
    }


def _variables(env: dict[str, str]) -> dict[tuple[str, str], str]:
    found = {}
    for name, value in env.items():
        match = re.fullmatch(r"AIRFLOW__([A-Z_]+?)__([A-Z_]+)", name)
        if match:
            found[(match.group(1).lower(), match.group(2).lower())] = value
    return found


@pytest.fixture(scope="module")
def laptop(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    # The laptop's defaults, not the ports a session stack started earlier put in os.environ.
    with pytest.MonkeyPatch.context() as patch:
        for key in foreign_env_keys():
            patch.delenv(key)
        settings = HarnessSettings(
            state_dir=tmp_path_factory.mktemp("state"),
            pg_password="x",
            s3_access_key_id="x",
            s3_secret_access_key="x",
        )
    settings.ensure_generated_secrets()  # the warehouse roles' passwords
    return _variables(airflow_env(settings, base={}))


def _image_env() -> dict[str, str]:
    dockerfile = (PROJECT_ROOT / "images" / "airflow" / "Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    return dict(re.findall(r"(AIRFLOW__[A-Z_]+)=(\S+)", final_stage))


def test_options_set_in_both_runtimes_agree_except_the_documented_differences(laptop) -> None:
    chart = _chart_options()
    shared = chart.keys() & laptop.keys()
    assert {("core", "executor"), ("core", "load_examples")} <= shared
    disagreeing = {key for key in shared if chart[key].lower() != laptop[key].lower()}
    assert disagreeing == set(DIFFERENCES) & shared
    assert chart[("core", "execution_api_server_url")].endswith("/execution/")
    assert laptop[("core", "execution_api_server_url")].endswith("/execution/")


def test_the_image_sets_nothing_the_chart_contradicts() -> None:
    chart = _chart_options()
    for key, value in _variables(_image_env()).items():
        assert chart.get(key, value).lower() == value.lower(), key


def test_every_difference_is_explained_in_the_architecture_page() -> None:
    page = (PROJECT_ROOT / "docs" / "architecture.md").read_text()
    for section, option in DIFFERENCES:
        assert f"`{section}.{option}`" in page, (section, option)
