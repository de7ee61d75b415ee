"""Tiny OCI images for the cluster's own pods, written without Docker or a registry.

The node needs three images nobody can pull here: the pod sandbox (``pause``, compiled from the
Kubernetes module's C source), CoreDNS (a static Go binary) and a busybox for the local-path
provisioner's helper pods and the smoke tests. Each is one uncompressed layer in an OCI image
layout archive, byte-for-byte reproducible (fixed mtimes and owners), which ``ctr images import``
takes as it takes a ``docker save`` archive. The archive carries the image's fully qualified name
(``io.containerd.image.name``): without it the kubelet would not find the image.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"


@dataclass(frozen=True)
class ImageFile:
    """A file in the image: its content from ``source`` (a host file) or ``data``."""

    path: str
    source: Path | None = None
    data: bytes = b""
    mode: int = 0o755


@dataclass(frozen=True)
class ImageSpec:
    """Everything that makes the image: name, files, links, directories and the run config."""

    reference: str
    files: tuple[ImageFile, ...]
    entrypoint: tuple[str, ...]
    user: str = "65532:65532"
    symlinks: dict[str, str] = field(default_factory=dict)
    directories: dict[str, int] = field(default_factory=dict)
    env: tuple[str, ...] = ("PATH=/bin",)


def _add(archive: tarfile.TarFile, info: tarfile.TarInfo, data: bytes | None = None) -> None:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    archive.addfile(info, io.BytesIO(data) if data is not None else None)


def _parents(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def layer_tar(spec: ImageSpec) -> bytes:
    """The image's single layer, entries sorted so that equal inputs give equal bytes."""
    directories = dict(spec.directories)
    for path in [f.path for f in spec.files] + list(spec.symlinks):
        for parent in _parents(path):
            directories.setdefault(parent, 0o755)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for directory in sorted(directories):
            info = tarfile.TarInfo(directory.strip("/") + "/")
            info.type, info.mode = tarfile.DIRTYPE, directories[directory]
            _add(archive, info)
        for item in sorted(spec.files, key=lambda f: f.path):
            data = item.source.read_bytes() if item.source else item.data
            info = tarfile.TarInfo(item.path.strip("/"))
            info.size, info.mode = len(data), item.mode
            _add(archive, info, data)
        for link, target in sorted(spec.symlinks.items()):
            info = tarfile.TarInfo(link.strip("/"))
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
            _add(archive, info)
    return buffer.getvalue()


def _blob(archive: tarfile.TarFile, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size, info.mode = len(data), 0o644
    _add(archive, info, data)
    return f"sha256:{digest}"


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def write_image_archive(spec: ImageSpec, target: Path) -> Path:
    """Write ``spec`` as an OCI image layout tar at ``target``; returns ``target``."""
    layer = layer_tar(spec)
    config = _json(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": list(spec.entrypoint), "User": spec.user, "Env": list(spec.env)},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"]},
        }
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with tarfile.open(partial, mode="w", format=tarfile.PAX_FORMAT) as archive:
        config_digest = _blob(archive, config)
        layer_digest = _blob(archive, layer)
        manifest = _json(
            {
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config)},
                "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest, "size": len(layer)}],
            }
        )
        manifest_digest = _blob(archive, manifest)
        tag = spec.reference.rsplit(":", 1)[-1]
        index = _json(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": MEDIA_MANIFEST,
                        "digest": manifest_digest,
                        "size": len(manifest),
                        "annotations": {
                            "io.containerd.image.name": spec.reference,
                            "org.opencontainers.image.ref.name": tag,
                        },
                    }
                ],
            }
        )
        for name, data in (("oci-layout", _json({"imageLayoutVersion": "1.0.0"})), ("index.json", index)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            _add(archive, info, data)
    partial.rename(target)
    return target
