"""Chart tests of charts/internal/cilium-monitoring (seed-side objects, cilium.md 3.6)."""

from __future__ import annotations

import json

import pytest

from controller.errors import ConfigurationError
from tests.helpers import find, render_chart, validate_objects

CHART = "cilium-monitoring"
RELEASE = "cilium-monitoring-config"
NAMESPACE = "shoot--garden--demo"


def render(values: dict | None = None) -> list[dict]:
    return render_chart(CHART, values or {}, release=RELEASE, namespace=NAMESPACE)


def test_object_set_and_namespace():
    objects = render()
    assert {(o["kind"], o["metadata"]["name"]) for o in objects} == {
        ("ConfigMap", "cilium-dashboards"),
        ("ScrapeConfig", "shoot-cilium-agent"),
        ("ScrapeConfig", "shoot-cilium-hubble"),
        ("ScrapeConfig", "shoot-cilium-operator"),
        ("PrometheusRule", "shoot-cilium-agent"),
    }
    assert {o["metadata"]["namespace"] for o in objects} == {NAMESPACE}
    assert validate_objects(objects, "1.32.0") == []


def test_dashboards_are_grafana_json():
    cm = find(render(), "ConfigMap", "cilium-dashboards")
    assert cm["metadata"]["labels"] == {"dashboard.monitoring.gardener.cloud/shoot": "true"}
    assert set(cm["data"]) == {"cilium-agent-metrics-dashboard.json", "cilium-operator-metrics--dashboard.json",
                               "hubble-dashboard-metrics-dashboard.json"}
    for key, text in cm["data"].items():
        dashboard = json.loads(text)
        assert dashboard["title"] and dashboard["uid"], key
        graphs = [p for p in dashboard["panels"] if p["type"] not in ("row", "text")]
        assert graphs and all(p["targets"][0]["expr"] for p in graphs), key


@pytest.mark.parametrize(("name", "role", "keep", "port"), [
    ("agent", "Endpoints", "cilium;true", "9090"),
    ("hubble", "Endpoints", "cilium;true", "9091"),
    ("operator", "Pod", "operator;true", "${2}"),
])
def test_scrape_configs(name, role, keep, port):
    sc = find(render(), "ScrapeConfig", f"shoot-cilium-{name}")
    spec = sc["spec"]
    assert sc["metadata"]["labels"] == {"prometheus": "shoot"}
    assert spec["authorization"]["credentials"] == {"name": "shoot-access-prometheus-shoot", "key": "token"}
    assert spec["tlsConfig"] == {"insecureSkipVerify": True}
    sd = spec["kubernetesSDConfigs"][0]
    assert (sd["apiServer"], sd["role"], sd["namespaces"]["names"]) == ("https://kube-apiserver", role, ["kube-system"])
    # Go's order: the job label first, then the keep rule
    assert spec["relabelings"][1]["action"] == "keep" and spec["relabelings"][1]["regex"] == keep
    path = next(r for r in spec["relabelings"] if r.get("targetLabel") == "__metrics_path__")
    assert path["replacement"] == f"/api/v1/namespaces/kube-system/pods/${{1}}:{port}/proxy/metrics"
    assert next(r for r in spec["relabelings"] if r.get("targetLabel") == "__address__")["replacement"] == "kube-apiserver:443"
    assert spec["metricRelabelings"][0]["action"] == "keep"


def test_metric_allow_list_from_values():
    sc = find(render({"allowedMetrics": {"agent": ["cilium_a", "cilium_b"]}}), "ScrapeConfig", "shoot-cilium-agent")
    assert sc["spec"]["metricRelabelings"][0]["regex"] == "^(cilium_a|cilium_b)$"


def test_prometheus_rule():
    rule = find(render(), "PrometheusRule", "shoot-cilium-agent")["spec"]["groups"][0]["rules"][0]
    assert rule["record"] == "cilium:api_latency"
    assert "histogram_quantile(0.99" in rule["expr"] and "cilium_agent_api_process_time_seconds_bucket" in rule["expr"]


@pytest.mark.parametrize("values", [
    {"agentMetricsPort": "9090"},
    {"allowedMetrics": {"agent": ["bad name\n  evil: true"]}},
    {"unknown": 1},
])
def test_schema_rejects_invalid_values(values):
    with pytest.raises(ConfigurationError):
        render(values)
