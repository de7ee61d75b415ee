"""``up``, ``down``, ``status`` and ``load_images`` of the local cluster (the CLI calls these).

``up`` prepares everything the node needs (binaries from the machine cache, certificates,
kubeconfigs, configuration files, the node's images, the start plan), launches the node agent
detached, and waits until the node is Ready and DNS answers. It reuses a healthy cluster, refuses
one that belongs to another checkout or is broken, and clears a *dead* one first: when a machine
ends every process (as CI does before it starts), the cluster's namespaces and mounts die with
them, but its cgroups, runtime folder and state stay behind until this clears them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from customer360.settings import PROJECT_ROOT
from harness.cache import exclusive
from harness.cluster import addons, configs, debian, namespaces, node_images, pki
from harness.cluster.components import CLUSTER_BUILDS
from harness.cluster.errors import ClusterError
from harness.cluster.plan import build_plan
from harness.cluster.settings import (
    API_SERVER_PORT,
    API_SERVICE_IP,
    CLUSTER_DOMAIN,
    NODE_IP,
    ClusterLayout,
    ClusterSettings,
)
from harness.gobuild import build_go
from harness.stack.ports import port_holder, port_is_free

TOOLS_BIN = PROJECT_ROOT / ".tools" / "bin"
AGENT_START_TIMEOUT = 300.0
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# ---- what runs now -------------------------------------------------------------------------------
def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive; neither is an unrelated process that reused the pid after a reboot.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


@dataclass(frozen=True)
class ComponentState:
    name: str
    pid: int | None
    alive: bool
    exit_code: int | None
    log: str

    def log_tail(self, lines: int = 12) -> str:
        try:
            return "\n".join(Path(self.log).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    agent_pid: int | None
    agent_alive: bool
    phase: str
    error: str
    state_dir: str
    components: tuple[ComponentState, ...]
    node_ready: bool | None = None

    @property
    def exists(self) -> bool:
        return self.agent_pid is not None

    @property
    def dead_components(self) -> tuple[ComponentState, ...]:
        return tuple(c for c in self.components if not c.alive)

    @property
    def healthy(self) -> bool:
        return self.agent_alive and self.phase == "ready" and not self.dead_components


def read_status(settings: ClusterSettings, check_node: bool = False) -> ClusterStatus:
    """The truth about the cluster: the agent's report checked against the processes that live."""
    layout = settings.layout
    try:
        report = json.loads(layout.agent_status.read_text())
    except (OSError, ValueError):
        return ClusterStatus(settings.name, None, False, "absent", "", str(layout.root), ())
    agent_alive = _alive(report.get("pid"))
    components = tuple(
        ComponentState(
            name,
            entry.get("pid"),
            agent_alive and _alive(entry.get("pid")),
            entry.get("exit_code"),
            entry.get("log", ""),
        )
        for name, entry in report.get("components", {}).items()
    )
    status = ClusterStatus(
        settings.name,
        report.get("pid"),
        agent_alive,
        report.get("phase", "?"),
        report.get("error", ""),
        report.get("state_dir", ""),
        components,
    )
    if check_node and status.healthy:
        ready = kubectl(
            settings,
            "get",
            "node",
            settings.name,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            check=False,
        )
        return ClusterStatus(**{**status.__dict__, "node_ready": ready.stdout.strip() == "True"})
    return status


# ---- kubectl against this cluster ----------------------------------------------------------------
def kubectl_path() -> Path:
    return build_go(next(b for b in CLUSTER_BUILDS if b.name == "kubernetes"), progress=False) / "kubectl"


def kubectl_env(settings: ClusterSettings) -> dict[str, str]:
    return {**os.environ, "KUBECONFIG": str(settings.layout.kubeconfig)}


def kubectl(
    settings: ClusterSettings, *args: str, check: bool = True, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(kubectl_path()), *args],
        env=kubectl_env(settings),
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()[-500:]}")
    return result


# ---- preparing a fresh node ------------------------------------------------------------------------
def binaries() -> dict[str, Path]:
    paths: dict[str, Path] = {}
    for build in CLUSTER_BUILDS:
        folder = build_go(build)
        paths.update({binary: folder / binary for binary in build.packages})
    return paths


