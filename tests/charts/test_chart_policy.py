"""Policies every rendering of the chart must meet, whatever the values variant.

Each variant is a documented way to install (README / docs/kubernetes.md): defaults, kind, an
external S3 with existing Secrets, the docs server on. Every check runs on every variant.
"""

from __future__ import annotations

import base64
import re

import pytest
import yaml
from chart_render import CHART_DIR, KIND_VALUES, containers, pod_spec, render_chart, run_helm

EXISTING_SECRETS = {
    "warehouse": {"auth": {"existingSecret": "pg-credentials"}},
    "airflow": {
        "auth": {"existingSecret": "airflow-keys"},
        "connections": {"existingSecret": "airflow-conns"},
    },
    "tasks": {"existingSecret": "task-credentials", "existingDbtSecret": "task-credentials-dbt"},
}
EXTERNAL_S3 = {
    **EXISTING_SECRETS,
    "lake": {
        "provider": "external",
        "endpoint": "https://s3.example.com",
        "auth": {"existingSecret": "s3-keys"},
    },
}
VARIANTS = {
    "defaults": ({}, ()),
    "kind": ({}, (KIND_VALUES,)),
    "existing-secrets": (EXISTING_SECRETS, ()),
    "external-s3": (EXTERNAL_S3, ()),
    "docs-on": ({"docs": {"enabled": True}}, ()),
    "no-network-policy": ({"networkPolicy": {"enabled": False}}, ()),
}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
LONG_RUNNING = {"Deployment", "StatefulSet"}
PINNED_IMAGE = re.compile(r"^[a-z0-9./-]+:(?!latest$)[\w.-]+(@sha256:[0-9a-f]{64})?$")
SECRETISH_ENV = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|_KEY$|CONN")


@pytest.fixture(params=sorted(VARIANTS))
def objects(request) -> list[dict]:
    values, files = VARIANTS[request.param]
    return render_chart(values, values_files=files)


