"""The per-machine cache of slow builds (Go binaries, images), shared by every clone.

Builds are keyed by name, version and a digest of their recipe, so a second clone (or CI on the
same machine) reuses them, and a change of recipe (flags, patches) builds afresh instead of
reusing a stale binary. ``C360_CACHE_DIR`` moves the cache; the default follows XDG.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_root() -> Path:
    """``$C360_CACHE_DIR``, else ``$XDG_CACHE_HOME/customer360``, else ``~/.cache/customer360``."""
    explicit = os.environ.get("C360_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "customer360"


def recipe_digest(recipe: object) -> str:
    """Short, stable digest of a JSON-able build recipe."""
    encoded = json.dumps(recipe, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:12]


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock, so two clones never build the same thing at once."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
