"""Policies every rendering of the chart must meet, whatever the values variant.

Each variant is a documented way to install (README / docs/kubernetes.md): defaults, kind, an
external S3 with existing Secrets, the docs server on. Every check runs on every variant.
"""

from __future__ import annotations

import base64
import re

import pytest
import yaml
from chart_render import CHART_DIR, KIND_VALUES, HelmError, containers, pod_spec, render_chart, run_helm

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
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job", "CronJob"}
NAMESPACE, TASKS_NAMESPACE = "customer360", "customer360-tasks"
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

    def test_on_kind_only_the_live_updated_components_have_a_writable_root(self):
        writable = {
            f"{workload['metadata']['name']}/{container['name']}"
            for workload in workloads(render_chart(values_files=(KIND_VALUES,)))
            for container in containers(workload)
            if not container["securityContext"]["readOnlyRootFilesystem"]
        }
        # Tilt syncs DAG files into the two components that parse them, and only into their main container.
        assert writable == {
            "customer360-airflow-scheduler/scheduler",
            "customer360-airflow-dag-processor/dag-processor",
        }

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
            # The task images Airflow hands to its pods, too.
            for container in containers(workload):
                for entry in container.get("env", []):
                    if entry["name"] in {"C360_PIPELINE_IMAGE", "C360_DBT_IMAGE"}:
                        assert PINNED_IMAGE.match(entry["value"]), entry

    def test_public_images_are_pinned_by_digest_and_ours_by_the_tag_we_build(self):
        images = {
            container["image"]
            for workload in workloads(render_chart({"docs": {"enabled": True}}))
            for container in containers(workload)
        }
        ours = {image for image in images if image.startswith("customer360/")}
        assert ours == {"customer360/airflow:0.1.0", "customer360/dbt:0.1.0"}  # pipeline: the task pods'
        assert all(re.search(r"@sha256:[0-9a-f]{64}$", image) for image in images - ours), images - ours

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

    def test_only_pods_that_talk_to_the_kubernetes_api_mount_a_token(self, objects):
        for workload in workloads(objects):
            spec = pod_spec(workload)
            if spec.get("automountServiceAccountToken") is not False:
                assert workload["metadata"]["name"] in {
                    "customer360-airflow-scheduler",  # launches and watches the task pods
                    "customer360-task-pod-reaper",  # deletes finished ones
                }

    def test_rbac_is_namespaced_and_confined_to_pods_in_the_tasks_namespace(self, objects):
        kinds = {o["kind"] for o in objects}
        assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
        roles = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Role"}
        assert {r["metadata"]["namespace"] for r in roles.values()} == {TASKS_NAMESPACE}
        launcher = roles["customer360-pod-launcher"]
        rules = {resource: set(rule["verbs"]) for rule in launcher["rules"] for resource in rule["resources"]}
        assert rules == {
            "pods": {"create", "get", "list", "watch", "patch", "delete"},
            "pods/log": {"get", "list"},
            "events": {"get", "list", "watch"},
        }
        reaper = roles["customer360-task-pod-reaper"]
        assert reaper["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "delete"]}]
        assert all(rule["apiGroups"] == [""] for role in roles.values() for rule in role["rules"])
        binding = next(
            o
            for o in objects
            if o["kind"] == "RoleBinding" and o["roleRef"]["name"] == "customer360-pod-launcher"
        )
        assert binding["metadata"]["namespace"] == TASKS_NAMESPACE
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "customer360-airflow", "namespace": NAMESPACE}
        ]

    def test_the_tasks_namespace_holds_only_what_tasks_need(self, objects):
        in_tasks = {
            (o["kind"], o["metadata"]["name"])
            for o in objects
            if o["metadata"].get("namespace") == TASKS_NAMESPACE
        }
        secrets = {name for kind, name in in_tasks if kind == "Secret"}
        assert secrets <= {"customer360-task-credentials", "customer360-task-credentials-dbt"}
        platform_secrets = {
            o["metadata"]["name"]
            for o in objects
            if o["kind"] == "Secret" and o["metadata"]["namespace"] == NAMESPACE
        }
        assert not platform_secrets & secrets

    def test_objects_land_in_the_release_or_the_tasks_namespace(self, objects):
        for obj in objects:
            if obj["kind"] == "Namespace":
                assert obj["metadata"]["name"] == TASKS_NAMESPACE
                assert obj["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
                continue
            assert obj["metadata"]["namespace"] in {NAMESPACE, TASKS_NAMESPACE}, obj["metadata"]["name"]

    def test_every_object_is_labelled_part_of_customer360(self, objects):
        for obj in objects:
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "customer360"


class TestNetworkPolicies:
    """What the policies say; the cluster tier proves on a real enforcer that they hold."""

    def test_both_namespaces_deny_everything_but_dns_by_default(self):
        policies = [o for o in render_chart() if o["kind"] == "NetworkPolicy"]
        for namespace in (NAMESPACE, TASKS_NAMESPACE):
            deny = next(
                p
                for p in policies
                if p["metadata"]["namespace"] == namespace and p["metadata"]["name"].endswith("default-deny")
            )
            assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
            dns = next(
                p
                for p in policies
                if p["metadata"]["namespace"] == namespace and p["metadata"]["name"].endswith("allow-dns")
            )
            assert [port["port"] for port in dns["spec"]["egress"][0]["ports"]] == [53, 53]

    def test_warehouse_admits_airflow_and_the_task_pods_of_the_tasks_namespace_only(self):
        objects = render_chart()
        warehouse = find_policy(objects, "customer360-warehouse")["spec"]
        peers = warehouse["ingress"][0]["from"]
        assert peers[0]["podSelector"]["matchLabels"]["customer360/client"] == "airflow"
        assert peers[1]["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": TASKS_NAMESPACE
        }
        assert peers[1]["podSelector"]["matchExpressions"] == [
            {"key": "customer360/step", "operator": "Exists"}
        ]
        assert len(peers) == 2
        scheduler = next(o for o in objects if o["metadata"]["name"] == "customer360-airflow-scheduler")
        assert scheduler["spec"]["template"]["metadata"]["labels"]["customer360/client"] == "airflow"

    def test_the_lake_api_admits_the_task_pods_and_the_bucket_job_not_airflow(self):
        lake = find_policy(render_chart(), "customer360-lake")["spec"]["ingress"]
        assert lake[0]["ports"] == [{"protocol": "TCP", "port": 9000}]
        assert all("airflow" not in str(peer) for peer in lake[0]["from"])
        assert len(lake) == 1  # the console: no pod peer unless networkPolicy.extraUiClients

    def test_the_scheduler_may_reach_the_api_server_and_task_pods_may_not(self):
        objects = render_chart({"networkPolicy": {"apiServer": {"cidrs": ["10.200.0.2/32"]}}})
        scheduler = find_policy(objects, "customer360-airflow-scheduler-api")["spec"]["egress"][0]
        assert scheduler["to"] == [{"ipBlock": {"cidr": "10.200.0.2/32"}}]
        tasks = find_policy(objects, "customer360-task-egress")["spec"]["egress"]
        assert {port["port"] for rule in tasks for port in rule["ports"]} == {5432, 9000}

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

    def test_without_a_cluster_to_read_the_chart_refuses_to_invent_credentials(self):
        with pytest.raises(HelmError, match="cannot read the cluster to keep the generated credential"):
            render_chart({"allowEphemeralCredentials": False})

    def test_named_existing_secrets_need_no_cluster_view(self):
        assert render_chart({**EXTERNAL_S3, "allowEphemeralCredentials": False})

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
        "--set",
        "allowEphemeralCredentials=true",
    ).stdout
    data = yaml.safe_load(output)["data"]
    assert all(base64.b64decode(v) for v in data.values())
    return data


def find_policy(objects: list[dict], name: str) -> dict:
    return next(o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == name)
