"""Exceptions of the embedded stack; their messages are shown to the user as they are."""

from __future__ import annotations


class StackError(RuntimeError):
    """A server could not be started, stopped or reached; the message says what to do."""


class PortInUseError(StackError):
    """A configured port is held by something that is not this stack's server."""

    def __init__(self, port: int, host: str, env_var: str, holder: str | None) -> None:
        self.port = port
        self.env_var = env_var
        self.holder = holder
        held_by = f" by {holder}" if holder else " (holder unknown)"
        super().__init__(
            f"port {port} on {host} is already in use{held_by}; "
            f"set {env_var} to a free port (or stop what holds it) and run again"
        )
