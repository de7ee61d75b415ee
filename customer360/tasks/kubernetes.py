"""Kubernetes runtime: a step's argv as a pod (``C360_TASK_RUNTIME=kubernetes``).

A thin variant of :class:`StepOperatorBase` on top of ``KubernetesPodOperator``: it only maps the
step config and the pod defaults (:mod:`customer360.tasks.pod_defaults`) onto the operator's
arguments. Only non-secret settings are read here (images, namespace, Secret and ConfigMap names),
so building the task at DAG-parse time never needs credentials.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

from customer360.settings import Settings
from customer360.tasks import pod_defaults
from customer360.tasks._common import load_settings
from customer360.tasks.base import StepOperatorBase
from customer360.tasks.config import StepConfig
from customer360.tasks.constants import ImageKind, TaskRuntime
from customer360.tasks.secret_refs import task_env_from


def step_image(step: StepConfig, settings: Settings) -> str:
    """The pinned image of a step, from settings (``C360_PIPELINE_IMAGE`` / ``C360_DBT_IMAGE``)."""
    return settings.dbt_image if step.image is ImageKind.DBT else settings.pipeline_image


class KubernetesStepOperator(StepOperatorBase, KubernetesPodOperator):
    """Run a step's argv in a pod with the restricted security context and the task Secret."""

    runtime = TaskRuntime.KUBERNETES

    def __init__(self, *, step: StepConfig, settings: Settings | None = None, **kwargs: Any) -> None:
        settings = settings or load_settings()
        pod_kwargs: dict[str, Any] = {
            "name": step.step_label,
            "namespace": settings.k8s_namespace,
            "image": step_image(step, settings),
            "image_pull_policy": pod_defaults.IMAGE_PULL_POLICY,
            "cmds": [step.argv[0]],
            "arguments": list(step.argv[1:]),
            "env_vars": [
                k8s.V1EnvVar(name=k, value=v) for k, v in pod_defaults.pod_env(step, settings).items()
            ],
            "env_from": task_env_from(settings.task_configmap_name, pod_defaults.secret_name(step, settings)),
            "container_resources": pod_defaults.container_resources(step),
            "security_context": pod_defaults.pod_security_context(),
            "container_security_context": pod_defaults.container_security_context(),
            "volumes": pod_defaults.pod_volumes(step, settings),
            "volume_mounts": pod_defaults.pod_volume_mounts(step, settings),
            "service_account_name": settings.task_service_account_name,
            "labels": pod_defaults.pod_labels(step),
            "automount_service_account_token": False,  # steps never talk to the Kubernetes API
            "on_finish_action": pod_defaults.ON_FINISH_ACTION,
            "get_logs": True,
            "startup_timeout_seconds": pod_defaults.STARTUP_TIMEOUT_SECONDS,
        }
        pod_kwargs.update(kwargs)
        super().__init__(step=step, **pod_kwargs)