def link_tools(binaries: dict[str, Path]) -> None:
    """``.tools/bin/kubectl``: the kubectl built with the cluster, for the README's lines."""
    TOOLS_BIN.mkdir(parents=True, exist_ok=True)
    link = TOOLS_BIN / "kubectl"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(binaries["kubectl"])


def _write_pki(settings: ClusterSettings) -> None:
    layout = settings.layout
    ca = pki.CertificateAuthority(layout.pki)
    ca.issue(
        "apiserver",
        "kube-apiserver",
        server_names=(
            "localhost",
            settings.name,
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
        ),
        server_ips=(NODE_IP, API_SERVICE_IP, "127.0.0.1"),
        client=False,
    )
    ca.issue(
        "kubelet-serving",
        f"system:node:{settings.name}",
        ("system:nodes",),
        server_names=(settings.name,),
        server_ips=(NODE_IP,),
        client=False,
    )
    pki.service_account_keys(layout.pki)
    internal = f"https://{NODE_IP}:{API_SERVER_PORT}"
    admin = pki.admin_identity()
    cert, key = ca.issue_client(admin)
    pki.write_kubeconfig(
        layout.config / "admin.kubeconfig",
        context=settings.context,
        server=internal,
        ca=ca.cert_path,
        cert=cert,
        key=key,
        user=admin.user,
    )
    pki.write_kubeconfig(
        layout.kubeconfig,
        context=settings.context,
        server=settings.api_url,
        ca=ca.cert_path,
        cert=cert,
        key=key,
        user=admin.user,
    )
    for identity in pki.component_identities(settings.name):
        cert, key = ca.issue_client(identity)
        pki.write_kubeconfig(
            layout.config / f"{identity.file}.kubeconfig",
            context=settings.context,
            server=internal,
            ca=ca.cert_path,
            cert=cert,
            key=key,
            user=identity.user,
        )


def _write_configs(layout: ClusterLayout) -> None:
    files = {
        layout.config / "containerd.toml": configs.containerd_config(layout, node_images.PAUSE_IMAGE),
        layout.cni_config / "10-c360-pods.conflist": configs.cni_conflist(layout),
        layout.config / "resolv.conf": configs.resolv_conf(),
        layout.config / "kubelet.yaml": configs.kubelet_config(
            layout, layout.pki, layout.config / "resolv.conf"
        ),
        layout.config / "kube-proxy.yaml": configs.kube_proxy_config(
            layout.config / "kube-proxy.kubeconfig", layout.name
        ),
        layout.config / "local-path-config.json": addons.local_path_config(layout),
        layout.config / "local-path-helper-pod.yaml": addons.local_path_helper_pod(
            node_images.busybox_image()
        ),
        layout.config / "addons.yaml": addons.addons_manifest(
            layout, node_images.COREDNS_IMAGE, node_images.busybox_image()
        ),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def prepare(settings: ClusterSettings) -> Path:
    """Everything the agent needs, written under the state dir; returns the plan's path."""
    layout = settings.layout
    debian.ensure_packages()
    built = binaries()
    link_tools(built)
    for folder in (
        layout.root,
        layout.config,
        layout.logs,
        layout.run,
        layout.volumes,
        layout.pod_logs,
        layout.cni_data,
    ):
        folder.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o700)
    _write_pki(settings)
    _write_configs(layout)
    images = node_images.write_node_images(layout.images)
    plan = build_plan(settings, built, images, node_images.busybox_image())
    return plan.write(layout.config / "plan.json")


# ---- up / down -------------------------------------------------------------------------------------
def _lock(settings: ClusterSettings) -> Path:
    return Path("/run/c360-cluster") / f".{settings.name}.lock"


def _check_privileges() -> None:
    missing = namespaces.missing_capabilities()
    if os.geteuid() != 0 or missing:
        lacking = f" (lacks {', '.join(missing)})" if missing else ""
        raise ClusterError(
            f"the local cluster needs root{lacking}: it creates network and mount namespaces and runs "
            "containerd and the kubelet; run it as root (sudo make cluster-up)"
        )


