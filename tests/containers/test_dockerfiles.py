"""Static checks of the Dockerfiles, in the default suite (no Docker engine needed).

They hold the images to issue 7's rules (pinned base via `ARG BASE_IMAGE`, multi-stage, numeric
non-root USER) and keep them in step with the parts that name image internals: the task pods'
user (customer360/tasks/pod_spec.py), the chart's paths and identities
(charts/customer360/values.yaml), the uv pin (Makefile) and the lock (a `--prune` of a package that
is not in uv.lock would silently ship that package).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from customer360.settings import PROJECT_ROOT
from customer360.tasks import pod_spec

IMAGES = ("pipeline", "dbt", "airflow")
IMAGES_DIR = PROJECT_ROOT / "images"
CHART_VALUES = PROJECT_ROOT / "charts" / "customer360" / "values.yaml"
# An exact patch release, e.g. python:3.11.13-slim-bookworm (optionally @sha256:...).
PINNED_PYTHON_BASE = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")


@dataclass
class Stage:
    """One FROM ... stage: its base, name and instructions (keyword, argument text)."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [arg for kw, arg in self.instructions if kw == keyword]


@dataclass
class Dockerfile:
    """Global ARGs (before the first FROM) and the stages, from a Dockerfile's logical lines."""

    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def env(self) -> dict[str, str]:
        """Final stage's ENV as a dict (``KEY=VALUE`` pairs, several per instruction)."""
        pairs: dict[str, str] = {}
        for arg in self.final.args("ENV"):
            pairs.update(item.split("=", 1) for item in arg.split())
        return pairs

    def arg_default(self, name: str) -> str:
        for stage in self.stages:
            for arg in stage.args("ARG"):
                key, _, value = arg.partition("=")
                if key == name:
                    return value.strip('"')
        raise KeyError(name)


def parse(path: Path) -> Dockerfile:
    """Minimal parser: joins backslash continuations, drops comments, splits by FROM."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), " ".join(rest.split())
        if keyword == "FROM":
            parts = rest.split()
            stages.append(Stage(base=parts[0], name=parts[2] if len(parts) == 3 else None))
        elif not stages:
            assert keyword == "ARG", f"{path}: only ARG may precede the first FROM, found {keyword}"
            key, _, value = rest.partition("=")
            global_args[key] = value
        else:
            stages[-1].instructions.append((keyword, rest))
    return Dockerfile(global_args=global_args, stages=stages)


@pytest.fixture(scope="module")
def dockerfiles() -> dict[str, Dockerfile]:
    return {name: parse(IMAGES_DIR / name / "Dockerfile") for name in IMAGES}


@pytest.fixture(scope="module")
def chart_values() -> dict:
    return yaml.safe_load(CHART_VALUES.read_text())


@pytest.mark.parametrize("name", IMAGES)
def test_base_is_a_pinned_build_argument(dockerfiles: dict[str, Dockerfile], name: str) -> None:
    """Every stage builds FROM ${BASE_IMAGE}, so a locally made base replaces the public one whole."""
    dockerfile = dockerfiles[name]
    assert PINNED_PYTHON_BASE.match(dockerfile.global_args["BASE_IMAGE"])
    assert [stage.base for stage in dockerfile.stages] == ["${BASE_IMAGE}"] * len(dockerfile.stages)


@pytest.mark.parametrize("name", IMAGES)
def test_final_stage_is_small_and_non_root(dockerfiles: dict[str, Dockerfile], name: str) -> None:
    """Multi-stage: the final stage copies the built venv and runs no installer, as a numeric user."""
    dockerfile = dockerfiles[name]
    assert len(dockerfile.stages) >= 2 and dockerfile.stages[0].name == "builder"
    final = dockerfile.final
    assert any(arg.startswith("--from=builder /opt/venv ") for arg in final.args("COPY"))
    installers = [run for run in final.args("RUN") if re.search(r"\b(pip|uv|apt-get)\b", run)]
    assert installers == []
    (user,) = final.args("USER")
    uid, gid = user.split(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) != 0


def test_task_images_run_as_the_task_pods_user(dockerfiles: dict[str, Dockerfile]) -> None:
    task_user = f"{pod_spec.RUN_AS_USER}:{pod_spec.RUN_AS_GROUP}"
    assert dockerfiles["pipeline"].final.args("USER") == [task_user]
    assert dockerfiles["dbt"].final.args("USER") == [task_user]


def test_airflow_image_matches_the_chart(dockerfiles: dict[str, Dockerfile], chart_values: dict) -> None:
    """The chart's Airflow identity and dags folder are where the image puts them."""
    airflow = dockerfiles["airflow"]
    identity = chart_values["airflow"]["identity"]
    assert airflow.final.args("USER") == [f"{identity['runAsUser']}:{identity['runAsGroup']}"]
    copies = [arg.split() for arg in airflow.final.args("COPY") if not arg.startswith("--from")]
    # Owned by Airflow's user, so Tilt's live update (which writes as that user) can sync DAG edits.
    owner = f"--chown={identity['runAsUser']}:{identity['runAsGroup']}"
    assert [owner, "dags", chart_values["airflow"]["dagsFolder"]] in copies
    assert airflow.env()["C360_TASK_RUNTIME"] == "kubernetes"


