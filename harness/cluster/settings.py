"""Settings of the local cluster (``C360_CLUSTER_*``) and where its files live.

Only what a user may want to move is a setting: the cluster's name and the host ports on
127.0.0.1 that reach the API server and the UIs. Every address *inside* the cluster (node, pods,
Services) is a constant: the cluster has a network namespace of its own, so those addresses
cannot collide with anything on the host, and nothing on the host ever routes to them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from customer360.settings import PROJECT_ROOT

KIND_CONFIG = PROJECT_ROOT / "kind-config.yaml"

# Inside the cluster's network namespace only.
NODE_INTERFACE = "c360-node"
NODE_IP = "10.200.0.2"
NODE_PREFIX = 24
POD_CIDR = "10.244.0.0/16"
NODE_POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
CLUSTER_DOMAIN = "cluster.local"
API_SERVER_PORT = 6443
ETCD_CLIENT_URL = "http://127.0.0.1:2379"
ETCD_PEER_URL = "http://127.0.0.1:2380"


def service_ip(index: int) -> str:
    """The ``index``-th address of the Service range (1 = the API server, 10 = DNS, as kubeadm)."""
    return str(ipaddress.ip_network(SERVICE_CIDR)[index])


API_SERVICE_IP = service_ip(1)
DNS_SERVICE_IP = service_ip(10)


@dataclass(frozen=True)
class PortForward:
    """A TCP port on the host's loopback that reaches a port of the node inside the namespace."""

    name: str
    host_port: int
    node_port: int
    env_var: str


def kind_port_mappings(kind_config: Path = KIND_CONFIG) -> dict[int, int]:
    """containerPort -> hostPort of the ``extraPortMappings`` that kind-config.yaml publishes."""
    config = yaml.safe_load(kind_config.read_text())
    mappings: dict[int, int] = {}
    for node in config.get("nodes", []):
        for mapping in node.get("extraPortMappings", []):
            mappings[int(mapping["containerPort"])] = int(mapping["hostPort"])
    return mappings


# The UIs kind-config.yaml publishes, by the NodePort values-kind.yaml gives each of them.
UI_NODE_PORTS: dict[str, int] = {"airflow": 30080, "lake-console": 30901, "docs": 30082}


class ClusterSettings(BaseSettings):
    """The local cluster's knobs; override any with ``C360_CLUSTER_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="C360_CLUSTER_", extra="ignore", frozen=True)

    name: str = Field(
        default="customer360",
        pattern=r"^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$",
        description="Cluster and node name; also names its network namespace and cgroups.",
    )
    state_dir: Path = Field(
        default=PROJECT_ROOT / ".state" / "cluster",
        description="Certificates, kubeconfig, etcd, containerd and kubelet data, logs.",
    )
    api_port: int = Field(default=16443, description="127.0.0.1 port of the API server (kubeconfig).")
    # Default host ports are kind-config.yaml's, so every URL of the README is the same on both.
    airflow_port: int | None = Field(default=None, description="127.0.0.1 port of the Airflow UI.")
    lake_console_port: int | None = Field(default=None, description="127.0.0.1 port of the MinIO console.")
    docs_port: int | None = Field(default=None, description="127.0.0.1 port of the dbt docs site.")

    @cached_property
    def layout(self) -> ClusterLayout:
        return ClusterLayout(self.state_dir.expanduser().resolve(), self.name)

    @property
    def context(self) -> str:
        """Name of the kubeconfig context (and cluster) of this cluster."""
        return f"c360-{self.name}"

    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    def forwards(self) -> tuple[PortForward, ...]:
        """The API server and every UI, each on its host port (kind's unless overridden)."""
        published = kind_port_mappings()
        overrides = {
            "airflow": self.airflow_port,
            "lake-console": self.lake_console_port,
            "docs": self.docs_port,
        }
        ui = tuple(
            PortForward(
                name=name,
                host_port=overrides[name] or published.get(node_port, node_port),
                node_port=node_port,
                env_var=f"C360_CLUSTER_{name.upper().replace('-', '_')}_PORT",
            )
            for name, node_port in UI_NODE_PORTS.items()
        )
        return (PortForward("api-server", self.api_port, API_SERVER_PORT, "C360_CLUSTER_API_PORT"), *ui)


@dataclass(frozen=True)
class ClusterLayout:
    """Every path of one cluster. Disk state under ``root``; sockets and the registry under /run."""

    root: Path
    name: str

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig for the host: the API server through its 127.0.0.1 forward."""
        return self.root / "kubeconfig"

    @property
    def config(self) -> Path:
        """Component configuration files and the kubeconfigs the components use inside."""
        return self.root / "config"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def containerd_root(self) -> Path:
        return self.root / "containerd"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.root / "pod-logs"

    @property
    def cni_config(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_data(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def volumes(self) -> Path:
        """Where the local-path provisioner creates the folders behind PersistentVolumes."""
        return self.root / "volumes"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def run(self) -> Path:
        """Sockets and the containerd state (short paths: a socket path has 108 bytes at most)."""
        return Path("/run/c360-cluster") / self.name

    @property
    def containerd_socket(self) -> Path:
        return self.run / "containerd.sock"

    @property
    def agent_status(self) -> Path:
        """What the node agent reports: its pid, the owner's state dir, each component's pid."""
        return self.run / "agent.json"

    @property
    def agent_log(self) -> Path:
        return self.logs / "agent.log"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    @property
    def cgroup_name(self) -> str:
        """The cgroup (in every v1 hierarchy) under which the node and every pod run."""
        return f"c360-{self.name}"
