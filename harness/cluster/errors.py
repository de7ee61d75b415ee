"""The cluster harness's exception (a :class:`~harness.errors.HarnessError`)."""

from __future__ import annotations

from harness.errors import HarnessError


class ClusterError(HarnessError):
    """Something stops the cluster from being built, started, used or stopped; says what to do."""
