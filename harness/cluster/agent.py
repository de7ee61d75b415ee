"""The node agent: one process that *is* the node, as systemd is inside a kind node container.

Started detached by ``c360-cluster up`` with the plan that command wrote. In order, it:

1. opens the host-side 127.0.0.1 listeners of the API server and UI forwards (so a taken port is an
   error now, not later), and moves itself into the cluster's cgroup;
2. unshares a network and a mount namespace, gives the node its interface and address, and masks
   the host-wide kernel settings the kubelet would otherwise change for the whole machine;
3. starts each component of the plan and waits for its readiness check, applying the add-ons once
   the API server is ready and importing the node's images once containerd is;
4. reports ``ready`` in its status file, then forwards connections and watches its children;
   a component that exits is recorded there (``c360-cluster status`` shows it with its log).

On SIGTERM it stops the pods' processes, then the components in reverse order, and exits; with
its last child gone, both namespaces and every mount made inside them disappear.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cluster import forward, namespaces
from harness.cluster.plan import Component, NodePlan, Probe
from harness.cluster.settings import API_SERVER_PORT, NODE_IP

log = logging.getLogger("harness.cluster.agent")
STOP_GRACE_SECONDS = 10.0


class Stopped(Exception):
    """SIGTERM arrived while the node was starting."""


@dataclass
class Status:
    """The agent's report, rewritten atomically on every change (read by ``c360-cluster``)."""

    path: Path
    state_dir: str
    phase: str = "starting"
    error: str = ""
    components: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self) -> None:
        body = {
            "pid": os.getpid(),
            "state_dir": self.state_dir,
            "phase": self.phase,
            "error": self.error,
            "updated_at": time.time(),
            "components": self.components,
        }
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(body, indent=2))
        partial.rename(self.path)

    def set(self, phase: str, error: str = "") -> None:
        self.phase, self.error = phase, error
        self.write()


