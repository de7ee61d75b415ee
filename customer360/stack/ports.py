"""Port checks done before a server starts, so a collision fails with a message, not a log line.

A server that dies on "address already in use" only says so in its own log; checking first lets
`c360-stack up` name the port, the setting that moves it, and the process that holds it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import psutil

from customer360.stack.errors import PortInUseError, StackError


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


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections on `host:port`."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


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


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports that are free right now (the OS picks them).

    All sockets stay bound until every port is chosen, so the ports are distinct; another process
    could still take one before our server binds it, which `up` then reports as PortInUseError.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
