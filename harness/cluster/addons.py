"""The cluster add-ons, applied by the node agent once the API server is ready.

What kind and kubeadm install on every cluster: CoreDNS behind the ``kube-dns`` Service, a default
StorageClass ``standard`` served by the local-path provisioner, and the RBAC that lets the
components running as node processes (kube-router's firewall, the provisioner, the API server
calling the kubelet) do their job and nothing more. The ClusterRoles are the upstream ones.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from harness.cluster.settings import CLUSTER_DOMAIN, DNS_SERVICE_IP, ClusterLayout

Manifest = dict[str, Any]
DNS_PORT = 53
LOCAL_PATH_NAMESPACE = "local-path-storage"
LOCAL_PATH_SERVICE_ACCOUNT = "local-path-provisioner-service-account"
STORAGE_CLASS = "standard"  # kind's name for its default class


def _cluster_role_binding(name: str, role: str, user: str) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> Manifest:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


READ = ["get", "list", "watch"]


def rbac() -> list[Manifest]:
    kube_router_rules = [
        _rule([""], ["namespaces", "pods", "services", "nodes", "endpoints"], READ),
        _rule(["networking.k8s.io"], ["networkpolicies"], READ),
        _rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update"]),
        _rule([""], ["services/status"], ["update"]),
        _rule(["discovery.k8s.io"], ["endpointslices"], READ),
    ]
    local_path_rules = [
        _rule([""], ["nodes", "persistentvolumeclaims", "configmaps", "pods", "pods/log"], READ),
        _rule([""], ["persistentvolumes"], ["get", "list", "watch", "create", "patch", "update", "delete"]),
        _rule([""], ["events"], ["create", "patch"]),
        _rule(["storage.k8s.io"], ["storageclasses"], READ),
    ]
    cluster_role = "rbac.authorization.k8s.io/v1"
    return [
        # kubeadm's binding: the API server may proxy to, exec in and read logs through the kubelet.
        _cluster_role_binding(
            "c360:apiserver-kubelet-client", "system:kubelet-api-admin", "kube-apiserver-kubelet-client"
        ),
        {
            "apiVersion": cluster_role,
            "kind": "ClusterRole",
            "metadata": {"name": "c360:kube-router"},
            "rules": kube_router_rules,
        },
        _cluster_role_binding("c360:kube-router", "c360:kube-router", "system:c360:kube-router"),
        {
            "apiVersion": cluster_role,
            "kind": "ClusterRole",
            "metadata": {"name": "c360:local-path-provisioner"},
            "rules": local_path_rules,
        },
        _cluster_role_binding(
            "c360:local-path-provisioner", "c360:local-path-provisioner", "system:c360:local-path-provisioner"
        ),
        {
            "apiVersion": cluster_role,
            "kind": "Role",
            "metadata": {"name": "c360:local-path-provisioner", "namespace": LOCAL_PATH_NAMESPACE},
            "rules": [_rule([""], ["pods"], ["get", "list", "watch", "create", "patch", "update", "delete"])],
        },
        {
            "apiVersion": cluster_role,
            "kind": "RoleBinding",
            "metadata": {"name": "c360:local-path-provisioner", "namespace": LOCAL_PATH_NAMESPACE},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "c360:local-path-provisioner",
            },
            "subjects": [
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "User",
                    "name": "system:c360:local-path-provisioner",
                }
            ],
        },
    ]


def corefile() -> str:
    # No `forward`: the namespace has no route out, so names outside the cluster fail fast.
    return f""".:{DNS_PORT} {{
    errors
    health :8080
    ready :8181
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    cache 30
    reload
    loadbalance
}}
"""


def coredns(image: str) -> list[Manifest]:
    labels = {"k8s-app": "kube-dns"}
    meta = {"namespace": "kube-system", "labels": labels}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "system:coredns"},
            "rules": [
                _rule([""], ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]),
                _rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"]),
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:coredns"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:coredns",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", **meta},
            "data": {"Corefile": corefile()},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", **meta},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "coredns",
                        "priorityClassName": "system-cluster-critical",
                        "dnsPolicy": "Default",
                        "securityContext": {
                            "runAsNonRoot": True,
                            "runAsUser": 65532,
                            "runAsGroup": 65532,
                            "seccompProfile": {"type": "RuntimeDefault"},
                            # Port 53 without root or capabilities: a namespaced, "safe" sysctl.
                            "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "53"}],
                        },
                        "containers": [
                            {
                                "name": "coredns",
                                "image": image,
                                "imagePullPolicy": "Never",
                                "args": ["-conf", "/etc/coredns/Corefile"],
                                "ports": [
                                    {"name": "dns", "containerPort": DNS_PORT, "protocol": "UDP"},
                                    {"name": "dns-tcp", "containerPort": DNS_PORT, "protocol": "TCP"},
                                ],
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"memory": "170Mi"},
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                                "livenessProbe": {
                                    "httpGet": {"path": "/health", "port": 8080},
                                    "periodSeconds": 10,
                                },
                                "readinessProbe": {
                                    "httpGet": {"path": "/ready", "port": 8181},
                                    "periodSeconds": 2,
                                },
                                "volumeMounts": [
                                    {"name": "config", "mountPath": "/etc/coredns", "readOnly": True}
                                ],
                            }
                        ],
                        "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", **meta},
            "spec": {
                "clusterIP": DNS_SERVICE_IP,
                "selector": labels,
                "ports": [
                    {"name": "dns", "port": DNS_PORT, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": DNS_PORT, "protocol": "TCP"},
                ],
            },
        },
    ]


def local_path_config(layout: ClusterLayout) -> str:
    """config.json of the provisioner: every volume is a folder under the cluster's state dir."""
    return json.dumps(
        {"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [str(layout.volumes)]}]},
        indent=2,
    )


def local_path_helper_pod(image: str) -> str:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "helper-pod"},
        "spec": {
            "priorityClassName": "system-node-critical",
            "tolerations": [
                {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"}
            ],
            "containers": [{"name": "helper-pod", "image": image, "imagePullPolicy": "Never"}],
        },
    }
    return yaml.safe_dump(pod, sort_keys=False)


def local_path(layout: ClusterLayout, helper_image: str) -> list[Manifest]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LOCAL_PATH_NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": LOCAL_PATH_SERVICE_ACCOUNT, "namespace": LOCAL_PATH_NAMESPACE},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "local-path-config", "namespace": LOCAL_PATH_NAMESPACE},
            "data": {
                "config.json": local_path_config(layout),
                "setup": '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
                "teardown": '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
                "helperPod.yaml": local_path_helper_pod(helper_image),
            },
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Delete",
        },
    ]


def addons_manifest(layout: ClusterLayout, coredns_image: str, helper_image: str) -> str:
    documents = [*local_path(layout, helper_image), *rbac(), *coredns(coredns_image)]
    return yaml.safe_dump_all(documents, sort_keys=False)