def _check_ports(settings: ClusterSettings) -> None:
    for spec in settings.forwards():
        if not port_is_free("127.0.0.1", spec.host_port):
            holder = port_holder(spec.host_port)
            raise ClusterError(
                f"127.0.0.1:{spec.host_port} ({spec.name}) is taken{f' by {holder}' if holder else ''}; "
                f"set {spec.env_var} to a free port"
            )


def clear(settings: ClusterSettings, keep_logs: bool) -> None:
    """Remove every trace of a cluster whose agent is gone: processes, cgroups, run dir, state."""
    layout = settings.layout
    namespaces.kill_cgroup(layout.cgroup_name)
    namespaces.remove_cgroup(layout.cgroup_name)
    shutil.rmtree(layout.run, ignore_errors=True)
    if layout.root.exists():
        for entry in layout.root.iterdir():
            if keep_logs and entry == layout.logs:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def leftovers(settings: ClusterSettings) -> list[str]:
    """What of the cluster still exists on the host (empty after a clean ``down``)."""
    layout = settings.layout
    found = [f"process {pid}" for pid in sorted(namespaces.cgroup_pids(layout.cgroup_name))]
    found += [
        f"cgroup {h / layout.cgroup_name}"
        for h in namespaces.hierarchies()
        if (h / layout.cgroup_name).exists()
    ]
    mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    found += [
        f"mount {line.split()[4]}"
        for line in mounts
        if line.split()[4].startswith((str(layout.root) + "/", str(layout.run)))
    ]
    if layout.run.exists():
        found.append(f"folder {layout.run}")
    for entry in ("containerd", "kubelet", "etcd", "pki"):
        if (layout.root / entry).exists():
            found.append(f"state {layout.root / entry}")
    return found


@dataclass(frozen=True)
class UpReport:
    reused: bool
    cleared_dead: bool
    seconds: float


def _wait_for_agent(settings: ClusterSettings, agent: subprocess.Popen[bytes]) -> ClusterStatus:
    deadline = time.monotonic() + AGENT_START_TIMEOUT
    while time.monotonic() < deadline:
        status = read_status(settings)
        if status.exists and status.phase in ("ready", "failed", "stopped"):
            return status
        if agent.poll() is not None and not status.exists:
            break
        time.sleep(0.5)
    log = settings.layout.agent_log
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""
    raise ClusterError(
        f"the node agent did not report ready within {AGENT_START_TIMEOUT:.0f} s; {log}:\n{tail}"
    )


def up(settings: ClusterSettings | None = None) -> UpReport:
    settings = settings or ClusterSettings()
    began = time.monotonic()
    _check_privileges()
    with exclusive(_lock(settings)):
        current = read_status(settings)
        cleared = False
        if current.agent_alive:
            if Path(current.state_dir) != settings.layout.root:
                raise ClusterError(
                    f"a cluster named {settings.name!r} runs from another checkout ({current.state_dir}); "
                    "stop it there, or set C360_CLUSTER_NAME (and its ports) for a second one"
                )
            if current.healthy:
                return UpReport(reused=True, cleared_dead=False, seconds=time.monotonic() - began)
            dead = ", ".join(c.name for c in current.dead_components) or current.phase
            raise ClusterError(
                f"the cluster runs but is not healthy ({dead}); "
                "see `make cluster-status`, then `make cluster-down`"
            )
        if (
            current.exists
            or namespaces.cgroup_pids(settings.layout.cgroup_name)
            or settings.layout.run.exists()
        ):
            cleared = True
        clear(settings, keep_logs=False)
        _check_ports(settings)
        plan_path = prepare(settings)
        agent = _launch_agent(settings, plan_path)
        status = _wait_for_agent(settings, agent)
        if status.phase != "ready":
            _stop_agent(settings, status)
            clear(settings, keep_logs=True)
            raise ClusterError(f"the node did not start: {status.error} (logs: {settings.layout.logs})")
        _wait_until_usable(settings)
    return UpReport(reused=False, cleared_dead=cleared, seconds=time.monotonic() - began)


