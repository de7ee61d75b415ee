"""The embedded runtime: a real PostgreSQL and a real S3 server on loopback, started detached.

`up()` / `down()` / `status()` in :mod:`harness.stack.stack` are the only way servers are
started, for the `c360-stack` CLI and for the pytest session fixtures alike.
"""

from harness.stack.errors import PortInUseError, StackError
from harness.stack.stack import StackStatus, down, status, up

__all__ = ["PortInUseError", "StackError", "StackStatus", "down", "status", "up"]
