"""The dbt project parses offline and keeps its promises: contract names, one schema, full docs.

No database: `dbt parse` needs a profile but never connects, so placeholder credentials do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from dbt_runner import DBT_PROJECT_DIR, DbtRunner

from customer360.contract import (
    ORDER_STATUSES,
    PRODUCTION_SCHEMA,
    SOURCES,
    STAGING_SCHEMA,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TIMESTAMP_MAX,
    TIMESTAMP_MIN,
)

PLACEHOLDER_ENV = {
    "C360_PG_HOST": "db.invalid",
    "C360_PG_PORT": "5432",
    "C360_PG_USER": "nobody",
    "C360_PG_PASSWORD": "not-a-secret",
    "C360_PG_DATABASE": "warehouse",
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dbt = DbtRunner(tmp_path_factory.mktemp("dbt-parse"), PLACEHOLDER_ENV)
    result = dbt("parse")
    assert "Warning" not in result.output, result.output  # deprecations would break on dbt upgrades
    return json.loads((dbt.target_path / "manifest.json").read_text())


def nodes(manifest: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == resource_type]


def test_every_built_relation_lives_in_production(manifest: dict[str, Any]) -> None:
    built = nodes(manifest, "model") + nodes(manifest, "snapshot")
    assert {n["name"] for n in built} >= {
        "dim_customers",
        "dim_date",
        "fct_orders",
        "fct_support_tickets",
        "customer_360",
        "customers_snapshot",
    }
    assert {n["schema"] for n in built} == {PRODUCTION_SCHEMA}


def test_sources_are_the_contract_tables_with_the_contract_columns(manifest: dict[str, Any]) -> None:
    sources = {s["name"]: s for s in manifest["sources"].values()}
    assert set(sources) == set(SOURCES)
    for name, source in SOURCES.items():
        documented = list(sources[name]["columns"])
        assert sources[name]["schema"] == STAGING_SCHEMA
        assert documented == [*source.header, "_source_key", "_loaded_at", "_line_number"]
        assert sources[name]["loaded_at_field"] == "_loaded_at"
        assert sources[name]["freshness"]["error_after"]["count"]


def test_enums_in_dbt_vars_match_the_contract() -> None:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    variables = project["vars"]
    assert tuple(variables["order_statuses"]) == ORDER_STATUSES
    assert tuple(variables["ticket_statuses"]) == TICKET_STATUSES
    assert tuple(variables["ticket_priorities"]) == TICKET_PRIORITIES
    assert tuple(variables["ticket_channels"]) == TICKET_CHANNELS
    assert set(variables["non_revenue_order_statuses"]) <= set(ORDER_STATUSES)
    assert set(variables["open_ticket_statuses"]) <= set(TICKET_STATUSES)
    assert (variables["timestamp_min"], variables["timestamp_max"]) == (TIMESTAMP_MIN, TIMESTAMP_MAX)


def test_every_model_and_column_is_documented_with_its_grain(manifest: dict[str, Any]) -> None:
    for node in nodes(manifest, "model") + nodes(manifest, "snapshot"):
        assert node["description"].startswith("One row per"), node["name"]
        assert node["columns"], node["name"]  # that every built column is listed: test_dbt_build.py
        for column in node["columns"].values():
            assert column["description"].strip(), (node["name"], column["name"])


def test_keys_are_unique_and_not_null_and_foreign_keys_related(manifest: dict[str, Any]) -> None:
    tests = nodes(manifest, "test")
    by_column: dict[tuple[str, str], set[str]] = {}
    for test in tests:
        meta = test.get("test_metadata") or {}
        column = test.get("column_name")
        if not meta or not column or not test["attached_node"]:
            continue  # model-level, singular and source tests
        model = test["attached_node"].split(".")[-1]
        by_column.setdefault((model, column), set()).add(meta["name"])
    primary_keys = {
        "stg_user_db__users": "customer_id",
        "stg_ecommerce__orders": "order_id",
        "stg_support_desk__support_tickets": "ticket_id",
        "dim_customers": "customer_id",
        "dim_date": "date_day",
        "fct_orders": "order_id",
        "fct_support_tickets": "ticket_id",
        "customer_360": "customer_id",
    }
    for model, key in primary_keys.items():
        assert {"unique", "not_null"} <= by_column[(model, key)], model
    for model, column in [
        ("fct_orders", "customer_id"),
        ("fct_orders", "order_date"),
        ("fct_support_tickets", "customer_id"),
        ("fct_support_tickets", "created_date"),
        ("customer_360", "customer_id"),
    ]:
        assert "relationships" in by_column[(model, column)], (model, column)


def test_warn_tests_count_the_injected_dirt_without_failing_the_build(manifest: dict[str, Any]) -> None:
    severities = {t["name"]: t["config"]["severity"].lower() for t in nodes(manifest, "test")}
    warn_tests = {name for name, severity in severities.items() if severity == "warn"}
    assert warn_tests == {
        "warn_stg_orders_negative_amount",
        "warn_stg_orders_unknown_status",
        "warn_stg_orders_orphan_customer",
        "warn_stg_tickets_orphan_customer",
        "warn_stg_tickets_resolved_before_created",
        "warn_stg_orders_out_of_domain",
        "warn_stg_tickets_out_of_domain",
        "warn_stg_users_out_of_domain",
    }


@pytest.fixture(scope="module")
def dbt_ls(manifest: dict[str, Any], tmp_path_factory: pytest.TempPathFactory):
    dbt = DbtRunner(tmp_path_factory.mktemp("dbt-ls"), PLACEHOLDER_ENV)

    def select(selector: str) -> set[str]:
        listed = dbt(
            "ls", "--selector", selector, "--resource-types", "model", "snapshot", "--output", "name"
        )
        # Names are single words; dbt's log lines (timestamps, messages) are not.
        return {
            word for line in listed.output.splitlines() if len(words := line.split()) == 1 for word in words
        }

    return select


def test_each_dag_step_builds_its_layer_and_together_they_build_every_model(
    manifest: dict[str, Any], dbt_ls
) -> None:
    """What the DAG's dbt steps select (dbt's own selection), layer by layer, once each."""
    by_folder: dict[str, set[str]] = {}
    for node in nodes(manifest, "model"):
        by_folder.setdefault(node["original_file_path"].split("/")[1], set()).add(node["name"])
    staging, snapshots, marts = dbt_ls("staging"), dbt_ls("snapshots"), dbt_ls("marts")
    assert staging == by_folder["staging"]
    assert snapshots == {n["name"] for n in nodes(manifest, "snapshot")}
    assert marts == by_folder["intermediate"] | by_folder["marts"]
    assert not (staging & marts) and not (snapshots & (staging | marts))


def test_profile_takes_every_credential_from_the_environment() -> None:
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["customer360"]
    assert "DBT_TARGET" in profile["target"]
    assert set(profile["outputs"]) == {"embedded", "cluster"}
    for output in profile["outputs"].values():
        for field, variable in {
            "host": "C360_PG_HOST",
            "port": "C360_PG_PORT",
            "user": "C360_PG_USER",
            "password": "C360_PG_PASSWORD",
            "dbname": "C360_PG_DATABASE",
        }.items():
            assert f"env_var('{variable}')" in str(output[field]), field
        # DBT_SCHEMA only for the tests' side-by-side full refresh; production by default
        assert output["schema"] == f"{{{{ env_var('DBT_SCHEMA', '{PRODUCTION_SCHEMA}') }}}}"


def test_parse_without_credentials_names_the_missing_variable(tmp_path: Path) -> None:
    env = {key: "" for key in PLACEHOLDER_ENV}
    dbt = DbtRunner(tmp_path)
    dbt.env = {k: v for k, v in dbt.env.items() if k not in env}
    result = dbt("parse", check=False)
    assert result.returncode != 0
    assert "C360_PG_" in result.output
