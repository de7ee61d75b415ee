"""The local cluster behaves as a Kubernetes cluster does: what the platform relies on, tried for real.

Node readiness, an image imported from an archive running as a Deployment, Service ClusterIPs and
DNS names, a PersistentVolumeClaim that keeps its data, NetworkPolicies enforced (ingress and
egress, DNS allowed), `kubectl logs -l`, and Pod Security Admission.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml
from cluster_kube import Namespace, namespace, pod, template

from customer360.settings import PROJECT_ROOT
from harness.cluster import lifecycle
from harness.cluster.components import KUBERNETES_VERSION
from harness.cluster.node_images import BUSYBOX
from harness.cluster.oci import ImageFile, ImageSpec, write_image_archive
from harness.cluster.settings import ClusterSettings

pytestmark = pytest.mark.cluster

WEB_IMAGE = "localhost/c360-smoke/web:1"
MARKER = "customer360-smoke-page"
# Debian's busybox 1.35 wget crashes on its own -T option; `timeout` bounds it instead.


def test_node_is_ready_at_the_pinned_version(cluster: ClusterSettings) -> None:
    node = lifecycle.kubectl(cluster, "get", "node", cluster.name, "-o", "json").stdout
    assert '"type": "Ready"' in node and '"status": "True"' in node
    version = lifecycle.kubectl(cluster, "version", "-o", "json").stdout
    assert f'"gitVersion": "{KUBERNETES_VERSION}"' in version


@pytest.fixture(scope="module")
def web(cluster: ClusterSettings, tmp_path_factory: pytest.TempPathFactory) -> Namespace:
    """A Deployment + Service serving MARKER from an image imported just now from an archive."""
    archive = write_image_archive(
        ImageSpec(
            WEB_IMAGE,
            (
                ImageFile("bin/busybox", source=BUSYBOX),
                ImageFile("www/index.html", data=MARKER.encode(), mode=0o644),
            ),
            entrypoint=("/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"),
        ),
        tmp_path_factory.mktemp("images") / "web.tar",
    )
    lifecycle.import_archive(cluster, archive)
    with namespace(cluster, "smoke") as ns:
        labels = {"app": "web"}
        ns.apply(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": template(pod("web", WEB_IMAGE, [], labels=labels, restartPolicy="Always")),
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
            },
        )
        ns.kubectl("rollout", "status", "deployment/web", "--timeout=120s", timeout=130)
        yield ns


def _client(ns: Namespace, busybox: str, name: str, labels: dict[str, str] | None = None) -> str:
    ns.apply(pod(name, busybox, ["sleep", "3600"], labels=labels or {"app": name}))
    ns.wait(f"pod/{name}", "condition=Ready")
    return name


def test_a_deployment_runs_an_imported_image_and_its_service_answers_by_ip_and_name(
    web: Namespace, busybox: str
) -> None:
    client = _client(web, busybox, "client")
    cluster_ip = web.get("service", "web")["spec"]["clusterIP"]
    for address in (cluster_ip, "web", f"web.{web.name}.svc.cluster.local"):
        code, output = web.exec(client, "timeout", "10", "wget", "-qO-", f"http://{address}/")
        assert code == 0 and MARKER in output, (address, output)


def test_kubectl_logs_by_label_finds_the_pod_output(web: Namespace, busybox: str) -> None:
    line = "hello from a labelled pod"
    web.apply(
        pod("talker", busybox, ["sh", "-c", f"echo '{line}'"], labels={"customer360/step": "smoke-talker"})
    )
    web.wait_phase("talker", {"Succeeded"})
    assert line in web.kubectl("logs", "-l", "customer360/step=smoke-talker", "--tail=-1")


def test_a_claim_binds_on_the_default_class_and_keeps_its_data_across_pods(
    cluster: ClusterSettings, busybox: str
) -> None:
    with namespace(cluster, "pvc") as ns:
        ns.apply(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}},
            }
        )
        volume = {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}
        mount = {"container": {"volumeMounts": [{"name": "data", "mountPath": "/data"}]}}
        security = {"securityContext": {"fsGroup": 65532}}
        ns.apply(
            pod("writer", busybox, ["sh", "-c", "echo kept > /data/file"], **volume, **mount, **security)
        )
        assert ns.wait_phase("writer", {"Succeeded", "Failed"}) == "Succeeded"
        assert ns.get("pvc", "data")["status"]["phase"] == "Bound"
        ns.kubectl("delete", "pod", "writer")
        ns.apply(pod("reader", busybox, ["cat", "/data/file"], **volume, **mount, **security))
        assert ns.wait_phase("reader", {"Succeeded", "Failed"}) == "Succeeded"
        assert ns.kubectl("logs", "reader").strip() == "kept"


def test_network_policy_lets_the_allowed_client_in_and_keeps_another_out(
    web: Namespace, busybox: str
) -> None:
    web.apply(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "web-ingress"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "allowed"}}}]}],
            },
        }
    )
    allowed = _client(web, busybox, "allowed", {"role": "allowed"})
    other = _client(web, busybox, "other", {"role": "other"})
    try:
        code, output = web.exec(allowed, "timeout", "10", "wget", "-qO-", "http://web/")
        assert code == 0 and MARKER in output
        code, output = web.exec(other, "timeout", "5", "wget", "-qO-", "http://web/")
        assert code != 0, output
    finally:
        web.kubectl("delete", "networkpolicy", "web-ingress")


def test_dns_keeps_working_under_default_deny_egress_that_allows_it(web: Namespace, busybox: str) -> None:
    web.apply(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "egress-dns-only"},
            "spec": {
                "podSelector": {"matchLabels": {"role": "locked"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        }
    )
    locked = _client(web, busybox, "locked", {"role": "locked"})
    try:
        code, output = web.exec(locked, "nslookup", f"web.{web.name}.svc.cluster.local")
        assert code == 0 and "Address" in output, output
        code, output = web.exec(locked, "timeout", "5", "wget", "-qO-", "http://web/")
        assert code != 0, output
    finally:
        web.kubectl("delete", "networkpolicy", "egress-dns-only")


def test_restricted_pod_security_refuses_a_root_pod_and_admits_a_restricted_one(
    cluster: ClusterSettings, busybox: str
) -> None:
    with namespace(cluster, "psa", {"pod-security.kubernetes.io/enforce": "restricted"}) as ns:
        ns.apply(pod("compliant", busybox, ["true"]))
        root = pod("root", busybox, ["true"], container={"securityContext": {"runAsUser": 0}})
        result = lifecycle.kubectl(
            cluster, "-n", ns.name, "apply", "-f", "-", check=False, input=yaml.safe_dump(root)
        )
        assert result.returncode != 0
        assert "violates PodSecurity" in result.stderr and "restricted" in result.stderr


def test_the_kubeconfig_is_private_and_ignored_by_git(cluster: ClusterSettings) -> None:
    kubeconfig = cluster.layout.kubeconfig
    assert kubeconfig.stat().st_mode & 0o077 == 0
    ignored = subprocess.run(["git", "check-ignore", "-q", str(kubeconfig)], cwd=PROJECT_ROOT, check=False)
    assert ignored.returncode == 0
