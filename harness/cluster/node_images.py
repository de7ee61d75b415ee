"""The node's own images (pod sandbox, CoreDNS, busybox), made from binaries built or installed here.

Named under ``localhost/c360-cluster/`` so that nobody mistakes them for the upstream images they
stand in for, and tagged with the version of what they contain.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.cluster.build import build_pause
from harness.cluster.components import COREDNS, KUBERNETES
from harness.cluster.oci import ImageFile, ImageSpec, write_image_archive
from harness.gobuild import build_go

REPOSITORY = "localhost/c360-cluster"
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static


def busybox_version() -> str:
    first = subprocess.run([str(BUSYBOX)], capture_output=True, text=True, check=False).stdout.splitlines()
    # "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."
    return first[0].split()[1] if first else "unknown"


PAUSE_IMAGE = f"{REPOSITORY}/pause:{KUBERNETES.version}"
COREDNS_IMAGE = f"{REPOSITORY}/coredns:{COREDNS.version}"


def busybox_image() -> str:
    return f"{REPOSITORY}/busybox:{busybox_version()}"


def pause_spec() -> ImageSpec:
    return ImageSpec(
        PAUSE_IMAGE, (ImageFile("pause", source=build_pause()),), entrypoint=("/pause",), user="65535:65535"
    )


def coredns_spec() -> ImageSpec:
    binary = build_go(COREDNS) / "coredns"
    return ImageSpec(COREDNS_IMAGE, (ImageFile("coredns", source=binary),), entrypoint=("/coredns",))


def busybox_spec() -> ImageSpec:
    """busybox with every applet linked (sh, mkdir, rm for the provisioner's helper; wget, nc, httpd ...)."""
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    return ImageSpec(
        busybox_image(),
        (ImageFile("bin/busybox", source=BUSYBOX),),
        entrypoint=("/bin/sh",),
        # As upstream busybox: root by default (the provisioner's helper creates folders on the node);
        # the tests' pods name their non-root user themselves.
        user="0:0",
        symlinks={f"bin/{applet}": "busybox" for applet in applets if applet != "busybox"},
        directories={"tmp": 0o1777},
    )


def write_node_images(folder: Path) -> list[Path]:
    """Write the three archives into ``folder`` and return their paths."""
    return [
        write_image_archive(spec, folder / f"{spec.reference.rsplit('/', 1)[-1].replace(':', '-')}.tar")
        for spec in (pause_spec(), coredns_spec(), busybox_spec())
    ]
