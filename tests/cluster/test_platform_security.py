"""The chart's security promises on the real cluster: each attack tried and refused, next to the
legitimate path working (docs/kubernetes.md, threat model).

1. default deny: an unlabelled pod reaches neither the warehouse, the lake, Airflow's ports nor the
   Kubernetes API, in either namespace; DNS still answers; the labelled clients get through;
2. the scheduler's token may launch pods in the tasks namespace only, reads no Secret, and a pod it
   creates cannot mount the PostgreSQL superuser's Secret;
3. each pod holds only its own credentials (env and mounted Secrets of every pod, listed);
4. the UI logs in with FAB (the Secret's password), and refuses a wrong one;
5. both namespaces enforce Pod Security `restricted`: every pod there, task pods included, meets it,
   and a root pod is refused;
6. a render that can see the cluster keeps every generated credential as it is in the cluster;
7. every running image is pinned.

Runs after the end-to-end module (file order), on the same installation.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from cluster_kube import pod
from platform_access import NAMESPACE, RELEASE, TASKS_NAMESPACE, Installation, kubectl, pods

from harness.cluster import deploy, lifecycle, node_images
from harness.cluster.settings import API_SERVICE_IP

pytestmark = pytest.mark.cluster

WAREHOUSE = f"{RELEASE}-warehouse.{NAMESPACE}.svc"
LAKE = f"{RELEASE}-lake.{NAMESPACE}.svc"
API_SERVER = f"{RELEASE}-airflow-api-server.{NAMESPACE}.svc"
TASK_LABELS = {"app.kubernetes.io/part-of": "customer360", "customer360/step": "security-probe"}
PINNED = re.compile(r"^[a-z0-9./-]+:(?!latest$)[\w.-]+(@sha256:[0-9a-f]{64})?$")


class Probe:
    """A busybox pod (restricted, non-root) that tries TCP connections from where it runs."""

    def __init__(self, installed: Installation, namespace: str, name: str, labels: dict[str, str]) -> None:
        self.installed, self.namespace, self.name = installed, namespace, name
        manifest = pod(name, node_images.busybox_image(), ["sleep", "3600"], labels=labels)
        lifecycle.kubectl(
            installed.settings, "-n", namespace, "apply", "-f", "-", input=yaml.safe_dump(manifest)
        )
        installed.kubectl(
            "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s", namespace=namespace
        )

    def connects(self, host: str, port: int) -> bool:
        result = lifecycle.kubectl(
            self.installed.settings,
            "-n",
            self.namespace,
            "exec",
            self.name,
            "--",
            "sh",
            "-c",
            f"timeout 5 nc {host} {port} </dev/null",
            check=False,
        )
        return result.returncode == 0

    def resolves(self, name: str) -> bool:
        result = lifecycle.kubectl(
            self.installed.settings,
            "-n",
            self.namespace,
            "exec",
            self.name,
            "--",
            "nslookup",
            name,
            check=False,
        )
        return result.returncode == 0 and "Address" in result.stdout.split("Name:")[-1]

    def remove(self) -> None:
        self.installed.kubectl(
            "delete", "pod", self.name, "--wait=true", namespace=self.namespace, check=False
        )


@pytest.fixture
def probes(installed: Installation) -> Iterator[list[Probe]]:
    made: list[Probe] = []
    yield made
    for probe in made:
        probe.remove()


# ---- 1 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("namespace", [NAMESPACE, TASKS_NAMESPACE])
def test_1_an_unlabelled_pod_reaches_nothing_but_dns(
    installed: Installation, probes: list[Probe], namespace: str
) -> None:
    stranger = Probe(installed, namespace, "stranger", {"app": "stranger"})
    probes.append(stranger)
    assert stranger.resolves(f"{WAREHOUSE}.cluster.local")
    refused = {
        "warehouse": (WAREHOUSE, 5432),
        "lake S3 API": (LAKE, 9000),
        "lake console": (LAKE, 9001),
        "Airflow api-server": (API_SERVER, 8080),
        "Kubernetes API": (API_SERVICE_IP, 443),
    }
    reached = [name for name, (host, port) in refused.items() if stranger.connects(host, port)]
    assert reached == []


def test_1b_the_allowed_flows_work_and_nothing_more(installed: Installation, probes: list[Probe]) -> None:
    task = Probe(installed, TASKS_NAMESPACE, "task-like", TASK_LABELS)
    probes.append(task)
    assert task.connects(WAREHOUSE, 5432) and task.connects(LAKE, 9000)
    assert not task.connects(API_SERVER, 8080) and not task.connects(API_SERVICE_IP, 443)
    airflow = Probe(
        installed,
        NAMESPACE,
        "airflow-like",
        {"app.kubernetes.io/instance": RELEASE, "customer360/client": "airflow"},
    )
    probes.append(airflow)
    assert airflow.connects(WAREHOUSE, 5432) and airflow.connects(API_SERVER, 8080)
    # Airflow holds no lake connection, and its policy lets it reach no lake either.
    assert not airflow.connects(LAKE, 9000)


# ---- 2 --------------------------------------------------------------------------------------------
def _as_scheduler(
    installed: Installation, token: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """kubectl with the scheduler's own ServiceAccount token instead of the admin's certificate."""
    settings = installed.settings
    return subprocess.run(
        [
            str(lifecycle.kubectl_path()),
            f"--server={settings.api_url}",
            f"--certificate-authority={settings.layout.pki / 'ca.crt'}",
            f"--token={token}",
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )


def test_2_the_schedulers_token_cannot_get_at_the_platforms_secrets(installed: Installation) -> None:
    token = installed.kubectl("create", "token", f"{RELEASE}-airflow", "--duration=10m").strip()

    def can(verb: str, resource: str, namespace: str) -> bool:
        return (
            _as_scheduler(installed, token, "auth", "can-i", verb, resource, "-n", namespace).stdout.strip()
            == "yes"
        )

    assert can("create", "pods", TASKS_NAMESPACE)  # the legitimate path: it launches the task pods
    assert not can("create", "pods", NAMESPACE)
    for namespace in (NAMESPACE, TASKS_NAMESPACE):
        assert not can("get", "secrets", namespace) and not can("list", "secrets", namespace)

    # A pod it creates in the tasks namespace may name the superuser's Secret: there is none there.
    thief = pod("thief", node_images.busybox_image(), ["sh", "-c", "cat /stolen/postgres-password"])
    thief["spec"]["volumes"] = [{"name": "stolen", "secret": {"secretName": f"{RELEASE}-warehouse"}}]
    thief["spec"]["containers"][0]["volumeMounts"] = [{"name": "stolen", "mountPath": "/stolen"}]
    created = _as_scheduler(
        installed, token, "-n", TASKS_NAMESPACE, "apply", "-f", "-", stdin=yaml.safe_dump(thief)
    )
    assert created.returncode == 0, created.stderr
    try:
        time.sleep(10)
        status = json.loads(
            installed.kubectl("get", "pod", "thief", "-o", "json", namespace=TASKS_NAMESPACE)
        )["status"]
        assert status["phase"] == "Pending"  # its container never starts
        events = installed.kubectl(
            "get", "events", "--field-selector=involvedObject.name=thief", namespace=TASKS_NAMESPACE
        )
        assert f'secret "{RELEASE}-warehouse" not found' in events
    finally:
        installed.kubectl("delete", "pod", "thief", "--wait=false", namespace=TASKS_NAMESPACE)
    # And in the platform's namespace it may not create one at all.
    thief["metadata"]["namespace"] = NAMESPACE
    refused = _as_scheduler(
        installed, token, "-n", NAMESPACE, "apply", "-f", "-", stdin=yaml.safe_dump(thief)
    )
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower()


# ---- 3 --------------------------------------------------------------------------------------------
def _credentials(pod_spec: dict[str, Any]) -> set[str]:
    """Secret keys (secret/key) a pod's containers get as env or mounts, and whether it has an API token."""
    found: set[str] = set()
    for container in [*pod_spec.get("initContainers", []), *pod_spec["containers"]]:
        for entry in container.get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                found.add(f"{ref['name']}/{ref['key']}")
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                found.add(f"{source['secretRef']['name']}/*")
    for volume in pod_spec.get("volumes", []):
        if "secret" in volume:
            found.add(f"{volume['secret']['secretName']}/*")
        if any("serviceAccountToken" in s for s in volume.get("projected", {}).get("sources", [])):
            found.add("kubernetes-api-token")
    return found


