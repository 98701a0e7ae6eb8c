"""Rendering tests of charts/internal/calico-monitoring (seed-side dashboards and ScrapeConfigs)."""

from __future__ import annotations

import json

import pytest

from controller.errors import ConfigurationError
from tests.helpers import find, render_chart, validate_objects

CHART = "calico-monitoring"
RELEASE = "calico-monitoring-config"
NAMESPACE = "shoot--garden--local"

SCRAPES = {
    "shoot-calico-felix": ("calico-felix-monitoring;metrics", "felix-metrics", "felix_.+"),
    "shoot-calico-typha": ("calico-typha-monitoring;metrics", "typha-metrics", "typha_.+"),
    "shoot-calico-bird": ("calico-bird-monitoring;bird-metrics", "bird-metrics",
                          "bird_protocol_up.*|bird_protocol_prefix_export_count|bird_protocol_prefix_import_count"),
}
DASHBOARDS = {
    "calico-felix-dashboard.json": "Felix Dashboard (Calico)",
    "calico-typha-dashboard.json": "Typha Dashboard (Calico)",
    "calico-bird-dashboard.json": "Bird Dashboard (Calico)",
}


@pytest.fixture(scope="module")
def objects() -> list[dict]:
    return render_chart(CHART, {}, "1.32.0", release=RELEASE, namespace=NAMESPACE)


def test_object_set(objects):
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == sorted(
        [("ConfigMap", "calico-dashboards")] + [("ScrapeConfig", n) for n in SCRAPES])
    for obj in objects:
        assert obj["metadata"]["namespace"] == NAMESPACE


def test_dashboards(objects):
    cm = find(objects, "ConfigMap", "calico-dashboards")
    assert cm["metadata"]["labels"] == {"dashboard.monitoring.gardener.cloud/shoot": "true"}
    assert set(cm["data"]) == set(DASHBOARDS)
    for key, title in DASHBOARDS.items():
        dashboard = json.loads(cm["data"][key])
        assert dashboard["title"] == title
        assert dashboard["panels"] and all(p["targets"] for p in dashboard["panels"] if p["type"] != "row")


@pytest.mark.parametrize("name", sorted(SCRAPES))
def test_scrape_configs(objects, name):
    keep, job, metrics = SCRAPES[name]
    sc = find(objects, "ScrapeConfig", name)
    assert sc["apiVersion"] == "monitoring.coreos.com/v1alpha1"
    assert sc["metadata"]["labels"] == {"prometheus": "shoot"}
    spec = sc["spec"]
    secret = {"name": "shoot-access-prometheus-shoot", "key": "token"}
    assert spec["scheme"] == "HTTPS" and spec["authorization"]["credentials"] == secret
    assert spec["tlsConfig"]["insecureSkipVerify"] is True
    (sd,) = spec["kubernetesSDConfigs"]
    assert sd["role"] == "Endpoints" and sd["apiServer"] == "https://kube-apiserver"
    assert sd["namespaces"]["names"] == ["kube-system"] and sd["authorization"]["credentials"] == secret
    relabel = spec["relabelings"]
    # as the Go extension: the job label first, then keep the monitoring Service's container port by name
    assert relabel[0] == {"action": "replace", "replacement": job, "targetLabel": "job"}
    assert relabel[1] == {"sourceLabels": ["__meta_kubernetes_service_name", "__meta_kubernetes_pod_container_port_name"],
                          "separator": ";", "regex": keep, "replacement": "$1", "action": "keep"}
    assert {"targetLabel": "__address__", "replacement": "kube-apiserver:443"} in relabel
    path = next(r for r in relabel if r.get("targetLabel") == "__metrics_path__")
    assert path["replacement"] == "/api/v1/namespaces/kube-system/pods/${1}:${2}/proxy/metrics"
    assert {r.get("targetLabel") for r in relabel} >= {"node", "pod"}
    assert spec["metricRelabelings"] == [{"sourceLabels": ["__name__"], "action": "keep", "regex": metrics}]


def test_builtin_objects_validate(objects):
    assert validate_objects(objects, "1.34.0") == []


def test_schema_rejects_values():
    with pytest.raises(ConfigurationError):
        render_chart(CHART, {"enabled": True}, "1.32.0", release=RELEASE, namespace=NAMESPACE)