def _tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Node:
    def __init__(self, plan: NodePlan) -> None:
        self.plan = plan
        self.logs = Path(plan.state_dir) / "logs"
        self.status = Status(Path(plan.status_file), plan.state_dir)
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.pki = Path(plan.pki)

    # ---- set-up ------------------------------------------------------------------------------
    def mask_sysctls(self) -> None:
        folder = Path(self.plan.run_dir) / "sysctl"
        folder.mkdir(parents=True, exist_ok=True)
        for name, value in self.plan.masked_sysctls.items():
            shown = folder / name.replace("/", "__")
            shown.write_text(value + "\n")
            namespaces.bind_mount(shown, Path("/proc/sys") / name, read_only=True)

    def configure_network(self) -> None:
        interface, address = self.plan.node_interface, self.plan.node_address
        # The kernel has no `dummy` link type; a bridge with no ports serves as the node's interface.
        for command in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "link", "add", interface, "type", "bridge"],
            ["ip", "addr", "add", address, "dev", interface],
            ["ip", "link", "set", interface, "up"],
            ["ip", "route", "add", "default", "dev", interface],
        ):
            subprocess.run(command, check=True, capture_output=True)
        for knob in (
            "net/ipv4/ip_forward",
            "net/bridge/bridge-nf-call-iptables",
            "net/ipv4/conf/all/route_localnet",
        ):
            Path("/proc/sys", knob).write_text("1")

    # ---- components --------------------------------------------------------------------------
    def start(self, component: Component) -> None:
        logfile = self.logs / f"{component.name}.log"
        with logfile.open("ab") as sink:
            sink.write(f"==== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(component.argv)}\n".encode())
            sink.flush()
            child = subprocess.Popen(
                component.argv,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**os.environ, **component.env},
                cwd=self.plan.state_dir,
            )
        self.children[component.name] = child
        self.status.components[component.name] = {"pid": child.pid, "log": str(logfile), "exit_code": None}
        self.status.write()
        log.info("started %s (pid %s)", component.name, child.pid)

    def _ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        context.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return context

    def _probe_once(self, probe: Probe) -> bool:
        if probe.kind == "none":
            return True
        if probe.kind == "file":
            return Path(probe.target).exists()
        url = probe.target
        if probe.kind == "node":
            url = f"https://{NODE_IP}:{API_SERVER_PORT}/api/v1/nodes/{probe.target}"
        try:
            context = self._ssl() if url.startswith("https") else None
            with urllib.request.urlopen(url, timeout=5, context=context) as response:
                return response.status == 200
        except (OSError, ValueError):
            return False

    def wait_ready(self, component: Component) -> None:
        deadline = time.monotonic() + component.probe.timeout
        child = self.children[component.name]
        while not self._probe_once(component.probe):
            if child.poll() is not None:
                raise RuntimeError(
                    f"{component.name} exited with code {child.returncode} while starting; "
                    f"last lines of its log:\n{_tail(self.status.components[component.name]['log'])}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{component.name} not ready after {component.probe.timeout:.0f} s "
                    f"({component.probe.target})"
                )
            time.sleep(0.5)

    def apply_addons(self) -> None:
        argv = [
            self.plan.kubectl,
            f"--kubeconfig={self.plan.admin_kubeconfig_internal}",
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--filename={self.plan.addons_manifest}",
        ]
        self._retry(argv, "applying the add-ons")

    def import_node_images(self) -> None:
        for archive in self.plan.node_images:
            self._retry(
                [
                    "ctr",
                    f"--address={self.plan.ctr_address}",
                    "--namespace=k8s.io",
                    "images",
                    "import",
                    archive,
                ],
                f"importing {archive}",
            )

    def _retry(self, argv: list[str], what: str, attempts: int = 20) -> None:
        for attempt in range(1, attempts + 1):
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
            if result.returncode == 0:
                return
            if attempt == attempts:
                raise RuntimeError(f"{what} failed: {result.stderr.strip()[-800:]}")
            time.sleep(1.0)

    def boot(self) -> None:
        hooks = {"addons": self.apply_addons, "node-images": self.import_node_images}
        for component in self.plan.components:
            self.status.set(f"starting {component.name}")
            self.start(component)
            self.wait_ready(component)
            if component.then:
                hooks[component.then]()
        self.status.set("ready")

    # ---- running and stopping ----------------------------------------------------------------
    def reap(self) -> None:
        """Record components that exited (the cluster keeps running, degraded, and says so)."""
        changed = False
        for name, child in self.children.items():
            entry = self.status.components[name]
            if entry["exit_code"] is None and child.poll() is not None:
                entry["exit_code"] = child.returncode
                log.error("%s exited with code %s", name, child.returncode)
                changed = True
        if changed:
            self.status.write()

    def stop(self) -> None:
        self.status.set("stopping")
        # Pods first (containers would otherwise outlive the kubelet and containerd).
        with contextlib.suppress(TimeoutError, OSError):
            namespaces.kill_cgroup(f"{self.plan.cgroup}/kubepods", timeout=15)
        for name in reversed(list(self.children)):
            child = self.children[name]
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            log.info("stopped %s", name)
        self.status.set("stopped")


async def _serve(node: Node, listeners: list[tuple[dict[str, Any], Any]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    servers = [
        asyncio.create_task(forward.serve(sock, NODE_IP, int(spec["node_port"]))) for spec, sock in listeners
    ]
    while not stop.is_set():
        node.reap()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=2.0)
    for server in servers:
        server.cancel()


def run(plan: NodePlan) -> int:
    node = Node(plan)

    def on_term(signum: int, frame: object) -> None:
        raise Stopped

    signal.signal(signal.SIGTERM, on_term)
    listeners: list[tuple[dict[str, Any], Any]] = []
    try:
        for spec in plan.forwards:
            try:
                listeners.append((spec, forward.listen(int(spec["host_port"]))))
            except OSError as err:
                raise RuntimeError(
                    f"127.0.0.1:{spec['host_port']} ({spec['name']}) cannot be opened: {err.strerror}; "
                    f"set {spec['env_var']} to another port"
                ) from None
        namespaces.create_cgroup(f"{plan.cgroup}/node")
        namespaces.join_cgroup(f"{plan.cgroup}/node")
        namespaces.enter_private_namespaces()
        node.mask_sysctls()
        node.configure_network()
        node.boot()
    except Stopped:
        node.stop()
        return 0
    except Exception as err:  # the status file carries the one line; the log the traceback
        log.exception("node failed to start")
        node.status.set("failed", str(err))
        node.stop()
        node.status.set("failed", str(err))
        return 1
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    asyncio.run(_serve(node, listeners))
    node.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plan", type=Path, required=True, help="the plan written by c360-cluster up")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    return run(NodePlan.read(args.plan))


if __name__ == "__main__":
    sys.exit(main())