AIRFLOW_SECRET, CONNECTIONS, WAREHOUSE_SECRET, LAKE_SECRET = (
    f"{RELEASE}-airflow",
    f"{RELEASE}-airflow-connections",
    f"{RELEASE}-warehouse",
    f"{RELEASE}-lake",
)
METADATA = f"{CONNECTIONS}/AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
EXPECTED_CREDENTIALS = {
    "warehouse": {
        f"{WAREHOUSE_SECRET}/{k}"
        for k in (
            "postgres-password",
            "loader-password",
            "dbt-password",
            "analyst-password",
            "airflow-password",
        )
    },
    "lake": {f"{LAKE_SECRET}/root-user", f"{LAKE_SECRET}/root-password"},
    "lake-bucket": {
        f"{LAKE_SECRET}/{k}" for k in ("root-user", "root-password", "access-key-id", "secret-access-key")
    },
    "airflow-api-server": {
        METADATA,
        *(f"{AIRFLOW_SECRET}/{k}" for k in ("fernet-key", "jwt-secret", "api-secret-key")),
    },
    "airflow-scheduler": {
        METADATA,
        f"{CONNECTIONS}/AIRFLOW_CONN_POSTGRES_WAREHOUSE",
        *(f"{AIRFLOW_SECRET}/{k}" for k in ("fernet-key", "jwt-secret", "api-secret-key")),
        "kubernetes-api-token",
    },
    "airflow-dag-processor": {METADATA, *(f"{AIRFLOW_SECRET}/{k}" for k in ("fernet-key", "jwt-secret"))},
    "airflow-triggerer": {
        METADATA,
        *(f"{AIRFLOW_SECRET}/{k}" for k in ("fernet-key", "jwt-secret", "api-secret-key")),
    },
    "airflow-migrate": {METADATA, f"{AIRFLOW_SECRET}/fernet-key", f"{AIRFLOW_SECRET}/admin-password"},
    "docs": set(),
}


