"""The local cluster's host ports are kind's: the same URLs work on kind and on `make cluster-up`."""

from __future__ import annotations

import pytest
import yaml

from customer360.settings import PROJECT_ROOT
from harness.cluster.settings import UI_NODE_PORTS, ClusterSettings, kind_port_mappings


def test_every_ui_node_port_of_values_kind_is_one_kind_config_publishes() -> None:
    values = yaml.safe_load((PROJECT_ROOT / "charts/customer360/values-kind.yaml").read_text())
    node_ports = {
        "airflow": values["airflow"]["apiServer"]["service"]["nodePort"],
        "lake-console": values["lake"]["minio"]["console"]["nodePort"],
        "docs": values["docs"]["service"]["nodePort"],
    }
    assert node_ports == UI_NODE_PORTS
    assert set(kind_port_mappings()) == set(UI_NODE_PORTS.values())


def test_forwards_default_to_kind_host_ports_and_move_with_their_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = {f.name: f.host_port for f in ClusterSettings().forwards()}
    assert defaults == {"api-server": 16443, "airflow": 30080, "lake-console": 30901, "docs": 30082}
    monkeypatch.setenv("C360_CLUSTER_AIRFLOW_PORT", "18080")
    moved = {f.name: (f.host_port, f.env_var) for f in ClusterSettings().forwards()}
    assert moved["airflow"] == (18080, "C360_CLUSTER_AIRFLOW_PORT")


def test_a_cluster_name_that_cannot_name_a_node_is_refused() -> None:
    with pytest.raises(ValueError, match="name"):
        ClusterSettings(name="Not_A_DNS_Label")
