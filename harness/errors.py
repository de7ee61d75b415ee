"""The harness's exceptions: each message is the one line a user reads, saying what to do."""

from __future__ import annotations


class HarnessError(RuntimeError):
    """Something stops the harness; the message says what and what to do about it."""


class BuildError(HarnessError):
    """A binary or image could not be built (the message names the log)."""
