"""Where a task pod's configuration and credentials come from: the one module of Secret references.

Pods never receive a credential in their spec. The Helm chart renders the ConfigMap (hosts, ports,
bucket, dbt paths) and the Secret (passwords and keys) whose names ``Settings`` carries, and each
pod imports both whole with ``envFrom``, so the keys are the same ``C360_*`` names as
``Settings.task_env()`` produces locally.
"""

from __future__ import annotations

from kubernetes.client import models as k8s


def task_env_from(configmap_name: str, secret_name: str) -> list[k8s.V1EnvFromSource]:
    """ConfigMap first, then Secret, so a key present in both takes the Secret's value."""
    return [
        k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name=configmap_name)),
        k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name=secret_name)),
    ]
