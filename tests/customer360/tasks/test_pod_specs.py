"""Pod specs of every task in the Kubernetes runtime, built without a cluster and schema-validated."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import kubernetes_validate
import pytest
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import ApiClient

from customer360.settings import PROJECT_ROOT
from customer360.tasks.pod_operator import KubernetesStepOperator
from customer360.tasks.steps import DBT_STEPS, generate_day_step, ingest_steps

K8S_VERSION = "1.33"
PIPELINE_IMAGE = "registry.example/customer360/pipeline:9.9.9"
DBT_IMAGE = "registry.example/customer360/dbt:9.9.9"
ALL_STEPS = [*ingest_steps(), *DBT_STEPS, generate_day_step("--day", "3")]


@pytest.fixture(autouse=True)
def cluster_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings as the chart gives them to Airflow; no credentials anywhere (pods get a Secret)."""
    for key in list(os.environ):
        if key.startswith("C360_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("C360_STATE_DIR", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("C360_TASK_RUNTIME", "kubernetes")
    monkeypatch.setenv("C360_PIPELINE_IMAGE", PIPELINE_IMAGE)
    monkeypatch.setenv("C360_DBT_IMAGE", DBT_IMAGE)
    monkeypatch.setenv("C360_K8S_NAMESPACE", "c360-test")
    monkeypatch.setenv("C360_TASK_SECRET_NAME", "c360-task-secret")
    monkeypatch.setenv("C360_TASK_CONFIGMAP_NAME", "c360-task-config")
    monkeypatch.setenv("C360_DBT_TASK_SECRET_NAME", "c360-task-secret-dbt")
    monkeypatch.setenv("C360_TASK_SERVICE_ACCOUNT_NAME", "c360-tasks")


def pod_of(op: KubernetesPodOperator) -> dict[str, Any]:
    """The pod the operator would create, as the API-server JSON (camelCase)."""
    context = {
        "ti": SimpleNamespace(dag_id="customer360_elt", task_id=op.task_id, map_index=-1, try_number=1),
        "run_id": "manual__2026-11-26T00:00:00+00:00",
        "dag": SimpleNamespace(dag_id="customer360_elt"),
    }
    hook = mock.MagicMock(is_in_cluster=True)
    with mock.patch.object(KubernetesPodOperator, "hook", new_callable=mock.PropertyMock, return_value=hook):
        pod = op.build_pod_request_obj(context)
    return ApiClient().sanitize_for_serialization(pod)


@pytest.fixture(params=ALL_STEPS, ids=lambda step: step.name)
def step_and_pod(request: pytest.FixtureRequest) -> tuple[Any, dict[str, Any]]:
    step = request.param
    return step, pod_of(KubernetesStepOperator(step=step))


def test_pod_is_valid_against_the_kubernetes_schema(step_and_pod: tuple[Any, dict[str, Any]]) -> None:
    _, pod = step_and_pod
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)


def test_pod_runs_the_steps_argv_in_its_pinned_image(step_and_pod: tuple[Any, dict[str, Any]]) -> None:
    step, pod = step_and_pod
    (container,) = pod["spec"]["containers"]
    assert container["image"] == (DBT_IMAGE if step.image.value == "dbt" else PIPELINE_IMAGE)
    assert container["command"] + container["args"] == list(step.argv)
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert pod["metadata"]["namespace"] == "c360-test"
    assert pod["spec"]["restartPolicy"] == "Never"


def test_credentials_come_from_the_secret_never_the_spec(step_and_pod: tuple[Any, dict[str, Any]]) -> None:
    step, pod = step_and_pod
    (container,) = pod["spec"]["containers"]
    # dbt logs in as the dbt warehouse role, loaders and the generator as the loader role
    secret = "c360-task-secret-dbt" if step.image.value == "dbt" else "c360-task-secret"
    assert container["envFrom"] == [
        {"configMapRef": {"name": "c360-task-config"}},
        {"secretRef": {"name": secret}},
    ]
    assert pod["spec"]["serviceAccountName"] == "c360-tasks"
    names = {env["name"] for env in container.get("env", [])}
    assert not any("PASSWORD" in name or "SECRET" in name or "ACCESS_KEY" in name for name in names)
    assert pod["spec"]["automountServiceAccountToken"] is False


