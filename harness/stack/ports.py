"""Port checks done before a server starts, so a collision fails with a message, not a log line.

A server that dies on "address already in use" only says so in its own log; checking first lets
`c360-stack up` name the port, the setting that moves it, and the process that holds it.
"""

from __future__ import annotations

import random
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

from harness.stack.errors import PortInUseError, StackError


@dataclass(frozen=True)
class PortSpec:
    """One TCP port a server listens on, and the environment variable that changes it."""

    port: int
    env_var: str


def port_is_free(host: str, port: int) -> bool:
    """True when a server could bind `host:port` now.

    SO_REUSEADDR mirrors what PostgreSQL and Go servers do, so lingering TIME_WAIT connections
    of a server that just stopped do not count as "taken"; a listener does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_holder(port: int) -> str | None:
    """Describe the process listening on `port` ("pid 123 (nginx: ...)"), when the OS tells us."""
    try:
        connections = psutil.net_connections(kind="inet")
    except psutil.Error:  # not allowed to look (non-root on some systems)
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            try:
                process = psutil.Process(conn.pid)
                command = " ".join(process.cmdline())[:120] or process.name()
            except psutil.Error:
                return f"pid {conn.pid}"
            return f"pid {conn.pid} ({command})"
    return None


_BIND_FAILURE = re.compile(
    r"could not bind .*?address already in use"  # PostgreSQL (no port in the message)
    r"|port (?P<port>\d+) for .*? is not available"  # weed mini's own pre-check
    r"|listen tcp [^\s]*?:(?P<port2>\d+).*?address already in use",  # Go's net.Listen
    re.IGNORECASE,
)


def bind_failure(log_text: str, host: str, specs: list[PortSpec]) -> PortInUseError | None:
    """Turn a server's "address already in use" log line into a PortInUseError.

    Catches what the pre-start check cannot: a port taken between the check and the server's bind.
    PostgreSQL's message does not name the port, so a single-port server's spec is used then.
    """
    for match in _BIND_FAILURE.finditer(log_text):
        named = match.group("port") or match.group("port2")
        port = int(named) if named else None
        for spec in specs:
            if port == spec.port or (port is None and len(specs) == 1):
                return PortInUseError(spec.port, host, spec.env_var, port_holder(spec.port))
    return None


def ensure_distinct(specs: list[PortSpec]) -> None:
    """Two settings naming the same port would make one server fail to bind: refuse that early."""
    seen: dict[int, str] = {}
    for spec in specs:
        if spec.port in seen:
            raise StackError(
                f"{spec.env_var} and {seen[spec.port]} both name port {spec.port}; give each its own"
            )
        seen[spec.port] = spec.env_var


def ensure_ports_free(host: str, specs: list[PortSpec]) -> None:
    """Raise :class:`PortInUseError` for the first port in `specs` that is taken."""
    for spec in specs:
        if not port_is_free(host, spec.port):
            raise PortInUseError(spec.port, host, spec.env_var, port_holder(spec.port))


# Ports handed out to outgoing connections; a port picked here could be taken as a client's local
# port (on a busy machine, within milliseconds) before our server binds it. Test stacks pick below.
_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PICK = 10000


def _ephemeral_start() -> int:
    try:
        return int(_EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux default


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports, free right now, from below the ephemeral range.

    Chosen at random (so concurrent sessions rarely pick the same) and checked with a bind. Another
    process may still take one before our server binds it; `up` then raises PortInUseError and
    the caller can pick again (see isolated.start_isolated_stack).
    """
    low, high = _LOWEST_PICK, _ephemeral_start() - 1
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randint(low, high)
        if port not in chosen and port_is_free(host, port):
            chosen.append(port)
    return chosen
