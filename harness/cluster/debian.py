"""Debian packages the node needs (containerd, runc, CNI plugins, iptables, ...), installed when missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.cluster.components import DEBIAN_PACKAGES
from harness.cluster.errors import ClusterError


def missing_packages() -> list[str]:
    return [package for package, marker in DEBIAN_PACKAGES.items() if not Path(marker).exists()]


def ensure_packages() -> list[str]:
    """Install what is missing with apt (idempotent); returns what was installed."""
    missing = missing_packages()
    if not missing:
        return []
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ClusterError(
                f"apt-get could not install {' '.join(missing)}: {result.stderr.strip()[-300:]}"
            )
    still = missing_packages()
    if still:
        raise ClusterError(f"installed {' '.join(missing)} but {' '.join(still)} still lack their files")
    return missing