def test_resources_have_requests_and_limits(step_and_pod: tuple[Any, dict[str, Any]]) -> None:
    step, pod = step_and_pod
    (container,) = pod["spec"]["containers"]
    assert container["resources"] == {
        "requests": step.resources.requests(),
        "limits": step.resources.limits(),
    }


def test_security_context_is_restricted(step_and_pod: tuple[Any, dict[str, Any]]) -> None:
    _, pod = step_and_pod
    (container,) = pod["spec"]["containers"]
    pod_ctx, ctx = pod["spec"]["securityContext"], container["securityContext"]
    assert pod_ctx["runAsNonRoot"] is True and pod_ctx["runAsUser"] > 0
    assert pod_ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["privileged"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    # A read-only root needs a writable /tmp, and every writer pointed at it.
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert any(v["name"] == "tmp" and "emptyDir" in v for v in pod["spec"]["volumes"])
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["HOME"] == "/tmp"


def test_dbt_pods_write_artifacts_under_tmp(step_and_pod: tuple[Any, dict[str, Any]]) -> None:
    step, pod = step_and_pod
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    if step.image.value == "dbt":
        assert env["DBT_TARGET_PATH"].startswith("/tmp/")
        assert env["DBT_LOG_PATH"].startswith("/tmp/")
    else:
        assert "DBT_TARGET_PATH" not in env


def test_labels_let_kubectl_find_a_steps_pods(step_and_pod: tuple[Any, dict[str, Any]]) -> None:
    step, pod = step_and_pod
    labels = pod["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "customer360"
    assert labels["customer360/step"] == step.name.replace("_", "-")
    assert pod["metadata"]["name"].startswith(step.name.replace("_", "-"))


def test_operator_lifecycle_settings() -> None:
    op = KubernetesStepOperator(step=DBT_STEPS[0])
    assert op.on_finish_action.value == "keep_pod"
    assert op.get_logs is True
    assert op.startup_timeout_seconds >= 120


def test_pod_spec_never_reads_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a pod at DAG-parse time must work where no credentials exist (scheduler, dag-processor)."""
    from customer360.settings import Settings

    def refuse(*_: object) -> None:
        raise AssertionError("credentials read while building a pod spec")

    monkeypatch.setattr(Settings, "_secret", refuse)
    pod_of(KubernetesStepOperator(step=ingest_steps()[0]))


def test_project_root_is_not_baked_into_pods(step_and_pod: tuple[Any, dict[str, Any]]) -> None:
    """Paths of this checkout mean nothing inside an image; the ConfigMap supplies DBT_* paths."""
    _, pod = step_and_pod
    values = [v for c in pod["spec"]["containers"] for v in [*c.get("command", []), *c.get("args", [])]]
    values += [e.get("value", "") for c in pod["spec"]["containers"] for e in c.get("env", [])]
    values += [m["mountPath"] for c in pod["spec"]["containers"] for m in c.get("volumeMounts", [])]
    assert values and not [v for v in values if str(PROJECT_ROOT) in str(v)]


def test_dbt_pods_fall_back_to_the_task_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("C360_DBT_TASK_SECRET_NAME")
    monkeypatch.delenv("C360_TASK_SERVICE_ACCOUNT_NAME")
    pod = pod_of(KubernetesStepOperator(step=DBT_STEPS[0]))
    assert pod["spec"]["containers"][0]["envFrom"][1] == {"secretRef": {"name": "c360-task-secret"}}
    assert "serviceAccountName" not in pod["spec"]


def test_docs_step_writes_the_site_to_the_docs_volume(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_DOCS_PVC_NAME", "c360-dbt-docs")
    monkeypatch.setenv("C360_DOCS_MOUNT_PATH", "/dbt-docs")
    pods = {step.name: pod_of(KubernetesStepOperator(step=step)) for step in DBT_STEPS}
    docs = pods.pop("dbt_docs_generate")
    kubernetes_validate.validate(docs, K8S_VERSION, strict=True)
    (container,) = docs["spec"]["containers"]
    assert {"name": "dbt-docs", "persistentVolumeClaim": {"claimName": "c360-dbt-docs"}} in docs["spec"][
        "volumes"
    ]
    assert {"name": "dbt-docs", "mountPath": "/dbt-docs"} in container["volumeMounts"]
    assert {"name": "DBT_TARGET_PATH", "value": "/dbt-docs"} in container["env"]
    for other in pods.values():  # only the docs step mounts the shared volume
        assert all(v["name"] != "dbt-docs" for v in other["spec"]["volumes"])
