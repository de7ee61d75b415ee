"""Where the embedded servers keep their files inside the state directory.

<state_dir>/credentials.json   generated passwords and keys (0600, git-ignored)
<state_dir>/postgres/data      PGDATA, owned by the non-root system user that runs PostgreSQL
<state_dir>/postgres/run       its Unix socket
<state_dir>/s3/                SeaweedFS volumes and filer metadata
<state_dir>/run/               weed.pid and weed's local sockets
<state_dir>/logs/              postgres.log, s3.log
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.settings import HarnessSettings

_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class StackPaths:
    """Every file and directory of one embedded stack, derived from its state directory."""

    state_dir: Path

    @classmethod
    def of(cls, settings: HarnessSettings) -> StackPaths:
        return cls(settings.state_dir.expanduser().resolve())

    @property
    def pg_root(self) -> Path:
        return self.state_dir / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg_root / "data"

    @property
    def s3_data(self) -> Path:
        return self.state_dir / "s3"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pg_log(self) -> Path:
        return self.logs_dir / "postgres.log"

    @property
    def s3_log(self) -> Path:
        return self.logs_dir / "s3.log"

    @property
    def weed_log_dir(self) -> Path:
        return self.logs_dir / "weed"

    @property
    def weed_pid_file(self) -> Path:
        return self.run_dir / "weed.pid"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / ".stack.lock"

    def socket_dir(self, name: str) -> Path:
        """A directory for Unix sockets: inside the state dir, or a short one in /tmp if that is too deep."""
        preferred = self.pg_root / "run" if name == "postgres" else self.run_dir
        if len(str(preferred)) + 24 <= _MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"c360-{digest}-{name}"


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a server log, formatted to append to an error message ("" if no log)."""
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {path} ---\n" + "\n".join(text)
