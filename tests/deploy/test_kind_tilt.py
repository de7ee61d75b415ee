"""kind-config.yaml and the Tiltfile: right shape, and wired to the chart as it renders today."""

from __future__ import annotations

import re

import pytest
import yaml

from customer360.settings import PROJECT_ROOT
from harness.tilt import StarlarkSubsetError, check_starlark_subset, evaluate_tiltfile

KIND_CONFIG = yaml.safe_load((PROJECT_ROOT / "kind-config.yaml").read_text())
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


class TestKindConfig:
    def test_is_a_named_v1alpha4_cluster(self):
        assert KIND_CONFIG["kind"] == "Cluster"
        assert KIND_CONFIG["apiVersion"] == "kind.x-k8s.io/v1alpha4"
        assert KIND_CONFIG["name"] == "customer360"

    def test_api_server_and_port_mappings_stay_on_loopback(self):
        assert KIND_CONFIG["networking"]["apiServerAddress"] == "127.0.0.1"
        mappings = KIND_CONFIG["nodes"][0]["extraPortMappings"]
        assert {m["listenAddress"] for m in mappings} == {"127.0.0.1"}

    def test_node_image_is_pinned_by_digest(self):
        image = KIND_CONFIG["nodes"][0]["image"]
        assert re.fullmatch(r"kindest/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}", image)


class TestStarlarkCheck:
    """The checker itself refuses what Tilt would refuse (so a pass means something)."""

    @pytest.mark.parametrize(
        "snippet",
        [
            "import os",
            "x = f'{1}'",
            "class A:\n    pass",
            "while True:\n    pass",
            "x = 1 < 2 < 3",
            "x = a is None",
        ],
    )
    def test_refuses_python_only_constructs(self, snippet):
        with pytest.raises(StarlarkSubsetError):
            check_starlark_subset(snippet)


@pytest.fixture(scope="module")
def tilt():
    return evaluate_tiltfile(env={"C360_BASE_IMAGE": "customer360/base:bookworm-python3.11"})


class TestTiltfile:
    def test_only_the_kind_cluster_of_kind_config_is_allowed(self, tilt):
        assert tilt.allowed_contexts == [f"kind-{KIND_CONFIG['name']}"]

    def test_builds_every_image_of_ours_the_chart_runs_with_the_base_image_argument(self, tilt):
        """Each customer360/* image a pod or a task names is built, from a Dockerfile that exists."""
        named = {
            value.split(":")[0]
            for obj in tilt.k8s_objects
            if obj["kind"] in WORKLOAD_KINDS
            for container in obj["spec"]["template"]["spec"]["containers"]
            for value in [container["image"], *(e.get("value", "") for e in container.get("env", []))]
            if value.startswith("customer360/")
        }
        assert named and named == set(tilt.docker_builds)
        for build in tilt.docker_builds.values():
            assert (PROJECT_ROOT / build["context"] / build["dockerfile"]).is_file()
            assert build["build_args"] == {"BASE_IMAGE": "customer360/base:bookworm-python3.11"}

    def test_no_base_image_argument_unless_one_is_given(self):
        builds = evaluate_tiltfile(env={}).docker_builds
        assert all(build["build_args"] == {} for build in builds.values())

    def test_task_images_are_injected_where_airflow_names_them(self, tilt):
        env_values = {
            entry.get("value", "")
            for obj in tilt.k8s_objects
            if obj["kind"] in WORKLOAD_KINDS
            for container in obj["spec"]["template"]["spec"]["containers"]
            for entry in container.get("env", [])
        }
        for ref in ("customer360/pipeline", "customer360/dbt"):
            assert tilt.docker_builds[ref]["match_in_env_vars"] is True
            assert any(value.startswith(ref + ":") for value in env_values), ref

    def test_dag_files_are_live_updated_into_the_chart_dags_folder(self, tilt):
        steps = tilt.docker_builds["customer360/airflow"]["live_update"]
        assert ("sync", "dags/", "/opt/airflow/dags/") in steps
        chart_values = yaml.safe_load((PROJECT_ROOT / "charts/customer360/values.yaml").read_text())
        assert chart_values["airflow"]["dagsFolder"] == "/opt/airflow/dags"
        assert steps[0][0] == "fall_back_on"  # fall_back_on must precede sync in Tilt

    def test_renders_the_chart_with_kind_values_and_cluster_lookups(self, tilt):
        helm = next(c["command"] for c in tilt.local_commands if isinstance(c["command"], list))
        assert "charts/customer360/values-kind.yaml" in helm
        assert "--dry-run=server" in helm
        assert "charts/customer360" in tilt.watched

    def test_secrets_kept_on_uninstall_are_applied_outside_tilt(self, tilt):
        managed = {(o["kind"], o["metadata"]["name"]) for o in tilt.k8s_objects}
        assert ("Secret", "customer360-warehouse") not in managed
        assert ("Secret", "customer360-lake") not in managed
        assert ("Secret", "customer360-airflow") not in managed
        applied = [o for c in tilt.local_commands if c.get("stdin") for o in yaml.safe_load_all(c["stdin"])]
        secrets = {o["metadata"]["name"] for o in applied if o["kind"] == "Secret"}
        assert secrets == {"customer360-warehouse", "customer360-lake", "customer360-airflow"}
        assert ("Secret", "customer360-task-credentials") in managed

    def test_the_release_namespace_enforces_restricted_pod_security(self, tilt):
        applied = [o for c in tilt.local_commands if c.get("stdin") for o in yaml.safe_load_all(c["stdin"])]
        (namespace,) = [o for o in applied if o["kind"] == "Namespace"]
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"

    def test_every_workload_is_a_labelled_resource(self, tilt):
        workloads = {o["metadata"]["name"] for o in tilt.k8s_objects if o["kind"] in WORKLOAD_KINDS}
        covered = {r["workload"] for r in tilt.k8s_resources if r["workload"]}
        assert covered == workloads
        assert all(r["labels"] for r in tilt.k8s_resources)
        assert all(r["labels"] for r in tilt.local_resources.values())

    def test_every_ui_port_forward_reaches_a_port_its_workload_serves(self, tilt):
        """A forward to a port no container listens on would open a dead local port."""
        workloads = {o["metadata"]["name"]: o for o in tilt.k8s_objects if o["kind"] in WORKLOAD_KINDS}
        forwarded = 0
        for resource in tilt.k8s_resources:
            for forward in resource.get("port_forwards", []):
                pod = workloads[resource["workload"]]["spec"]["template"]["spec"]
                served = {p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])}
                assert forward["container"] in served, (resource["new_name"], forward)
                forwarded += 1
        # The three UIs: Airflow, the MinIO console, the dbt docs.
        assert forwarded == 3
        local_ports = [f["local"] for r in tilt.k8s_resources for f in r.get("port_forwards", [])]
        assert len(set(local_ports)) == len(local_ports)

    def test_manual_buttons_trigger_dags_that_exist_and_run_only_when_pressed(self, tilt):
        dag_ids = set(
            re.findall(
                r'dag_id="([^"]+)"', " ".join(p.read_text() for p in (PROJECT_ROOT / "dags").glob("*.py"))
            )
        )
        triggered = set()
        for resource in tilt.local_resources.values():
            assert resource["trigger_mode"] == "manual" and resource["auto_init"] is False
            triggered |= set(re.findall(r"airflow dags trigger (\S+)", resource["cmd"]))
        assert triggered == dag_ids