def _launch_agent(settings: ClusterSettings, plan: Path) -> subprocess.Popen[bytes]:
    layout = settings.layout
    env = {
        **os.environ,
        "PATH": f"{os.environ.get('PATH', '')}:{SYSTEM_PATH}",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    with layout.agent_log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "harness.cluster.agent", "--plan", str(plan)],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,
            close_fds=True,
        )


def _wait_until_usable(settings: ClusterSettings) -> None:
    """The node Ready, CoreDNS serving and the default StorageClass there: what a pod needs."""
    kubectl(settings, "wait", "--for=condition=Ready", f"node/{settings.name}", "--timeout=180s", timeout=200)
    kubectl(
        settings,
        "-n",
        "kube-system",
        "rollout",
        "status",
        "deployment/coredns",
        "--timeout=180s",
        timeout=200,
    )
    kubectl(settings, "get", "storageclass", addons.STORAGE_CLASS)


def _stop_agent(settings: ClusterSettings, status: ClusterStatus, timeout: float = 90.0) -> None:
    if not status.agent_alive or not status.agent_pid:
        return
    os.kill(status.agent_pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(status.agent_pid) and time.monotonic() < deadline:
        time.sleep(0.3)


def down(settings: ClusterSettings | None = None) -> bool:
    """Stop the cluster and remove everything but its logs; True when there was one."""
    settings = settings or ClusterSettings()
    _check_privileges()
    with exclusive(_lock(settings)):
        status = read_status(settings)
        existed = (
            status.exists
            or settings.layout.run.exists()
            or bool(namespaces.cgroup_pids(settings.layout.cgroup_name))
        )
        if status.agent_alive and Path(status.state_dir) != settings.layout.root:
            raise ClusterError(
                f"the cluster {settings.name!r} belongs to another checkout ({status.state_dir}); "
                "stop it there"
            )
        _stop_agent(settings, status)
        clear(settings, keep_logs=True)
        left = leftovers(settings)
        if left:
            raise ClusterError(f"the cluster left things behind: {', '.join(left[:8])}")
    return existed


# ---- images ----------------------------------------------------------------------------------------
def _ctr_import(settings: ClusterSettings, source: Path | None, stdin: object = None) -> None:
    """``ctr images import`` into the node's containerd (the kubelet's image store, namespace k8s.io)."""
    argv = ["ctr", f"--address={settings.layout.containerd_socket}", "--namespace=k8s.io", "images", "import"]
    result = subprocess.run(
        [*argv, str(source) if source else "-"], stdin=stdin, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ClusterError(
            f"importing {source or 'the image'} into the cluster failed: {result.stderr.strip()}"
        )


def _require_running(settings: ClusterSettings) -> None:
    if not read_status(settings).healthy:
        raise ClusterError("the cluster is not running: make cluster-up")


def import_archive(settings: ClusterSettings, archive: Path) -> None:
    """Import an image archive (OCI layout or ``docker save`` tar) that names its image in full."""
    _require_running(settings)
    _ctr_import(settings, archive)


def load_images(settings: ClusterSettings, images: list[str]) -> list[tuple[str, float]]:
    """``docker save IMAGE | ctr import``: the project's locally built images into the node's containerd.

    ``docker save`` names ``customer360/pipeline:0.1.0`` as ``docker.io/customer360/pipeline:0.1.0``,
    which is what the kubelet looks up for the short name, exactly as after ``kind load docker-image``.
    """
    _require_running(settings)
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        raise ClusterError("no Docker engine answers (the images are read from it): make docker-engine")
    loaded: list[tuple[str, float]] = []
    for image in images:
        began = time.monotonic()
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _ctr_import(settings, None, stdin=save.stdout)
        finally:
            assert save.stdout is not None and save.stderr is not None
            save.stdout.close()
            save_error = save.stderr.read().decode().strip()
            if save.wait() != 0:
                raise ClusterError(
                    f"docker save {image} failed: {save_error} (build it first: make images-offline)"
                )
        loaded.append((image, time.monotonic() - began))
    return loaded
