"""Kubernetes runtime: a step's argv as a pod (``C360_TASK_RUNTIME=kubernetes``).

A thin variant of :class:`~customer360.tasks.operators.StepOperatorBase` on top of
``KubernetesPodOperator``: it only maps the step and the pod defaults
(:mod:`customer360.tasks.pod_spec`) onto the operator's arguments. Only non-secret settings are read
here (images, namespace, Secret and ConfigMap names), so building the task at DAG-parse time never
needs credentials.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

from customer360.settings import Settings, get_settings
from customer360.tasks import pod_spec
from customer360.tasks.operators import StepOperatorBase
from customer360.tasks.steps import StepConfig


class KubernetesStepOperator(StepOperatorBase, KubernetesPodOperator):
    """Run a step's argv in a pod with the restricted security context and the task Secret."""

    def __init__(self, *, step: StepConfig, settings: Settings | None = None, **kwargs: Any) -> None:
        settings = settings or get_settings()
        pod_kwargs: dict[str, Any] = {
            "name": step.step_label,
            "namespace": settings.k8s_namespace,
            "image": pod_spec.step_image(step, settings),
            "image_pull_policy": pod_spec.IMAGE_PULL_POLICY,
            "cmds": [step.argv[0]],
            "arguments": list(step.argv[1:]),
            "env_vars": [k8s.V1EnvVar(name=k, value=v) for k, v in pod_spec.pod_env(step, settings).items()],
            "env_from": pod_spec.task_env_from(
                settings.task_configmap_name, pod_spec.secret_name(step, settings)
            ),
            "container_resources": pod_spec.container_resources(step),
            "security_context": pod_spec.pod_security_context(),
            "container_security_context": pod_spec.container_security_context(),
            "volumes": pod_spec.pod_volumes(step, settings),
            "volume_mounts": pod_spec.pod_volume_mounts(step, settings),
            "service_account_name": settings.task_service_account_name,
            "labels": pod_spec.pod_labels(step),
            "automount_service_account_token": False,  # steps never talk to the Kubernetes API
            "on_finish_action": pod_spec.ON_FINISH_ACTION,
            "get_logs": True,
            "startup_timeout_seconds": pod_spec.STARTUP_TIMEOUT_SECONDS,
        }
        pod_kwargs.update(kwargs)
        super().__init__(step=step, **pod_kwargs)
