"""Small helpers the cluster tests share: manifests for busybox pods, apply, wait, exec, logs.

Every pod here runs busybox (the node's own image, already imported) as a non-root user with the
restricted security context, so the same manifests work in a namespace that enforces the
``restricted`` Pod Security level.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from harness.cluster.lifecycle import kubectl
from harness.cluster.settings import ClusterSettings

Manifest = dict[str, Any]

RESTRICTED_CONTAINER = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod(
    name: str, image: str, command: list[str], labels: dict[str, str] | None = None, **spec: Any
) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": command,
                    "securityContext": RESTRICTED_CONTAINER,
                    **spec.pop("container", {}),
                }
            ],
            **spec,
        },
    }


def template(manifest: Manifest) -> Manifest:
    """A pod manifest as a workload's pod template (metadata and spec only)."""
    return {"metadata": manifest["metadata"], "spec": manifest["spec"]}


class Namespace:
    """A throw-away namespace and the kubectl calls the tests make in it."""

    def __init__(self, settings: ClusterSettings, name: str) -> None:
        self.settings = settings
        self.name = name

    def kubectl(self, *args: str, check: bool = True, input: str | None = None, timeout: float = 120) -> str:
        return kubectl(
            self.settings, "-n", self.name, *args, check=check, input=input, timeout=timeout
        ).stdout

    def apply(self, *manifests: Manifest) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))

    def wait(self, what: str, condition: str, timeout: int = 120) -> None:
        self.kubectl("wait", f"--for={condition}", what, f"--timeout={timeout}s", timeout=timeout + 10)

    def exec(self, pod_name: str, *command: str, timeout: float = 60) -> tuple[int, str]:
        result = kubectl(
            self.settings, "-n", self.name, "exec", pod_name, "--", *command, check=False, timeout=timeout
        )
        return result.returncode, result.stdout + result.stderr

    def get(self, kind: str, name: str) -> Manifest:
        return json.loads(self.kubectl("get", kind, name, "-o", "json"))

    def wait_phase(self, pod_name: str, phases: set[str], timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            phase = self.get("pod", pod_name)["status"].get("phase", "")
            if phase in phases:
                return phase
            time.sleep(1)
        raise TimeoutError(f"pod {pod_name} not in {phases} after {timeout} s")


@contextmanager
def namespace(
    settings: ClusterSettings, prefix: str, labels: dict[str, str] | None = None
) -> Iterator[Namespace]:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}
    kubectl(settings, "apply", "-f", "-", input=yaml.safe_dump(manifest))
    try:
        yield Namespace(settings, name)
    finally:
        kubectl(settings, "delete", "namespace", name, "--wait=false", check=False)
