"""The pod reaper keeps finished task pods readable for their retention, then lets them go."""

from __future__ import annotations

import datetime as dt

from customer360.tasks.pod_reaper import TASK_POD_SELECTOR, FinishedPod, expired

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
DAY, WEEK = dt.timedelta(hours=24), dt.timedelta(hours=168)


def _pod(name: str, phase: str, hours_ago: float) -> FinishedPod:
    return FinishedPod(name, phase, NOW - dt.timedelta(hours=hours_ago))


def test_succeeded_pods_go_after_a_day_and_failed_ones_after_a_week() -> None:
    pods = [
        _pod("fresh-ok", "Succeeded", 23),
        _pod("old-ok", "Succeeded", 25),
        _pod("recent-failure", "Failed", 100),
        _pod("old-failure", "Failed", 200),
    ]
    assert [pod.name for pod in expired(pods, NOW, DAY, WEEK)] == ["old-failure", "old-ok"]


def test_only_pods_with_both_task_labels_are_selected() -> None:
    assert TASK_POD_SELECTOR == "app.kubernetes.io/part-of=customer360,customer360/step"
