"""The pod sandbox's ``pause`` binary, compiled from the Kubernetes module's own C source."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.cache import cache_root, recipe_digest
from harness.cluster.components import KUBERNETES
from harness.gobuild import module_dir


def build_pause() -> Path:
    """The pause binary of the sandbox image, compiled from the Kubernetes module's own C source."""
    target = (
        cache_root() / "pause" / f"pause-{KUBERNETES.version}-{recipe_digest('gcc -Os -static')}" / "pause"
    )
    if target.is_file():
        return target
    source = module_dir(KUBERNETES) / "build" / "pause" / "linux" / "pause.c"
    partial = target.with_suffix(".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "gcc",
            "-Os",
            "-Wall",
            "-Werror",
            "-static",
            f"-DVERSION={KUBERNETES.version}",
            "-o",
            str(partial),
            str(source),
        ],
        check=True,
    )
    subprocess.run(["strip", str(partial)], check=True)
    partial.rename(target)
    return target
