"""What the cluster is made of: every upstream component, its pinned version and how it is built.

The one table of versions. Kubernetes matches the node image ``kind-config.yaml`` pins (v1.34.x);
the add-ons are the ones kind ships (CoreDNS, local-path-provisioner) or, for NetworkPolicies,
kube-router's firewall, because kind's own enforcer (kube-network-policies) needs nftables
``queue``, which these machines' kernels lack. The container runtime comes from Debian.
"""

from __future__ import annotations

from harness.gobuild import GoBuild

KUBERNETES_VERSION = "v1.34.3"
# The staging modules (k8s.io/api, client-go, ...) are versioned v0.<minor>.<patch>.
KUBERNETES_STAGING_VERSION = "v0." + KUBERNETES_VERSION.removeprefix("v1.")


def _version_flags(package: str) -> tuple[str, ...]:
    major, minor = KUBERNETES_VERSION.removeprefix("v").split(".")[:2]
    return (
        f"-X {package}.gitVersion={KUBERNETES_VERSION}",
        f"-X {package}.gitMajor={major}",
        f"-X {package}.gitMinor={minor}",
        f"-X {package}.gitTreeState=clean",
    )


KUBERNETES = GoBuild(
    name="kubernetes",
    module="k8s.io/kubernetes",
    version=KUBERNETES_VERSION,
    packages={
        binary: f"k8s.io/kubernetes/cmd/{binary}"
        for binary in (
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kubelet",
            "kube-proxy",
            "kubectl",
        )
    },
    # Without the stamp every component says v0.0.0-master, and helm checks a chart's kubeVersion
    # against what the API server reports.
    ldflags=(
        "-s",
        "-w",
        *_version_flags("k8s.io/component-base/version"),
        *_version_flags("k8s.io/client-go/pkg/version"),
    ),
    staging_version=KUBERNETES_STAGING_VERSION,
)

ETCD = GoBuild(
    name="etcd",
    module="go.etcd.io/etcd/server/v3",
    version="v3.6.16",
    packages={"etcd": "go.etcd.io/etcd/server/v3"},
    ldflags=("-s", "-w"),
)

COREDNS = GoBuild(
    name="coredns",
    module="github.com/coredns/coredns",
    version="v1.12.4",
    # Static (CGO off): it runs in an image with nothing but the binary.
    packages={"coredns": "github.com/coredns/coredns"},
    ldflags=("-s", "-w"),
)

# The only version the Go module proxy serves. Advisories exist for it; here it enforces
# NetworkPolicies of a test cluster inside a private network namespace, nothing more.
KUBE_ROUTER = GoBuild(
    name="kube-router",
    module="github.com/cloudnativelabs/kube-router/v2",
    version="v2.1.0",
    packages={"kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"},
    ldflags=("-s", "-w"),
)

LOCAL_PATH_PROVISIONER = GoBuild(
    name="local-path-provisioner",
    module="github.com/rancher/local-path-provisioner",
    version="v0.0.30",
    packages={"local-path-provisioner": "github.com/rancher/local-path-provisioner"},
    ldflags=("-s", "-w"),
)

CLUSTER_BUILDS: tuple[GoBuild, ...] = (KUBERNETES, ETCD, COREDNS, KUBE_ROUTER, LOCAL_PATH_PROVISIONER)

# From Debian 12: the container runtime and what kube-proxy, kube-router and the CNI plugins call.
DEBIAN_PACKAGES: dict[str, str] = {
    "containerd": "/usr/bin/containerd",
    "runc": "/usr/sbin/runc",
    "containernetworking-plugins": "/usr/lib/cni/bridge",
    "iptables": "/usr/sbin/iptables",
    "ipset": "/usr/sbin/ipset",
    "conntrack": "/usr/sbin/conntrack",
    "util-linux": "/usr/bin/nsenter",
    "iproute2": "/usr/sbin/ip",
    "busybox-static": "/bin/busybox",
    "gcc": "/usr/bin/gcc",
    "libc6-dev": "/usr/lib/x86_64-linux-gnu/libc.a",
}
