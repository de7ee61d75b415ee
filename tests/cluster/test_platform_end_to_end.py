"""The platform on the real cluster, as a platform engineer would try it by hand, step by step.

1. what `tilt up` deploys (the Tiltfile's images, contexts and values, plus values-offline.yaml) is
   built offline, imported and `helm install --wait`-ed: every pod Ready, no restart;
2. the simulator DAG lands a dataset in the in-cluster lake and `customer360_elt`, triggered
   through the REST API as the UI's Trigger button does, runs green;
3. every task was a pod of its own, and `kubectl logs -l customer360/step=ingest-users` shows the
   loader's lines after the run;
4. `customer_360` in the cluster's warehouse equals the independent reference computation;
5. the Airflow UI in headless Chromium logs in with the Secret's password, shows the green run and
   a task's log, and still shows that log after the scheduler pod was replaced;
6. the docs server serves the site the run's docs pod wrote;
7. `helm upgrade` keeps every credential and all data, and a second run loads nothing and changes
   no mart; `helm uninstall` + `helm install` finds the kept data;
8. a failing dbt test fails `dbt_build_marts` as a pod, the docs step does not run, the kept failed
   pod's log names the test.

The tests share one installation and run in this order; each one states what it proves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg2
import pytest
from airflow.providers.cncf.kubernetes.pod_generator import make_safe_label_value
from platform_access import (
    NAMESPACE,
    RELEASE,
    TASKS_NAMESPACE,
    Installation,
    pods,
    port_forward,
    secret_data,
    secret_value,
)
from psycopg2.extras import RealDictCursor
from reference_360 import RawObject, assert_same_rows, customer_360

from customer360.tasks.steps import DBT_STEPS, ingest_steps
from harness.cluster import deploy, lifecycle

pytestmark = pytest.mark.cluster

ELT, NEW_DAY = "customer360_elt", "customer360_new_day"
STEPS = [step.step_label for step in (*ingest_steps(), *DBT_STEPS)]
RELEASE_SECRETS = [
    *((NAMESPACE, f"{RELEASE}-{name}") for name in ("warehouse", "lake", "airflow", "airflow-connections")),
    *((TASKS_NAMESPACE, f"{RELEASE}-{name}") for name in ("task-credentials", "task-credentials-dbt")),
]


@pytest.fixture
def warehouse(installed: Installation) -> Iterator[Any]:
    """A superuser connection to the warehouse through `kubectl port-forward`."""
    password = secret_value(installed.settings, f"{RELEASE}-warehouse", "postgres-password")
    with port_forward(installed.settings, f"svc/{RELEASE}-warehouse", 5432) as port:
        conn = psycopg2.connect(
            host="127.0.0.1", port=port, user="postgres", password=password, dbname="warehouse"
        )
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.close()


def _query(conn: Any, statement: str) -> list[dict[str, Any]]:
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(statement)
        return [dict(row) for row in cur.fetchall()]


def _marts_digest(conn: Any) -> str:
    rows = _query(
        conn, "select md5(string_agg(c::text, '|' order by customer_id)) as d from production.customer_360 c"
    )
    return rows[0]["d"]


def _release_pods(installation: Installation) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/instance={RELEASE}"
    return [*pods(installation.settings, selector), *pods(installation.settings, selector, TASKS_NAMESPACE)]


def _container_statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod["status"].get("initContainerStatuses", []), *pod["status"].get("containerStatuses", [])]


def _pod_restarts(installation: Installation) -> dict[str, int]:
    return {
        pod["metadata"]["name"]: sum(s.get("restartCount", 0) for s in _container_statuses(pod))
        for pod in _release_pods(installation)
    }


def _restart_evidence(installation: Installation) -> str:
    """Why each restarted container ended (its last state) and what it printed before it did."""
    evidence = []
    for pod in _release_pods(installation):
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        for status in _container_statuses(pod):
            if status.get("restartCount"):
                previous = installation.kubectl(
                    "logs",
                    name,
                    "-c",
                    status["name"],
                    "--previous",
                    "--tail=40",
                    check=False,
                    namespace=namespace,
                )
                evidence.append(f"{name}/{status['name']}: {json.dumps(status.get('lastState'))}\n{previous}")
    return "\n".join(evidence)


# ---- 1 --------------------------------------------------------------------------------------------
def test_1_install_brings_every_pod_ready_without_a_restart(installed: Installation) -> None:
    for pod in _release_pods(installed):
        phase = pod["status"]["phase"]
        if phase == "Succeeded":  # the migration and bucket Jobs
            continue
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}.get("Ready")
        assert phase == "Running" and ready == "True", (pod["metadata"]["name"], phase, ready)
    restarts = _pod_restarts(installed)
    assert restarts == dict.fromkeys(restarts, 0), _restart_evidence(installed)


# ---- 2 --------------------------------------------------------------------------------------------
def test_2_simulator_lands_a_dataset_and_the_triggered_elt_run_is_green(installed: Installation) -> None:
    api = installed.api
    # What NOTES.txt tells a user: unpause the simulator first; it runs at once.
    api.set_paused(NEW_DAY, False)
    new_day = api.wait_for_run(NEW_DAY, timeout=900)
    assert new_day["state"] == "success", new_day
    # The Trigger button, then the pause toggle (a paused DAG's runs wait).
    run_id = api.trigger(ELT)
    api.set_paused(ELT, False)
    run = api.wait_for_run(ELT, run_id)
    states = api.task_states(ELT, run_id)
    assert run["state"] == "success", states
    assert set(states.values()) == {"success"} and len(states) == len(STEPS)
    installed.runs["first"] = run_id


# ---- 3 --------------------------------------------------------------------------------------------
def _run_pods(installed: Installation, run_id: str) -> list[dict[str, Any]]:
    """The task pods of one DAG run (KubernetesPodOperator labels each pod with its run id)."""
    label = make_safe_label_value(run_id)
    return [
        pod
        for pod in pods(
            installed.settings, "app.kubernetes.io/part-of=customer360,customer360/step", TASKS_NAMESPACE
        )
        if pod["metadata"]["labels"].get("run_id") == label
    ]


def test_3_every_task_ran_as_its_own_pod_and_kubectl_logs_shows_the_loader(installed: Installation) -> None:
    run_pods = _run_pods(installed, installed.runs["first"])
    steps = sorted(pod["metadata"]["labels"]["customer360/step"] for pod in run_pods)
    assert steps == sorted(STEPS)
    assert {pod["status"]["phase"] for pod in run_pods} == {"Succeeded"}
    # The README's selector, narrowed to this run: once unpaused, the DAG may already have started
    # another run (new lake data) whose ingest-users pod is still being created.
    run_label = make_safe_label_value(installed.runs["first"])
    result = lifecycle.kubectl(
        installed.settings,
        "-n",
        TASKS_NAMESPACE,
        "logs",
        "-l",
        f"customer360/step=ingest-users,run_id={run_label}",
        "--tail=-1",
        "--max-log-requests=20",
    )
    logs = result.stdout
    assert "ingest.runner: users: done:" in logs, result.stderr
    assert "raw/users/dt=" in logs


# ---- 4 --------------------------------------------------------------------------------------------
def test_4_customer_360_equals_the_reference_over_the_same_raw_files(
    installed: Installation, warehouse: Any, tmp_path: Path
) -> None:
    settings = installed.settings
    keys = {k: secret_value(settings, f"{RELEASE}-lake", k) for k in ("root-user", "root-password")}
    with port_forward(settings, f"svc/{RELEASE}-lake", 9000) as port:
        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id=keys["root-user"],
            aws_secret_access_key=keys["root-password"],
            region_name="us-east-1",
        )
        listed = s3.list_objects_v2(Bucket="data-lake", Prefix="raw/")["Contents"]
        local = {}
        for obj in listed:
            path = tmp_path / obj["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file("data-lake", obj["Key"], str(path))
            local[obj["Key"]] = path
    rejected = {
        (r["source_key"], r["line_number"]) for r in _query(warehouse, "select * from staging._rejected_rows")
    }
    loads = _query(warehouse, "select source_key from staging._loads order by loaded_at, source_key")
    rank = {row["source_key"]: position for position, row in enumerate(loads)}
    assert set(rank) == set(local), "every lake object is loaded, and nothing else"
    objects: dict[str, list[RawObject]] = {}
    for key, path in local.items():
        objects.setdefault(key.split("/")[1], []).append(RawObject(key, path, rank[key]))
    expected = customer_360(objects, rejected)
    actual = {row["customer_id"]: row for row in _query(warehouse, "select * from production.customer_360")}
    assert len(actual) > 1000
    assert_same_rows(actual, expected)


# ---- 5 --------------------------------------------------------------------------------------------
def test_5_the_ui_shows_the_green_run_and_a_task_log_that_survives_the_scheduler(
    installed: Installation, browser_page: Any
) -> None:
    from airflow_ui import log_in, run_state, task_log_text  # scripts/, shared with the screenshots

    api, run_id = installed.api, installed.runs["first"]
    loader_line = "object(s) under s3://data-lake/raw/users/"
    log_in(browser_page, api.base_url, api.username, api.password)
    assert run_state(browser_page, api.base_url, ELT, run_id) == "success"
    assert "ingest.runner: users:" in task_log_text(
        browser_page, api.base_url, ELT, run_id, "ingest_users", loader_line
    )

    # The scheduler wrote that log; a new scheduler pod must still show it (the logs' volume).
    installed.kubectl("delete", "pod", "-l", "app.kubernetes.io/component=airflow-scheduler", "--wait=true")
    installed.kubectl("rollout", "status", f"deployment/{RELEASE}-airflow-scheduler", "--timeout=300s")
    assert "ingest.runner: users:" in task_log_text(
        browser_page, api.base_url, ELT, run_id, "ingest_users", loader_line
    )


# ---- 6 --------------------------------------------------------------------------------------------
def test_6_the_docs_server_serves_the_site_the_run_wrote(installed: Installation) -> None:
    port = next(f.host_port for f in installed.settings.forwards() if f.name == "docs")
    index = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
    assert index.status_code == 200 and "dbt" in index.text.lower()
    manifest = httpx.get(f"http://127.0.0.1:{port}/manifest.json", timeout=30).json()
    assert "model.customer360.customer_360" in manifest["nodes"]
    run = installed.api.run(ELT, installed.runs["first"])
    assert manifest["metadata"]["generated_at"] >= run["start_date"][:19]


# ---- 7 --------------------------------------------------------------------------------------------
def test_7_upgrade_keeps_credentials_and_data_and_a_second_run_changes_nothing(
    installed: Installation, warehouse: Any
) -> None:
    settings = installed.settings
    before = {(ns, name): secret_data(settings, name, ns) for ns, name in RELEASE_SECRETS}
    digest = _marts_digest(warehouse)
    loads = _query(warehouse, "select count(*) as n from staging._loads")[0]["n"]
    deploy.install(settings, deploy.tilt_declaration(), "--set", "tasks.podRetention.succeededHours=48")
    assert {(ns, name): secret_data(settings, name, ns) for ns, name in RELEASE_SECRETS} == before
    assert _marts_digest(warehouse) == digest

    run_id = installed.api.trigger(ELT)
    assert installed.api.wait_for_run(ELT, run_id)["state"] == "success"
    assert _query(warehouse, "select count(*) as n from staging._loads")[0]["n"] == loads
    assert _marts_digest(warehouse) == digest
    ingest_log = "".join(
        installed.kubectl("logs", pod["metadata"]["name"], namespace=TASKS_NAMESPACE)
        for pod in _run_pods(installed, run_id)
        if pod["metadata"]["labels"]["customer360/step"].startswith("ingest-")
    )
    assert ingest_log.count(" 0 loaded,") == 3 and "skipped raw/" in ingest_log


def test_7b_uninstall_then_install_finds_the_kept_data(installed: Installation) -> None:
    settings = installed.settings
    deploy.helm(settings, "uninstall", RELEASE, "--namespace", NAMESPACE, "--wait")
    kept = json.loads(installed.kubectl("get", "pvc", "-o", "json"))["items"]
    assert {pvc["metadata"]["name"] for pvc in kept} >= {
        f"data-{RELEASE}-warehouse-0",
        f"data-{RELEASE}-lake-0",
        f"{RELEASE}-airflow-logs",
    }
    deploy.install(settings, deploy.tilt_declaration())
    # Airflow's metadata (on the warehouse volume) still knows the first run, which is still green.
    assert installed.api.run(ELT, installed.runs["first"])["state"] == "success"


def test_7c_after_reinstall_the_warehouse_still_holds_the_marts(
    installed: Installation, warehouse: Any
) -> None:
    assert _query(warehouse, "select count(*) as n from production.customer_360")[0]["n"] > 1000


# ---- 8 --------------------------------------------------------------------------------------------
def test_8_a_failing_dbt_test_fails_the_marts_pod_and_stops_the_docs(
    installed: Installation, warehouse: Any
) -> None:
    # A "user" claiming the unknown customer's id -1: dim_customers gets it twice, its unique test
    # fails. It arrives as a load of its own (a row and its `_loads` entry, as the loader records
    # one), so the incremental staging takes it in as it would on a full refresh.
    key = "by-hand/claims-the-unknown-member.csv"
    with warehouse.cursor() as cur:
        cur.execute(
            "with claimed as (insert into staging.users select -1, name, email, phone, address, country,"
            " created_at, updated_at, %(key)s, now(), 1 from staging.users limit 1 returning 1)"
            " insert into staging._loads (source_key, source, etag, rows_loaded, rows_rejected, loaded_at,"
            " seconds) select %(key)s, 'users', 'by-hand', (select count(*) from claimed), 0, now(), 0",
            {"key": key},
        )
    try:
        run_id = installed.api.trigger(ELT)
        run = installed.api.wait_for_run(ELT, run_id)
    finally:
        with warehouse.cursor() as cur:
            cur.execute("delete from staging.users where _source_key = %s", (key,))
            cur.execute("delete from staging._loads where source_key = %s", (key,))
    states = installed.api.task_states(ELT, run_id)
    assert run["state"] == "failed"
    assert states["dbt_build_marts"] == "failed"
    assert states["dbt_docs_generate"] == "upstream_failed"
    (failed,) = [
        p
        for p in _run_pods(installed, run_id)
        if p["metadata"]["labels"]["customer360/step"] == "dbt-build-marts"
    ]
    assert failed["status"]["phase"] == "Failed"
    log = installed.kubectl("logs", failed["metadata"]["name"], namespace=TASKS_NAMESPACE)
    assert "unique_dim_customers_customer_id" in log and "FAIL" in log
