"""Helpers of the container tier: run a step's container the way its Kubernetes pod would.

The runner reproduces what a task pod gets (customer360/tasks/pod_spec.py): the numeric
non-root user, a read-only root filesystem with a writable ``/tmp`` of the pod's size limit, all
capabilities dropped and no privilege escalation, the task env plus the pod env. ``--network host``
stands in for the cluster network: the session's embedded PostgreSQL and S3 listen on 127.0.0.1.
(A module with a unique name rather than conftest.py: tests import from it.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from customer360.settings import Settings
from customer360.tasks import pod_spec

DOCKER = shutil.which("docker")
# Generous: a dbt build of the marts or an `airflow db migrate` on 2 cores takes minutes, not hours.
RUN_TIMEOUT_SECONDS = 900
# The task ConfigMap of the chart sets these to the dbt image's own paths; dropping the host's values
# lets the image's ENV (asserted equal to the chart's defaults in test_dockerfiles.py) apply.
HOST_ONLY_ENV = ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_TARGET")
TASK_USER = f"{pod_spec.RUN_AS_USER}:{pod_spec.RUN_AS_GROUP}"


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI, capturing its output; never raises on a non-zero exit."""
    if DOCKER is None:
        raise RuntimeError("no docker CLI on PATH")
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class ImageRefs:
    """The three images under test, as the task factory and the chart name them."""

    pipeline: str
    dbt: str
    airflow: str


def image_config(ref: str) -> dict:
    """`docker image inspect` Config of an image (User, Env, Entrypoint, Cmd, WorkingDir)."""
    result = docker("image", "inspect", "--format", "{{json .Config}}", ref)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout)


@dataclass
class PodLikeRunner:
    """Runs one argv in an image with a task pod's restrictions; returns the finished process."""

    tmp_dir: Path

    def run(
        self,
        image: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        user: str | None = TASK_USER,
        read_only: bool = True,
        tmpfs: Sequence[str] = (pod_spec.TMP_MOUNT_PATH,),
        label: str = "smoke",
    ) -> subprocess.CompletedProcess[str]:
        """``user=None`` keeps the image's own USER (what a pod without runAsUser gets)."""
        # Credentials go through an env file (mode 0600), not the command line that `ps` shows.
        env_file = self.tmp_dir / f"{label}.env"
        env_file.touch(mode=0o600)
        env_file.write_text("".join(f"{key}={value}\n" for key, value in (env or {}).items()))
        args = ["run", "--rm", "--network", "host", "--cap-drop", "ALL"]
        args += ["--security-opt", "no-new-privileges", "--env-file", str(env_file)]
        args += ["--label", f"customer360/step={label}"]
        if user is not None:
            args += ["--user", user]
        if read_only:
            args.append("--read-only")
        size = pod_spec.TMP_SIZE_LIMIT.removesuffix("i").lower()  # "1Gi" -> "1g"
        for path in tmpfs:
            # The pod's emptyDir: its size limit; mode 1777 so any numeric user can write, as in a pod.
            args += ["--tmpfs", f"{path}:rw,size={size},mode=1777"]
        return docker(*args, image, *argv, timeout=RUN_TIMEOUT_SECONDS)


def task_env(settings: Settings) -> dict[str, str]:
    """What a task pod's ConfigMap + Secret give, for the session's stack (host paths dropped)."""
    env = settings.task_env()
    for key in HOST_ONLY_ENV:
        env.pop(key, None)
    return env


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """Failure message: the command and the tail of its output."""
    tail = (result.stdout + result.stderr)[-4000:]
    return f"exit {result.returncode}: {' '.join(map(str, result.args[-6:]))}\n{tail}"
