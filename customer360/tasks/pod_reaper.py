"""Delete finished task pods once they have been kept long enough to be read.

Task pods are kept when they finish (``on_finish_action=keep_pod``) so that, after a run,
``kubectl logs -l customer360/step=<task>`` shows what each step printed, as the README promises.
Kubernetes has no time-to-live for bare pods, so the chart runs this as a CronJob: it deletes
succeeded task pods older than one retention and failed ones older than another (longer, for
post-mortems). Only pods with both task labels are ever touched.

    python -m customer360.tasks.pod_reaper --succeeded-hours 24 --failed-hours 168
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from customer360.tasks.steps import PART_OF_LABEL, PART_OF_VALUE, STEP_LABEL

SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
TASK_POD_SELECTOR = f"{PART_OF_LABEL}={PART_OF_VALUE},{STEP_LABEL}"


@dataclass(frozen=True)
class FinishedPod:
    name: str
    phase: str  # Succeeded or Failed
    finished_at: dt.datetime


def expired(
    pods: Iterable[FinishedPod], now: dt.datetime, succeeded_for: dt.timedelta, failed_for: dt.timedelta
) -> list[FinishedPod]:
    """The pods whose retention has passed, oldest first."""
    keep = {"Succeeded": succeeded_for, "Failed": failed_for}
    return sorted(
        (pod for pod in pods if pod.phase in keep and now - pod.finished_at > keep[pod.phase]),
        key=lambda pod: pod.finished_at,
    )


def _finished_at(pod: object) -> dt.datetime | None:
    statuses = pod.status.container_statuses or []  # type: ignore[attr-defined]
    ends = [s.state.terminated.finished_at for s in statuses if s.state and s.state.terminated]
    return max(ends) if ends else None


def finished_task_pods(core: object, namespace: str) -> list[FinishedPod]:
    pods = core.list_namespaced_pod(namespace, label_selector=TASK_POD_SELECTOR).items  # type: ignore[attr-defined]
    found = []
    for pod in pods:
        finished = _finished_at(pod)
        if pod.status.phase in ("Succeeded", "Failed") and finished is not None:
            found.append(FinishedPod(pod.metadata.name, pod.status.phase, finished))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--succeeded-hours", type=float, default=24.0, help="keep succeeded pods this long")
    parser.add_argument("--failed-hours", type=float, default=168.0, help="keep failed pods this long")
    parser.add_argument("--namespace", default=None, help="default: the pod's own namespace")
    args = parser.parse_args(argv)

    from kubernetes import client, config

    config.load_incluster_config()
    namespace = args.namespace or Path(SERVICE_ACCOUNT_NAMESPACE).read_text().strip()
    core = client.CoreV1Api()
    now = dt.datetime.now(dt.UTC)
    doomed = expired(
        finished_task_pods(core, namespace),
        now,
        dt.timedelta(hours=args.succeeded_hours),
        dt.timedelta(hours=args.failed_hours),
    )
    for pod in doomed:
        core.delete_namespaced_pod(pod.name, namespace)
        print(
            f"deleted {pod.phase.lower()} task pod {pod.name} (finished {pod.finished_at:%Y-%m-%dT%H:%M:%SZ})"
        )
    print(f"{len(doomed)} task pod(s) deleted in {namespace}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
