"""What each component of charts/customer360 deploys, one test class per component.

Rendered offline with the real helm (`render_chart`); every object is also validated against the
Kubernetes API schema by the helper, so a typo in a field fails here.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from chart_render import containers, decoded, env_of, find, pod_spec, render_chart

from customer360.contract import LAKE_BUCKET, WAREHOUSE_DATABASE
from customer360.settings import Settings
from harness.settings import POSTGRES_CONN_ID

SECRET_TASK_KEYS = {"C360_PG_USER", "C360_PG_PASSWORD", "C360_S3_ACCESS_KEY_ID", "C360_S3_SECRET_ACCESS_KEY"}


class TestWarehouse:
    @pytest.fixture
    def objects(self) -> list[dict]:
        return render_chart(show_only="templates/warehouse/")

    def test_postgres_18_keeps_its_data_on_a_pvc_at_the_18_data_path(self, objects):
        statefulset = find(objects, "StatefulSet", "customer360-warehouse")
        postgres = pod_spec(statefulset)["containers"][0]
        assert postgres["image"].startswith("docker.io/library/postgres:18.")
        assert env_of(postgres)["PGDATA"]["value"] == "/var/lib/postgresql/18/docker"
        mounts = {m["name"]: m["mountPath"] for m in postgres["volumeMounts"]}
        assert mounts["data"] == "/var/lib/postgresql"
        claim = statefulset["spec"]["volumeClaimTemplates"][0]
        assert claim["metadata"]["name"] == "data"
        assert claim["spec"]["resources"]["requests"]["storage"] == "8Gi"

    def test_creates_the_warehouse_database(self, objects):
        postgres = pod_spec(find(objects, "StatefulSet"))["containers"][0]
        assert env_of(postgres)["POSTGRES_DB"]["value"] == WAREHOUSE_DATABASE

    def test_init_script_names_the_values_roles_and_holds_no_password(self, objects):
        # What the privilege model grants is proven on a real server (test_chart_warehouse_init.py);
        # here: the chart's values reach it, and passwords stay in the Secret.
        data = find(objects, "ConfigMap", "customer360-warehouse-init")["data"]
        script = data["10-customer360.sh"]
        for variable, role in (
            ("loader_role", "c360_loader"),
            ("dbt_role", "c360_dbt"),
            ("analyst_role", "c360_analyst"),
        ):
            assert f'-v {variable}="{role}"' in script
        assert "warehouse-init.psql" in data
        assert "PASSWORD '" not in data["warehouse-init.psql"]
        assert "\\getenv loader_password C360_LOADER_PASSWORD" in data["warehouse-init.psql"]

    def test_passwords_reach_the_server_from_the_secret(self, objects):
        postgres = pod_spec(find(objects, "StatefulSet"))["containers"][0]
        env = env_of(postgres)
        for name in (
            "POSTGRES_PASSWORD",
            "C360_LOADER_PASSWORD",
            "C360_DBT_PASSWORD",
            "C360_ANALYST_PASSWORD",
            "C360_AIRFLOW_PASSWORD",
        ):
            assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "customer360-warehouse"

    def test_generated_secret_survives_uninstall_with_its_volume(self, objects):
        secret = find(objects, "Secret", "customer360-warehouse")
        assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert set(decoded(secret)) == {
            "postgres-password",
            "loader-password",
            "dbt-password",
            "analyst-password",
            "airflow-password",
        }
        assert all(len(value) >= 32 for value in decoded(secret).values())

    def test_existing_secret_replaces_the_generated_one(self):
        objects = render_chart(
            {
                "warehouse": {"auth": {"existingSecret": "my-pg"}},
                "airflow": {"connections": {"existingSecret": "my-conns"}},
                "tasks": {"existingSecret": "my-task", "existingDbtSecret": "my-task-dbt"},
            }
        )
        assert not [
            o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "customer360-warehouse"
        ]
        postgres = pod_spec(find(objects, "StatefulSet", "customer360-warehouse"))["containers"][0]
        assert env_of(postgres)["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "my-pg"

    def test_service_exposes_postgres_in_the_namespace(self, objects):
        service = find(objects, "Service", "customer360-warehouse")
        assert service["spec"]["type"] == "ClusterIP"
        assert service["spec"]["ports"][0]["port"] == 5432


class TestLake:
    @pytest.fixture
    def objects(self) -> list[dict]:
        return render_chart(show_only="templates/lake/")

    def test_minio_statefulset_with_pvc_api_and_console(self, objects):
        minio = pod_spec(find(objects, "StatefulSet", "customer360-lake"))["containers"][0]
        assert minio["image"].startswith("quay.io/minio/minio:RELEASE.")
        assert {p["containerPort"] for p in minio["ports"]} == {9000, 9001}
        assert find(objects, "Service", "customer360-lake")["spec"]["ports"][0]["port"] == 9000
        assert find(objects, "Service", "customer360-lake-console")["spec"]["ports"][0]["port"] == 9001
        assert find(objects, "StatefulSet")["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == [
            "ReadWriteOnce"
        ]

    def test_job_creates_the_bucket_and_a_bucket_scoped_user(self, objects):
        job = find(objects, "Job")
        container = pod_spec(job)["containers"][0]
        env = env_of(container)
        assert env["BUCKET"]["value"] == LAKE_BUCKET
        assert env["S3_ENDPOINT"]["value"] == "http://customer360-lake.customer360.svc:9000"
        script = container["args"][0]
        assert 'mc mb --ignore-existing "lake/$BUCKET"' in script
        assert "arn:aws:s3:::$BUCKET/*" in script
        assert env["ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["key"] == "access-key-id"

    def test_external_s3_deploys_no_lake_and_points_every_client_at_it(self):
        values = {
            "lake": {
                "provider": "external",
                "endpoint": "http://seaweedfs-s3.storage:8333",
                "auth": {"existingSecret": "seaweed-keys"},
            },
            "airflow": {"connections": {"existingSecret": "my-conns"}},
            "tasks": {"existingSecret": "my-task", "existingDbtSecret": "my-task-dbt"},
        }
        assert render_chart(values, show_only="templates/lake/") == []
        config = find(render_chart(values, show_only="templates/tasks/"), "ConfigMap")
        assert config["data"]["C360_S3_ENDPOINT_URL"] == "http://seaweedfs-s3.storage:8333"


class TestAirflow:
    @pytest.fixture
    def objects(self) -> list[dict]:
        return render_chart(show_only="templates/airflow/")

    @pytest.mark.parametrize(
        ("component", "command"),
        [
            ("api-server", ["airflow", "api-server", "--host", "0.0.0.0", "--port", "8080"]),
            ("scheduler", ["airflow", "scheduler"]),
            ("dag-processor", ["airflow", "dag-processor"]),
            ("triggerer", ["airflow", "triggerer"]),
        ],
    )
    def test_each_component_runs_after_migrations(self, objects, component, command):
        deployment = find(objects, "Deployment", f"customer360-airflow-{component}")
        main = pod_spec(deployment)["containers"][0]
        assert main["args"] == command
        assert main["image"] == "customer360/airflow:0.1.0"
        init = pod_spec(deployment)["initContainers"][0]
        script = init["args"][0]
        # It waits for the database first (PostgreSQL may still be in initdb), then for migrations.
        assert script.index("airflow db check ") < script.index("exec airflow db check-migrations")

    def test_task_logs_live_on_a_kept_volume_that_every_component_mounts(self, objects):
        pvc = find(objects, "PersistentVolumeClaim", "customer360-airflow-logs")
        assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
            volumes = {
                v["name"]: v
                for v in pod_spec(find(objects, "Deployment", f"customer360-airflow-{component}"))["volumes"]
            }
            assert volumes["logs"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"], component

    def test_migration_job_migrates_the_metadata_db(self, objects):
        job = find(objects, "Job")
        assert job["metadata"]["name"] == "customer360-airflow-migrate-1"
        assert "airflow db migrate" in pod_spec(job)["containers"][0]["args"][0]

    def test_local_executor_config(self, objects):
        cfg = find(objects, "ConfigMap", "customer360-airflow-config")["data"]["airflow.cfg"]
        assert "executor = LocalExecutor" in cfg
        assert "dags_folder = /opt/airflow/dags" in cfg
        assert "execution_api_server_url = http://customer360-airflow-api-server:8080/execution/" in cfg

    def test_metadata_db_is_its_own_database_and_role_on_the_warehouse(self, objects):
        conns = decoded(find(objects, "Secret", "customer360-airflow-connections"))
        uri = urlsplit(conns["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert (uri.scheme, uri.username, uri.hostname, uri.port, uri.path) == (
            "postgresql+psycopg2",
            "airflow",
            "customer360-warehouse.customer360.svc",
            5432,
            "/airflow",
        )

    def test_the_warehouse_connection_comes_from_a_secret_and_only_the_scheduler_gets_it(self, objects):
        conns = decoded(find(objects, "Secret", "customer360-airflow-connections"))
        warehouse = urlsplit(conns[f"AIRFLOW_CONN_{POSTGRES_CONN_ID.upper()}"])
        assert (warehouse.username, warehouse.hostname, warehouse.path) == (
            "c360_analyst",
            "customer360-warehouse.customer360.svc",
            f"/{WAREHOUSE_DATABASE}",
        )
        # No lake connection at all: no DAG uses one, so no Airflow pod holds lake keys.
        assert set(conns) == {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            f"AIRFLOW_CONN_{POSTGRES_CONN_ID.upper()}",
        }
        for component in ("scheduler", "api-server", "dag-processor", "triggerer"):
            main = pod_spec(find(objects, "Deployment", f"customer360-airflow-{component}"))["containers"][0]
            assert ("AIRFLOW_CONN_POSTGRES_WAREHOUSE" in env_of(main)) is (component == "scheduler"), (
                component
            )
            assert "envFrom" not in main, component

    def test_the_fab_admin_is_created_by_the_migration_job_from_the_secret(self, objects):
        assert (
            "auth_manager = airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
            in find(objects, "ConfigMap", "customer360-airflow-config")["data"]["airflow.cfg"]
        )
        job = pod_spec(find(objects, "Job"))["containers"][0]
        ref = env_of(job)["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "customer360-airflow", "key": "admin-password"}
        assert "airflow users create" in job["args"][0] and "airflow users reset-password" in job["args"][0]
        # Only the migration Job sees the admin password.
        for component in ("scheduler", "api-server", "dag-processor", "triggerer"):
            spec = pod_spec(find(objects, "Deployment", f"customer360-airflow-{component}"))
            assert "ADMIN_PASSWORD" not in str(spec), component
        assert set(decoded(find(objects, "Secret", "customer360-airflow"))) == {
            "fernet-key",
            "jwt-secret",
            "api-secret-key",
            "admin-password",
        }

    def test_task_factory_env_names_the_task_images_namespace_and_secrets(self, objects):
        scheduler = pod_spec(find(objects, "Deployment", "customer360-airflow-scheduler"))["containers"][0]
        env = {name: entry.get("value") for name, entry in env_of(scheduler).items()}
        defaults = Settings()
        # With release `customer360` the chart's names are the settings' defaults.
        assert env["C360_TASK_RUNTIME"] == "kubernetes"
        assert env["C360_PIPELINE_IMAGE"] == defaults.pipeline_image
        assert env["C360_DBT_IMAGE"] == defaults.dbt_image
        assert env["C360_K8S_NAMESPACE"] == defaults.k8s_namespace
        assert env["C360_TASK_SECRET_NAME"] == defaults.task_secret_name
        assert env["C360_TASK_CONFIGMAP_NAME"] == defaults.task_configmap_name
        assert env["C360_DBT_TASK_SECRET_NAME"] == "customer360-task-credentials-dbt"

    def test_only_the_pod_launcher_gets_the_service_account_token(self, objects):
        for component, launches in [
            ("scheduler", True),
            ("triggerer", False),
            ("api-server", False),
            ("dag-processor", False),
        ]:
            spec = pod_spec(find(objects, "Deployment", f"customer360-airflow-{component}"))
            assert spec["automountServiceAccountToken"] is launches, component


class TestTasks:
    @pytest.fixture
    def objects(self) -> list[dict]:
        return render_chart(show_only="templates/tasks/")

    def test_configmap_and_secret_carry_exactly_the_task_env(self, objects):
        config = find(objects, "ConfigMap", Settings().task_configmap_name)["data"]
        secret = decoded(find(objects, "Secret", Settings().task_secret_name))
        expected = set(Settings(pg_password="x", s3_access_key_id="x", s3_secret_access_key="x").task_env())
        assert set(config) | set(secret) == expected | {"C360_PG_USER"}
        assert set(secret) == SECRET_TASK_KEYS
        assert not set(config) & SECRET_TASK_KEYS

    def test_configmap_points_at_the_in_cluster_services(self, objects):
        config = find(objects, "ConfigMap")["data"]
        # Qualified names: the task pods run in the tasks namespace.
        assert config["C360_PG_HOST"] == "customer360-warehouse.customer360.svc"
        assert config["C360_PG_PORT"] == "5432"
        assert config["C360_S3_ENDPOINT_URL"] == "http://customer360-lake.customer360.svc:9000"
        assert config["C360_S3_BUCKET"] == LAKE_BUCKET
        assert config["DBT_TARGET"] == "cluster"

    def test_loader_and_dbt_pods_log_in_as_their_own_roles(self, objects):
        loader = decoded(find(objects, "Secret", "customer360-task-credentials"))
        dbt = decoded(find(objects, "Secret", "customer360-task-credentials-dbt"))
        assert (loader["C360_PG_USER"], dbt["C360_PG_USER"]) == ("c360_loader", "c360_dbt")
        assert loader["C360_PG_PASSWORD"] != dbt["C360_PG_PASSWORD"]

    def test_derived_secrets_agree_with_their_sources_within_one_render(self):
        objects = render_chart()
        warehouse = decoded(find(objects, "Secret", "customer360-warehouse"))
        lake = decoded(find(objects, "Secret", "customer360-lake"))
        loader = decoded(find(objects, "Secret", "customer360-task-credentials"))
        dbt = decoded(find(objects, "Secret", "customer360-task-credentials-dbt"))
        conns = decoded(find(objects, "Secret", "customer360-airflow-connections"))
        assert loader["C360_PG_PASSWORD"] == warehouse["loader-password"]
        assert dbt["C360_PG_PASSWORD"] == warehouse["dbt-password"]
        assert loader["C360_S3_SECRET_ACCESS_KEY"] == lake["secret-access-key"]
        metadata = urlsplit(conns["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert unquote(metadata.password) == warehouse["airflow-password"]

    def test_task_service_account_has_no_token(self, objects):
        account = find(objects, "ServiceAccount", "customer360-task")
        assert account["automountServiceAccountToken"] is False

    def test_the_pod_reaper_runs_with_the_configured_retention_and_the_pod_launchers_role(self):
        objects = render_chart({"tasks": {"podRetention": {"succeededHours": 6}}})
        cronjob = find(objects, "CronJob", "customer360-task-pod-reaper")
        spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        args = spec["containers"][0]["args"]
        assert args[:3] == ["python", "-m", "customer360.tasks.pod_reaper"]
        assert "--succeeded-hours=6" in args and "--failed-hours=168" in args
        role = find(objects, "Role", spec["serviceAccountName"])
        assert {"list", "delete"} <= set(
            next(r for r in role["rules"] if r["resources"] == ["pods"])["verbs"]
        )


class TestDocs:
    def test_off_by_default(self):
        assert render_chart(show_only="templates/docs/") == []

    def test_enabled_serves_the_shared_volume_read_only(self):
        objects = render_chart({"docs": {"enabled": True}}, show_only="templates/docs/")
        pvc = find(objects, "PersistentVolumeClaim", "customer360-dbt-docs")
        deployment = find(objects, "Deployment", "customer360-docs")
        spec = pod_spec(deployment)
        assert spec["volumes"][0]["persistentVolumeClaim"] == {
            "claimName": pvc["metadata"]["name"],
            "readOnly": True,
        }
        assert spec["containers"][0]["image"] == "customer360/dbt:0.1.0"
        assert find(objects, "Service", "customer360-docs")["spec"]["ports"][0]["port"] == 8080

    def test_enabled_tells_airflow_where_the_docs_task_writes(self):
        objects = render_chart({"docs": {"enabled": True}}, show_only="templates/airflow/")
        env = env_of(containers(find(objects, "Deployment", "customer360-airflow-scheduler"))[0])
        assert env["C360_DOCS_PVC_NAME"]["value"] == "customer360-dbt-docs"
        assert env["C360_DOCS_MOUNT_PATH"]["value"] == "/dbt-docs"
