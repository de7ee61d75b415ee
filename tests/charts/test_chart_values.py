"""values.yaml, values.schema.json and check-values: what helm accepts, refuses, and how it says so."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from chart_render import CHART_DIR, KIND_VALUES, HelmError, render_chart, run_helm
from test_chart_policy import VARIANTS

SCHEMA = json.loads((CHART_DIR / "values.schema.json").read_text())
VALUES_TEXT = (CHART_DIR / "values.yaml").read_text()
VALUES = yaml.safe_load(VALUES_TEXT)


def resolve(node: dict) -> dict:
    """Follow a local $ref (#/definitions/...)."""
    if "$ref" in node:
        target = SCHEMA
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def value_paths(node, path=()):
    """Every key path in values.yaml (maps are descended, lists and scalars are leaves)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from value_paths(value, (*path, key))


def schema_paths(node: dict, path=()):
    node = resolve(node)
    for key, child in node.get("properties", {}).items():
        yield (*path, key)
        yield from schema_paths(child, (*path, key))


def schema_node(path) -> dict:
    node = resolve(SCHEMA)
    for key in path:
        node = resolve(node["properties"][key])
    return node


def schema_node_raw(path) -> dict:
    """The schema node at a path before its own $ref is followed."""
    node = resolve(SCHEMA)
    for key in path[:-1]:
        node = resolve(node["properties"][key])
    return node["properties"][path[-1]] if path else node


class TestLint:
    @pytest.mark.parametrize("variant", sorted(VARIANTS))
    def test_helm_lint_strict_passes(self, variant, tmp_path):
        values, files = VARIANTS[variant]
        values_file = tmp_path / "values.json"
        values_file.write_text(json.dumps({"allowEphemeralCredentials": True, **values}))
        args = ["lint", "--strict", str(CHART_DIR), "--values", str(values_file)]
        for extra in files:
            args += ["--values", str(extra)]
        assert "0 chart(s) failed" in run_helm(*args).stdout

    def test_kind_values_give_every_ui_the_node_port_kind_config_maps(self):
        kind_config = yaml.safe_load((CHART_DIR.parent.parent / "kind-config.yaml").read_text())
        mapped = {m["containerPort"] for m in kind_config["nodes"][0]["extraPortMappings"]}
        services = [o for o in render_chart(values_files=(KIND_VALUES,)) if o["kind"] == "Service"]
        node_ports = {
            p["nodePort"] for s in services if s["spec"]["type"] == "NodePort" for p in s["spec"]["ports"]
        }
        assert node_ports == mapped == {30080, 30901, 30082}


class TestSchema:
    def test_is_draft_07_and_closed_at_every_level(self):
        assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
        for path in [(), *schema_paths(SCHEMA)]:
            node = schema_node(path)
            if node.get("type") == "object" and "properties" in node:
                assert node["additionalProperties"] is False, path

    def test_every_values_key_is_in_the_schema_with_its_default(self):
        for path in value_paths(VALUES):
            node = schema_node(path)
            value = VALUES
            for key in path:
                value = value[key]
            assert "type" in node, path
            # Keys inside a shared definition (image, identity, resources) get their default from the
            # key that references the definition, whose default holds the whole block.
            inside_definition = any("$ref" in schema_node_raw(path[:depth]) for depth in range(1, len(path)))
            if not inside_definition or "default" in node:
                assert node.get("default") == value, (
                    f"{'.'.join(path)}: default {node.get('default')!r} != {value!r}"
                )

    def test_every_schema_key_is_in_values_yaml(self):
        assert set(schema_paths(SCHEMA)) == set(value_paths(VALUES))

    def test_every_values_key_is_commented(self):
        previous = ""
        for line in VALUES_TEXT.splitlines():
            if re.match(r"^\s*[A-Za-z0-9_]+:", line):
                assert previous.lstrip().startswith("#"), f"no comment above: {line.strip()}"
            if line.strip():
                previous = line

    def test_rejects_a_misspelt_key(self):
        with pytest.raises(HelmError, match="additional properties 'enabeld' not allowed"):
            render_chart({"docs": {"enabeld": True}})

    def test_rejects_a_wrong_type(self):
        with pytest.raises(HelmError, match="/warehouse/port"):
            render_chart({"warehouse": {"port": "5432"}})

    def test_rejects_an_unpinned_image(self):
        with pytest.raises(HelmError, match="/images/airflow/tag"):
            render_chart({"images": {"airflow": {"tag": "latest"}}})

    def test_rejects_an_unknown_lake_provider(self):
        with pytest.raises(HelmError, match="/lake/provider"):
            render_chart({"lake": {"provider": "gcs"}})


class TestCheckValues:
    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"lake": {"provider": "external"}}, "lake.provider=external needs lake.endpoint"),
            (
                {"lake": {"provider": "external", "endpoint": "http://s3:8333"}},
                "needs lake.auth.existingSecret",
            ),
            ({"lake": {"endpoint": "http://s3:8333"}}, "lake.endpoint is only for lake.provider=external"),
            ({"warehouse": {"roles": {"dbt": "c360_loader"}}}, "four different role names"),
            ({"warehouse": {"airflowDatabase": "warehouse"}}, "must differ from warehouse.database"),
            (
                {"docs": {"service": {"nodePort": 30082}}},
                "docs.service.nodePort is set but docs.service.type",
            ),
        ],
    )
    def test_bad_combinations_fail_with_a_clear_message(self, values, message):
        with pytest.raises(HelmError, match=re.escape(message)):
            render_chart(values)

    def test_derived_secrets_need_their_source_when_it_is_the_users(self):
        # An existing warehouse Secret the chart cannot read (no cluster) while it must derive the
        # task and connection Secrets from it: refuse, and say what to do.
        with pytest.raises(HelmError, match=r'the Secret "my-pg" \(key "[a-z]+-password"\) must exist'):
            render_chart({"warehouse": {"auth": {"existingSecret": "my-pg"}}})
