"""Headless Chromium for the screenshots and the browser tests: one launcher, one loopback server.

Why this exists: the machines have no Playwright browser download (``playwright install`` reaches a
CDN that is not reachable), so Playwright drives Debian's ``chromium`` package instead
(``make browser-deps``). The launch flags live here once, so the screenshot script and
``tests/browser`` cannot drift apart. The dbt docs site fetches ``manifest.json`` and
``catalog.json`` with XHR, which browsers refuse over ``file://``; :func:`serve_directory` serves a
``target/`` directory over HTTP on loopback for as long as a ``with`` block runs.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Playwright

# Debian's package; CHROMIUM_PATH points elsewhere (e.g. a distribution that calls it chromium-browser).
CHROMIUM_PATH = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))

# Headless, as root (no sandbox), and quiet: no GPU, no QUIC, no background calls home (the
# machines reach package registries only, and a stray request would only slow page loads down).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class ChromiumMissingError(RuntimeError):
    """Chromium is not installed where we look for it."""


def require_chromium() -> Path:
    """The Chromium executable, or a clear error that says how to install it."""
    if not CHROMIUM_PATH.exists():
        raise ChromiumMissingError(
            f"no Chromium at {CHROMIUM_PATH}: run `make browser-deps` (apt-get install chromium) "
            "or set CHROMIUM_PATH"
        )
    return CHROMIUM_PATH


def launch(playwright: Playwright) -> Browser:
    """Start headless Chromium from the system package with the project's flags."""
    return playwright.chromium.launch(executable_path=str(require_chromium()), args=list(CHROMIUM_ARGS))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files without a log line per request (the docs site asks for ~10 files per load)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_directory(directory: Path, host: str) -> Iterator[str]:
    """Serve ``directory`` over HTTP on ``host`` and a port the OS picks; yield the base URL.

    Port 0 so it never collides with ``make docs-serve`` or a concurrent test session.
    """
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="docs-http", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
