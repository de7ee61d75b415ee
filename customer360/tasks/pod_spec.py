"""Everything a task pod gets besides its command: the one module of pod defaults.

Also where a pod's configuration and credentials come from: pods never receive a credential in
their spec. The Helm chart renders the ConfigMap (hosts, ports, bucket, dbt paths) and the Secret
(passwords and keys) whose names ``Settings`` carries, and each pod imports both whole with
``envFrom``, so the keys are the same ``C360_*`` names as ``Settings.task_env()`` produces locally.

The restricted security context follows the Kubernetes "restricted" Pod Security Standard: non-root,
no privilege escalation, all capabilities dropped, the runtime's default seccomp profile and a
read-only root filesystem. Because the root filesystem is read-only, ``/tmp`` is an emptyDir and
every tool that writes (dbt's target/ and logs/, Python caches) is pointed there by env.
"""

from __future__ import annotations

from kubernetes.client import models as k8s

from customer360.settings import Settings
from customer360.tasks.steps import PART_OF_LABEL, PART_OF_VALUE, STEP_LABEL, ImageKind, StepConfig

# Numeric ids, so the kubelet can verify runAsNonRoot without reading the image's /etc/passwd.
RUN_AS_USER = 10001
RUN_AS_GROUP = 10001
FS_GROUP = 10001

TMP_VOLUME_NAME = "tmp"
TMP_MOUNT_PATH = "/tmp"
TMP_SIZE_LIMIT = "1Gi"
DOCS_VOLUME_NAME = "dbt-docs"

STARTUP_TIMEOUT_SECONDS = 300  # first pull of a large image on a cold node
# Every pod stays for `kubectl logs -l customer360/step=...`; the chart's pod-reaper CronJob deletes
# succeeded ones after a day and failed ones after a week (customer360/tasks/pod_reaper.py).
ON_FINISH_ACTION = "keep_pod"
IMAGE_PULL_POLICY = "IfNotPresent"  # images are pinned by tag and side-loaded into kind

# Writable locations under the emptyDir for a read-only root filesystem.
POD_ENV: dict[str, str] = {"HOME": TMP_MOUNT_PATH, "PYTHONDONTWRITEBYTECODE": "1"}
DBT_POD_ENV: dict[str, str] = {
    "DBT_TARGET_PATH": f"{TMP_MOUNT_PATH}/dbt/target",
    "DBT_LOG_PATH": f"{TMP_MOUNT_PATH}/dbt/logs",
}


def pod_labels(step: StepConfig) -> dict[str, str]:
    """Labels that let `kubectl logs -l customer360/step=<step>` find a step's pods."""
    return {PART_OF_LABEL: PART_OF_VALUE, STEP_LABEL: step.step_label}


def pod_security_context() -> k8s.V1PodSecurityContext:
    return k8s.V1PodSecurityContext(
        run_as_non_root=True,
        run_as_user=RUN_AS_USER,
        run_as_group=RUN_AS_GROUP,
        fs_group=FS_GROUP,
        seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
    )


def container_security_context() -> k8s.V1SecurityContext:
    return k8s.V1SecurityContext(
        run_as_non_root=True,
        run_as_user=RUN_AS_USER,
        run_as_group=RUN_AS_GROUP,
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        capabilities=k8s.V1Capabilities(drop=["ALL"]),
        seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
    )


def container_resources(step: StepConfig) -> k8s.V1ResourceRequirements:
    return k8s.V1ResourceRequirements(requests=step.resources.requests(), limits=step.resources.limits())


def _docs_volume_wanted(step: StepConfig, settings: Settings) -> bool:
    return step.publishes_docs and bool(settings.docs_pvc_name)


def pod_volumes(step: StepConfig, settings: Settings) -> list[k8s.V1Volume]:
    """An emptyDir ``/tmp`` for every pod; the docs volume (a PVC) for the docs step, if the chart has one."""
    volumes = [
        k8s.V1Volume(name=TMP_VOLUME_NAME, empty_dir=k8s.V1EmptyDirVolumeSource(size_limit=TMP_SIZE_LIMIT))
    ]
    if _docs_volume_wanted(step, settings):
        volumes.append(
            k8s.V1Volume(
                name=DOCS_VOLUME_NAME,
                persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
                    claim_name=settings.docs_pvc_name
                ),
            )
        )
    return volumes


def pod_volume_mounts(step: StepConfig, settings: Settings) -> list[k8s.V1VolumeMount]:
    mounts = [k8s.V1VolumeMount(name=TMP_VOLUME_NAME, mount_path=TMP_MOUNT_PATH)]
    if _docs_volume_wanted(step, settings):
        mounts.append(k8s.V1VolumeMount(name=DOCS_VOLUME_NAME, mount_path=settings.docs_mount_path))
    return mounts


def pod_env(step: StepConfig, settings: Settings) -> dict[str, str]:
    """Non-secret env a pod adds on top of its ConfigMap and Secret; the step's own env wins."""
    env = dict(POD_ENV)
    if step.image is ImageKind.DBT:
        env.update(DBT_POD_ENV)
    if _docs_volume_wanted(step, settings):
        # The docs server serves this volume: the site (index.html, manifest, catalog) goes there.
        env["DBT_TARGET_PATH"] = settings.docs_mount_path
    env.update(step.env)
    return env


def secret_name(step: StepConfig, settings: Settings) -> str:
    """dbt pods log in with the dbt role's Secret when the chart provides one (least privilege)."""
    if step.image is ImageKind.DBT and settings.dbt_task_secret_name:
        return settings.dbt_task_secret_name
    return settings.task_secret_name


def step_image(step: StepConfig, settings: Settings) -> str:
    """The pinned image of a step, from settings (``C360_PIPELINE_IMAGE`` / ``C360_DBT_IMAGE``)."""
    return settings.dbt_image if step.image is ImageKind.DBT else settings.pipeline_image


def task_env_from(configmap_name: str, secret_name: str) -> list[k8s.V1EnvFromSource]:
    """ConfigMap first, then Secret, so a key present in both takes the Secret's value."""
    return [
        k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name=configmap_name)),
        k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name=secret_name)),
    ]
