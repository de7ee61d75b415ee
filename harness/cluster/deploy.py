"""Deploy the platform onto the local cluster exactly as ``tilt up`` would, without Tilt.

``tilt`` cannot be installed on these machines, so this reads what the Tiltfile declares (through
its offline evaluation, :mod:`harness.tilt`): the images with their Dockerfiles, build contexts and
build arguments, and the values files it renders the chart with. It then builds those images with
the project's own build script, adds the offline stand-ins and ``values-offline.yaml`` (the only
difference this cluster needs: it can pull no public image), imports everything into the node and
runs ``helm upgrade --install --wait``. What the cluster tier tests is therefore what Tilt deploys.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

import yaml

from customer360.settings import PROJECT_ROOT
from harness.cluster import lifecycle
from harness.cluster.errors import ClusterError
from harness.cluster.settings import ClusterSettings
from harness.images import standins
from harness.tilt import evaluate_tiltfile

CHART = "charts/customer360"
RELEASE = "customer360"
NAMESPACE = "customer360"
HELM = PROJECT_ROOT / ".tools" / "bin" / "helm"
IMAGE_TAG = "0.1.0"  # the chart's images.<name>.tag
INSTALL_TIMEOUT = "15m"


@dataclass(frozen=True)
class TiltDeclaration:
    """What the Tiltfile builds and deploys: image name -> build, the chart's values files, and the
    namespace it applies itself (labelled for Pod Security) before the chart."""

    builds: dict[str, dict[str, object]]
    values_files: tuple[str, ...]
    namespaces: tuple[str, ...] = ()

    def image_folders(self) -> list[str]:
        """``images/<name>/`` of each image, checked to be what scripts/build-images.sh builds."""
        folders = []
        for ref, build in self.builds.items():
            name = ref.rsplit("/", 1)[-1]
            if build.get("context") != "." or build.get("dockerfile") != f"images/{name}/Dockerfile":
                raise ClusterError(
                    f"the Tiltfile builds {ref} from {build.get('dockerfile')} in {build.get('context')!r}, "
                    "which scripts/build-images.sh does not: make them agree"
                )
            folders.append(name)
        return folders

    def base_images(self) -> set[str]:
        return {str(b.get("build_args", {}).get("BASE_IMAGE", "")) for b in self.builds.values()}  # type: ignore[union-attr]


def tilt_declaration(base_image: str = standins.OFFLINE_BASE) -> TiltDeclaration:
    run = evaluate_tiltfile(env={"C360_BASE_IMAGE": base_image})
    helm = next(
        c["command"]
        for c in run.local_commands
        if isinstance(c["command"], list) and "template" in c["command"]
    )
    values = tuple(helm[i + 1] for i, arg in enumerate(helm) if arg == "--values")
    applied = [
        doc for c in run.local_commands if c.get("stdin") for doc in yaml.safe_load_all(c["stdin"]) if doc
    ]
    namespaces = tuple(yaml.safe_dump(doc) for doc in applied if doc["kind"] == "Namespace")
    return TiltDeclaration(builds=run.docker_builds, values_files=values, namespaces=namespaces)


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, cwd=PROJECT_ROOT, env={**os.environ, **(env or {})}, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{what} failed (exit {result.returncode})")


def build_images(declaration: TiltDeclaration) -> list[str]:
    """The Tiltfile's images and the stand-ins, built offline; returns every reference to load."""
    (base,) = declaration.base_images()
    _run([str(PROJECT_ROOT / "scripts" / "start-dockerd.sh")], "starting dockerd")
    _run(["make", "--no-print-directory", "base-image"], "building the offline base image")
    folders = declaration.image_folders()
    _run(
        [str(PROJECT_ROOT / "scripts" / "build-images.sh"), *folders],
        "building the Tiltfile's images",
        env={"BASE_IMAGE": base, "IMAGE_TAG": IMAGE_TAG},
    )
    for standin in standins.STANDINS:
        standins.build(standin, base)
    return [f"customer360/{name}:{IMAGE_TAG}" for name in folders] + [
        s.reference() for s in standins.STANDINS
    ]


def helm(settings: ClusterSettings, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(HELM), *args],
        cwd=PROJECT_ROOT,
        env=lifecycle.kubectl_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise ClusterError(f"helm {' '.join(args[:2])} failed: {result.stderr.strip()[-1500:]}")
    return result


def values_args(declaration: TiltDeclaration) -> list[str]:
    files = [*declaration.values_files, str(standins.OFFLINE_VALUES.relative_to(PROJECT_ROOT))]
    return [arg for path in files for arg in ("--values", path)]


def install(settings: ClusterSettings, declaration: TiltDeclaration, *extra: str) -> float:
    """``helm upgrade --install`` of the release with Tilt's values + values-offline.yaml; seconds taken."""
    began = time.monotonic()
    for namespace in declaration.namespaces:
        lifecycle.kubectl(settings, "apply", "-f", "-", input=namespace)
    helm(
        settings,
        "upgrade",
        "--install",
        RELEASE,
        CHART,
        "--namespace",
        NAMESPACE,
        "--create-namespace",
        *values_args(declaration),
        *extra,
        "--wait",
        # The migration and bucket Jobs are part of "installed": the DAGs need both.
        "--wait-for-jobs",
        "--timeout",
        INSTALL_TIMEOUT,
    )
    return time.monotonic() - began


@dataclass(frozen=True)
class DeployReport:
    build_seconds: float
    load_seconds: float
    install_seconds: float


def deploy(settings: ClusterSettings, build: bool = True) -> DeployReport:
    """Build (unless told not to), load and install: the platform up on the running cluster."""
    declaration = tilt_declaration()
    began = time.monotonic()
    if build:
        references = build_images(declaration)
    else:
        references = [f"customer360/{n}:{IMAGE_TAG}" for n in declaration.image_folders()]
        references += [s.reference() for s in standins.STANDINS]
    built = time.monotonic()
    lifecycle.load_images(settings, references)
    loaded = time.monotonic()
    install_seconds = install(settings, declaration)
    return DeployReport(built - began, loaded - built, install_seconds)