def test_3_each_pod_holds_only_its_own_credentials(installed: Installation) -> None:
    selector = f"app.kubernetes.io/instance={RELEASE}"
    held = {}
    for namespace in (NAMESPACE, TASKS_NAMESPACE):
        for item in pods(installed.settings, selector, namespace):
            held[item["metadata"]["labels"]["app.kubernetes.io/component"]] = _credentials(item["spec"])
    assert {component: held[component] for component in EXPECTED_CREDENTIALS} == EXPECTED_CREDENTIALS
    # The task pods: their ConfigMap and their role's Secret, nothing of the platform's, no token.
    for item in pods(
        installed.settings, "app.kubernetes.io/part-of=customer360,customer360/step", TASKS_NAMESPACE
    ):
        credentials = _credentials(item["spec"])
        assert credentials in ({f"{RELEASE}-task-credentials/*"}, {f"{RELEASE}-task-credentials-dbt/*"}), (
            credentials
        )
    # No Airflow pod holds any lake key.
    assert not any(
        LAKE_SECRET in key
        for component, keys in held.items()
        if component.startswith("airflow")
        for key in keys
    )


# ---- 4 --------------------------------------------------------------------------------------------
def test_4_the_ui_refuses_a_wrong_password_and_takes_the_right_one(
    installed: Installation, browser_page: Any
) -> None:
    from airflow_ui import UI_TIMEOUT_MS, log_in, submit_login
    from playwright.sync_api import expect

    api = installed.api
    assert (
        httpx.post(
            f"{api.base_url}/auth/token", json={"username": api.username, "password": "wrong"}
        ).status_code
        == 401
    )
    browser_page.context.clear_cookies()
    submit_login(browser_page, api.base_url, api.username, api.password + "-wrong")
    expect(browser_page.get_by_text("Invalid login")).to_be_visible(timeout=UI_TIMEOUT_MS)
    assert "/auth/login" in browser_page.url
    log_in(browser_page, api.base_url, api.username, api.password)
    listing = installed.kubectl(
        "exec", f"deploy/{RELEASE}-airflow-api-server", "--", "airflow", "users", "list", "--output", "json"
    )
    users = json.loads(next(line for line in reversed(listing.splitlines()) if line.startswith("[")))
    assert {user["username"]: user["roles"] for user in users}[api.username] == ["Admin"]


# ---- 5 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("namespace", [NAMESPACE, TASKS_NAMESPACE])
def test_5_restricted_pod_security_admits_every_pod_there_and_refuses_root(
    installed: Installation, namespace: str
) -> None:
    labels = json.loads(installed.kubectl("get", "namespace", namespace, "-o", "json"))["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # The API server evaluates every existing pod (task pods included) against the level: no warning.
    check = lifecycle.kubectl(
        installed.settings,
        "label",
        "--dry-run=server",
        "--overwrite",
        "namespace",
        namespace,
        "pod-security.kubernetes.io/enforce=restricted",
    )
    assert "violate" not in check.stderr, check.stderr
    running = kubectl(installed.settings, "get", "pods", "-o", "name", namespace=namespace).split()
    assert running, f"no pods in {namespace} to check"
    root = pod("root", node_images.busybox_image(), ["true"], container={"securityContext": {"runAsUser": 0}})
    refused = lifecycle.kubectl(
        installed.settings, "-n", namespace, "apply", "-f", "-", check=False, input=yaml.safe_dump(root)
    )
    assert refused.returncode != 0 and "violates PodSecurity" in refused.stderr


# ---- 6 --------------------------------------------------------------------------------------------
def test_6_a_render_that_sees_the_cluster_keeps_every_generated_credential(installed: Installation) -> None:
    declaration = deploy.tilt_declaration()
    rendered = deploy.helm(
        installed.settings,
        "template",
        RELEASE,
        deploy.CHART,
        "--namespace",
        NAMESPACE,
        *deploy.values_args(declaration),
        "--dry-run=server",
    ).stdout
    secrets = [doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "Secret"]
    assert len(secrets) >= 6
    for secret in secrets:
        namespace = secret["metadata"]["namespace"]
        live = json.loads(
            installed.kubectl("get", "secret", secret["metadata"]["name"], "-o", "json", namespace=namespace)
        )
        assert secret["data"] == live["data"], secret["metadata"]["name"]


# ---- 7 --------------------------------------------------------------------------------------------
def test_7_every_running_image_is_pinned(installed: Installation) -> None:
    for namespace in (NAMESPACE, TASKS_NAMESPACE):
        for item in json.loads(installed.kubectl("get", "pods", "-o", "json", namespace=namespace))["items"]:
            for container in [*item["spec"].get("initContainers", []), *item["spec"]["containers"]]:
                assert PINNED.match(container["image"]), (item["metadata"]["name"], container["image"])