def workloads(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


class TestPolicies:
    def test_every_pod_runs_as_non_root_with_a_restricted_context(self, objects):
        for workload in workloads(objects):
            spec = pod_spec(workload)
            assert spec["securityContext"]["runAsNonRoot"] is True, workload["metadata"]["name"]
            assert spec["securityContext"]["runAsUser"] > 0
            assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
            for container in containers(workload):
                context = container["securityContext"]
                where = f"{workload['metadata']['name']}/{container['name']}"
                assert context["runAsNonRoot"] is True, where
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["capabilities"]["drop"] == ["ALL"], where

    def test_read_only_root_filesystem_by_default(self):
        for workload in workloads(render_chart({"docs": {"enabled": True}})):
            for container in containers(workload):
                assert container["securityContext"]["readOnlyRootFilesystem"] is True, container["name"]

    def test_every_container_has_requests_and_limits(self, objects):
        for workload in workloads(objects):
            for container in containers(workload):
                resources = container["resources"]
                assert set(resources["requests"]) == {"cpu", "memory"}, container["name"]
                assert set(resources["limits"]) == {"cpu", "memory"}, container["name"]

    def test_long_running_containers_have_liveness_and_readiness_probes(self, objects):
        for workload in [o for o in objects if o["kind"] in LONG_RUNNING]:
            for container in pod_spec(workload)["containers"]:
                assert "livenessProbe" in container, container["name"]
                assert "readinessProbe" in container, container["name"]

    def test_every_image_is_pinned(self, objects):
        for workload in workloads(objects):
            for container in containers(workload):
                assert PINNED_IMAGE.match(container["image"]), container["image"]

    def test_no_credential_is_a_literal_in_a_pod_spec_or_configmap(self, objects):
        for workload in workloads(objects):
            for container in containers(workload):
                for entry in container.get("env", []):
                    # C360_*_SECRET_NAME etc. name a Secret; they are not one.
                    if SECRETISH_ENV.search(entry["name"]) and not entry["name"].endswith("_NAME"):
                        assert "valueFrom" in entry, f"{container['name']}: {entry['name']} is a literal"
        for config in [o for o in objects if o["kind"] == "ConfigMap"]:
            for key in config["data"]:
                assert not SECRETISH_ENV.search(key), f"{config['metadata']['name']} holds {key}"

    def test_only_pods_that_launch_tasks_mount_an_api_token(self, objects):
        for workload in workloads(objects):
            spec = pod_spec(workload)
            if spec.get("automountServiceAccountToken") is not False:
                assert workload["metadata"]["name"] in {
                    "customer360-airflow-scheduler",
                    "customer360-airflow-triggerer",
                }

    def test_rbac_is_confined_to_the_namespace_and_to_pods(self, objects):
        kinds = {o["kind"] for o in objects}
        assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
        roles = [o for o in objects if o["kind"] == "Role"]
        assert len(roles) == 1
        rules = {resource: set(rule["verbs"]) for rule in roles[0]["rules"] for resource in rule["resources"]}
        assert rules == {
            "pods": {"create", "get", "list", "watch", "patch", "delete"},
            "pods/log": {"get", "list"},
            "events": {"get", "list", "watch"},
        }
        assert all(rule["apiGroups"] == [""] for rule in roles[0]["rules"])
        binding = next(o for o in objects if o["kind"] == "RoleBinding")
        assert binding["metadata"]["namespace"] == binding["subjects"][0]["namespace"] == "customer360"

    def test_every_object_lands_in_the_release_namespace(self, objects):
        for obj in objects:
            assert obj["metadata"]["namespace"] == "customer360", obj["metadata"]["name"]

    def test_every_object_is_labelled_part_of_customer360(self, objects):
        for obj in objects:
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "customer360"


class TestNetworkPolicies:
    def test_warehouse_and_lake_admit_only_airflow_and_task_pods(self):
        objects = render_chart()
        policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NetworkPolicy"}
        assert set(policies) == {"customer360-warehouse", "customer360-lake"}
        warehouse = policies["customer360-warehouse"]["spec"]
        peers = warehouse["ingress"][0]["from"]
        assert peers[0]["podSelector"]["matchLabels"]["customer360/client"] == "airflow"
        assert peers[1]["podSelector"]["matchExpressions"] == [
            {"key": "customer360/step", "operator": "Exists"}
        ]
        assert len(peers) == 2
        # The selected pods carry those labels: Airflow's pods and (by the task factory) the task pods.
        scheduler = next(o for o in objects if o["metadata"]["name"] == "customer360-airflow-scheduler")
        assert scheduler["spec"]["template"]["metadata"]["labels"]["customer360/client"] == "airflow"
        lake_rules = policies["customer360-lake"]["spec"]["ingress"]
        assert lake_rules[0]["ports"] == [{"protocol": "TCP", "port": 9000}]
        assert lake_rules[1] == {"ports": [{"protocol": "TCP", "port": 9001}]}

    def test_can_be_turned_off(self):
        assert render_chart(
            {"networkPolicy": {"enabled": False}}, show_only=["templates/warehouse/", "templates/lake/"]
        )
        kinds = {o["kind"] for o in render_chart({"networkPolicy": {"enabled": False}})}
        assert "NetworkPolicy" not in kinds


class TestSecrets:
    def test_values_yaml_holds_no_credential(self):
        values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())

        def walk(node, path=""):
            if isinstance(node, dict):
                for key, value in node.items():
                    yield from walk(value, f"{path}.{key}")
            else:
                yield path, node

        for path, value in walk(values):
            if re.search(r"password|secretKey|token|accessKey", path, re.IGNORECASE):
                assert not value, f"{path} holds a literal"

    def test_generated_credentials_differ_per_install(self):
        # Without a cluster (no lookup) every render generates anew: nothing comes from a template literal.
        first = render_chart(show_only="templates/warehouse/warehouse-secret.yaml")[0]["data"]
        second = _fresh_render()
        assert first["loader-password"] != second["loader-password"]

    def test_existing_secrets_render_no_secret_at_all(self):
        kinds = [o["kind"] for o in render_chart(EXTERNAL_S3)]
        assert "Secret" not in kinds


def _fresh_render() -> dict[str, str]:
    """Warehouse Secret data from a new helm process (render_chart caches per values)."""
    output = run_helm(
        "template",
        "customer360",
        str(CHART_DIR),
        "--namespace",
        "customer360",
        "--show-only",
        "templates/warehouse/warehouse-secret.yaml",
    ).stdout
    data = yaml.safe_load(output)["data"]
    assert all(base64.b64decode(v) for v in data.values())
    return data
