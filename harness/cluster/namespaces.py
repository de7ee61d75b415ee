"""Linux namespaces and cgroups for the node: the few system calls Python 3.11 does not wrap.

The node agent moves itself into a new network namespace (so the node's address, the pod and
Service ranges and every iptables rule exist only there) and a new mount namespace (so every mount
the kubelet, containerd and runc make vanishes with the node's last process, even after a kill -9
of the whole cluster). Its children inherit both. A cgroup of its own, in every v1 hierarchy,
holds the node's processes and, through the kubelet's ``cgroupRoot``, every pod's: killing what is
in it leaves no process behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SLAVE = 0x80000

CGROUP_ROOT = Path("/sys/fs/cgroup")
# CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21): namespaces, interfaces, iptables, mounts.
REQUIRED_CAPABILITIES = {12: "CAP_NET_ADMIN", 21: "CAP_SYS_ADMIN"}

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def missing_capabilities() -> list[str]:
    """Capabilities the cluster needs that this process lacks (empty when it may run it)."""
    effective = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            effective = int(line.split()[1], 16)
    return [name for bit, name in REQUIRED_CAPABILITIES.items() if not effective & (1 << bit)]


def enter_private_namespaces() -> None:
    """Unshare the network and mount namespaces; host mounts still propagate in, none out."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare(CLONE_NEWNS|CLONE_NEWNET)")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_SLAVE, None), "mount --make-rslave /")


def bind_mount(source: Path, target: Path, read_only: bool = False) -> None:
    _check(_libc.mount(str(source).encode(), str(target).encode(), None, MS_BIND, None), f"bind {target}")
    if read_only:
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY
        _check(_libc.mount(b"none", str(target).encode(), None, flags, None), f"remount ro {target}")


# ---- cgroups ---------------------------------------------------------------------------------
def hierarchies() -> list[Path]:
    """The mounted cgroup v1 hierarchies (cpu,cpuacct appear once, through their real folder)."""
    found: list[Path] = []
    for entry in sorted(CGROUP_ROOT.iterdir()):
        if entry.is_symlink() or not (entry / "cgroup.procs").exists() or entry.name == "unified":
            continue
        found.append(entry)
    return found


def create_cgroup(relative: str) -> None:
    """``/sys/fs/cgroup/<hierarchy>/<relative>`` in every hierarchy (cpuset inherits its parent's)."""
    for hierarchy in hierarchies():
        path = hierarchy / relative
        parts = Path(relative).parts
        for depth in range(1, len(parts) + 1):
            level = hierarchy.joinpath(*parts[:depth])
            level.mkdir(exist_ok=True)
            if hierarchy.name == "cpuset":
                for knob in ("cpuset.cpus", "cpuset.mems"):
                    if not (level / knob).read_text().strip():
                        (level / knob).write_text((level.parent / knob).read_text())
        assert path.exists()


def join_cgroup(relative: str, pid: int = 0) -> None:
    """Move ``pid`` (0 = this process) into ``relative`` in every hierarchy."""
    for hierarchy in hierarchies():
        (hierarchy / relative / "cgroup.procs").write_text(str(pid or os.getpid()))


def cgroup_pids(relative: str) -> set[int]:
    """Every process in ``relative`` or below, in any hierarchy."""
    pids: set[int] = set()
    for hierarchy in hierarchies():
        top = hierarchy / relative
        if not top.exists():
            continue
        for procs in top.rglob("cgroup.procs"):
            try:
                pids.update(int(line) for line in procs.read_text().split())
            except OSError:
                continue
    return pids


def kill_cgroup(relative: str, timeout: float = 20.0) -> None:
    """SIGKILL everything in ``relative`` until it is empty (new children of dying shims included)."""
    deadline = time.monotonic() + timeout
    while pids := cgroup_pids(relative) - {os.getpid()}:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise TimeoutError(f"processes {sorted(pids)[:10]} in cgroup {relative} survive SIGKILL")
        time.sleep(0.2)


def remove_cgroup(relative: str) -> None:
    """Remove ``relative`` and its descendants (deepest first) in every hierarchy."""
    for hierarchy in hierarchies():
        top = hierarchy / relative
        if not top.exists():
            continue
        for folder in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            folder.rmdir()
        top.rmdir()
