"""The node's start plan: every component's command line, in start order, with its readiness check.

Pure data, written to ``config/plan.json`` by ``cluster-up`` and executed by the node agent
(:mod:`harness.cluster.agent`). Keeping the argv here, apart from the code that runs processes,
makes each flag reviewable in one place and testable without root.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from harness.cluster.settings import (
    API_SERVER_PORT,
    ETCD_CLIENT_URL,
    ETCD_PEER_URL,
    NODE_IP,
    NODE_PREFIX,
    POD_CIDR,
    SERVICE_CIDR,
    ClusterLayout,
    ClusterSettings,
)

ProbeKind = Literal["http", "file", "node", "none"]


@dataclass(frozen=True)
class Probe:
    """How the agent knows a component is up: an HTTP(S) URL answering 200, a file, the Node object."""

    kind: ProbeKind
    target: str = ""
    timeout: float = 120.0


@dataclass(frozen=True)
class Component:
    """One process of the node. ``then`` names a step the agent runs once the probe passes."""

    name: str
    argv: list[str]
    probe: Probe
    env: dict[str, str] = field(default_factory=dict)
    then: Literal["addons", "node-images", ""] = ""


@dataclass(frozen=True)
class NodePlan:
    """Everything the agent needs, so it never re-derives settings or paths."""

    name: str
    state_dir: str
    cgroup: str
    run_dir: str
    status_file: str
    node_interface: str
    node_address: str
    pki: str
    admin_kubeconfig_internal: str
    addons_manifest: str
    node_images: list[str]
    kubectl: str
    ctr_address: str
    masked_sysctls: dict[str, str]
    forwards: list[dict[str, object]]
    components: list[Component]

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=2))
        return path

    @classmethod
    def read(cls, path: Path) -> NodePlan:
        raw = json.loads(path.read_text())
        components = [Component(**{**c, "probe": Probe(**c["probe"])}) for c in raw.pop("components")]
        return cls(**raw, components=components)


# Host-wide kernel settings the kubelet insists on (and would otherwise write for the whole
# machine, panic-on-oops included). Inside the node's private mount namespace it reads these values
# from files bind-mounted over /proc/sys; the host keeps its own.
KUBELET_SYSCTLS = {
    "vm/overcommit_memory": "1",
    "vm/panic_on_oom": "0",
    "kernel/panic": "10",
    "kernel/panic_on_oops": "1",
    "kernel/keys/root_maxkeys": "1000000",
    "kernel/keys/root_maxbytes": "25000000",
}


def _api_flags(pki: Path) -> list[str]:
    return [
        f"--advertise-address={NODE_IP}",
        f"--bind-address={NODE_IP}",
        f"--secure-port={API_SERVER_PORT}",
        f"--etcd-servers={ETCD_CLIENT_URL}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={pki / 'ca.crt'}",
        # The node's name resolves nowhere (the namespace has no DNS of its own): use its IP.
        "--kubelet-preferred-address-types=InternalIP",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--profiling=false",
        "--v=1",
    ]


def build_plan(
    settings: ClusterSettings, binaries: dict[str, Path], node_images: list[Path], helper_image: str
) -> NodePlan:
    """The plan for ``settings``; ``binaries`` maps each binary name to its built path."""
    layout: ClusterLayout = settings.layout
    pki, config = layout.pki, layout.config
    node = settings.name

    def kubeconfig(component: str) -> str:
        return str(config / f"{component}.kubeconfig")

    def binary(name: str) -> str:
        return str(binaries[name])

    api_readyz = f"https://{NODE_IP}:{API_SERVER_PORT}/readyz"
    components = [
        Component(
            "etcd",
            [
                binary("etcd"),
                f"--name={node}",
                f"--data-dir={layout.etcd_data}",
                f"--listen-client-urls={ETCD_CLIENT_URL}",
                f"--advertise-client-urls={ETCD_CLIENT_URL}",
                f"--listen-peer-urls={ETCD_PEER_URL}",
                f"--initial-advertise-peer-urls={ETCD_PEER_URL}",
                f"--initial-cluster={node}={ETCD_PEER_URL}",
                "--listen-metrics-urls=http://127.0.0.1:2381",
                # A throw-away test cluster on a shared disk: fsync latency would only slow it down.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
            # Plain HTTP is safe here: 127.0.0.1 of the node's own namespace, which pods cannot reach.
            Probe("http", "http://127.0.0.1:2381/health"),
        ),
        Component(
            "kube-apiserver",
            [binary("kube-apiserver"), *_api_flags(pki)],
            Probe("http", api_readyz),
            then="addons",
        ),
        Component(
            "containerd",
            ["/usr/bin/containerd", f"--config={config / 'containerd.toml'}", "--log-level=warn"],
            Probe("file", str(layout.containerd_socket)),
            then="node-images",
        ),
        Component(
            "kube-controller-manager",
            [
                binary("kube-controller-manager"),
                f"--kubeconfig={kubeconfig('controller-manager')}",
                f"--authentication-kubeconfig={kubeconfig('controller-manager')}",
                f"--authorization-kubeconfig={kubeconfig('controller-manager')}",
                "--bind-address=127.0.0.1",
                "--allocate-node-cidrs=true",
                f"--cluster-cidr={POD_CIDR}",
                "--node-cidr-mask-size=24",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
            Probe("none"),
        ),
        Component(
            "kube-scheduler",
            [
                binary("kube-scheduler"),
                f"--kubeconfig={kubeconfig('scheduler')}",
                f"--authentication-kubeconfig={kubeconfig('scheduler')}",
                f"--authorization-kubeconfig={kubeconfig('scheduler')}",
                "--bind-address=127.0.0.1",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
            Probe("none"),
        ),
        Component(
            "kubelet",
            [
                binary("kubelet"),
                f"--config={config / 'kubelet.yaml'}",
                f"--kubeconfig={kubeconfig('kubelet')}",
                f"--hostname-override={node}",
                f"--node-ip={NODE_IP}",
                f"--root-dir={layout.kubelet_root}",
                "--v=1",
            ],
            Probe("node", node),
        ),
        Component(
            "kube-proxy",
            [binary("kube-proxy"), f"--config={config / 'kube-proxy.yaml'}", "--v=1"],
            Probe("none"),
        ),
        # After the node exists: kube-router identifies its node at start and exits if it cannot.
        Component(
            "kube-router",
            [
                binary("kube-router"),
                "--run-firewall=true",
                "--run-router=false",
                "--run-service-proxy=false",
                f"--kubeconfig={kubeconfig('kube-router')}",
                f"--hostname-override={node}",
                "--health-port=20244",
                "--metrics-port=0",
                "--v=1",
            ],
            Probe("http", "http://127.0.0.1:20244/healthz"),
            env={"NODE_NAME": node},
        ),
        Component(
            "local-path-provisioner",
            [
                binary("local-path-provisioner"),
                "start",
                f"--kubeconfig={kubeconfig('local-path-provisioner')}",
                "--namespace=local-path-storage",
                f"--config={config / 'local-path-config.json'}",
                f"--helper-pod-file={config / 'local-path-helper-pod.yaml'}",
                f"--helper-image={helper_image}",
                "--service-account-name=local-path-provisioner-service-account",
                "--provisioner-name=rancher.io/local-path",
            ],
            Probe("none"),
            env={"POD_NAMESPACE": "local-path-storage"},
        ),
    ]
    return NodePlan(
        name=node,
        state_dir=str(layout.root),
        cgroup=layout.cgroup_name,
        run_dir=str(layout.run),
        status_file=str(layout.agent_status),
        node_interface="c360-node",
        node_address=f"{NODE_IP}/{NODE_PREFIX}",
        pki=str(pki),
        admin_kubeconfig_internal=kubeconfig("admin"),
        addons_manifest=str(config / "addons.yaml"),
        node_images=[str(path) for path in node_images],
        kubectl=binary("kubectl"),
        ctr_address=str(layout.containerd_socket),
        masked_sysctls=KUBELET_SYSCTLS,
        forwards=[
            {"name": f.name, "host_port": f.host_port, "node_port": f.node_port, "env_var": f.env_var}
            for f in settings.forwards()
        ],
        components=components,
    )
