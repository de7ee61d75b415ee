"""The one exception of the cluster harness: its message is the one line a user reads."""

from __future__ import annotations


class ClusterError(RuntimeError):
    """Something stops the cluster from being built, started, used or stopped; says what to do."""