def test_dbt_image_matches_the_task_configmap(dockerfiles: dict[str, Dockerfile], chart_values: dict) -> None:
    """DBT_* of the image = the chart's task ConfigMap defaults; writable paths are on the pod's /tmp."""
    dbt = dockerfiles["dbt"]
    env = dbt.env()
    tasks = chart_values["tasks"]
    assert env["DBT_PROJECT_DIR"] == tasks["dbtProjectDir"]
    assert env["DBT_PROFILES_DIR"] == tasks["dbtProfilesDir"]
    assert env["DBT_TARGET"] == tasks["dbtTarget"]
    tmp = pod_spec.TMP_MOUNT_PATH + "/"
    assert env["DBT_TARGET_PATH"].startswith(tmp) and env["DBT_LOG_PATH"].startswith(tmp)
    # The baked parse is read from the image, wherever DBT_TARGET_PATH points.
    assert env["DBT_PARTIAL_PARSE_FILE_PATH"] == f"{env['DBT_PROJECT_DIR']}/target/partial_parse.msgpack"
    assert ["dbt", env["DBT_PROJECT_DIR"]] in [arg.split() for arg in dbt.stages[0].args("COPY")]


def test_dbt_parse_uses_the_charts_connection_defaults(
    dockerfiles: dict[str, Dockerfile], chart_values: dict
) -> None:
    """dbt reuses the baked parse only if these match the pods' connection settings."""
    dbt = dockerfiles["dbt"]
    warehouse = chart_values["warehouse"]
    # The host the task ConfigMap names for release `customer360` in namespace `customer360`
    # (tests/charts/test_chart_components.py asserts the ConfigMap's side of it).
    assert dbt.arg_default("PARSE_PG_HOST") == "customer360-warehouse.customer360.svc"
    assert dbt.arg_default("PARSE_PG_PORT") == str(warehouse["port"])
    assert dbt.arg_default("PARSE_PG_USER") == warehouse["roles"]["dbt"]
    assert dbt.arg_default("PARSE_PG_DATABASE") == warehouse["database"]


@pytest.mark.parametrize("name", IMAGES)
def test_installs_exactly_the_lock(dockerfiles: dict[str, Dockerfile], name: str) -> None:
    """uv pinned as in the Makefile; every pruned package exists in uv.lock (a typo would ship it)."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    (uv_pin,) = re.findall(r"^UV_VERSION\s*:=\s*(\S+)", makefile, flags=re.MULTILINE)
    dockerfile = dockerfiles[name]
    assert dockerfile.arg_default("UV_VERSION") == uv_pin
    locked = {package["name"] for package in tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())["package"]}
    (install,) = [run for run in dockerfile.stages[0].args("RUN") if "install-from-lock" in run]
    pruned = re.findall(r"--prune (\S+)", install)
    assert pruned and set(pruned) <= locked


@pytest.mark.parametrize("name", IMAGES)
def test_build_context_holds_what_is_copied(dockerfiles: dict[str, Dockerfile], name: str) -> None:
    """Every COPY source exists in the repo and is not excluded by .dockerignore."""
    ignored = {
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for stage in dockerfiles[name].stages:
        for copy in stage.args("COPY"):
            if copy.startswith("--from"):
                continue
            *sources, _destination = (part for part in copy.split() if not part.startswith("--"))
            for source in sources:
                assert (PROJECT_ROOT / source).exists(), f"{name}: COPY {source} does not exist"
                assert not any(source == pattern or source.startswith(pattern + "/") for pattern in ignored)


def test_dockerignore_keeps_local_state_out() -> None:
    """Local venvs, tools, git and above all .state (generated credentials) never reach a build."""
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".tools", ".state", "dbt/target", "dbt/logs"} <= ignored
