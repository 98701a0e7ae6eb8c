"""Behaviour facts of the Go Calico extension's seed monitoring objects (issue 8): ScrapeConfig job names,
relabelings and metric allow-lists that dashboards and alerts key on, and dashboards with the same uids,
titles, panels and queries. Rendered with the real helm binary."""

from __future__ import annotations

import json

import pytest

from tests.helpers import find, render_chart

NAMESPACE = "shoot--foo--bar"


@pytest.fixture(scope="module")
def objects() -> list[dict]:
    return render_chart("calico-monitoring", {}, "1.32.0", release="calico-monitoring-config", namespace=NAMESPACE)


SCRAPE_FACTS = {
    # name: (job, service, container port name, kept metric names)
    "shoot-calico-felix": ("felix-metrics", "calico-felix-monitoring", "metrics", "felix_.+"),
    "shoot-calico-typha": ("typha-metrics", "calico-typha-monitoring", "metrics", "typha_.+"),
    "shoot-calico-bird": ("bird-metrics", "calico-bird-monitoring", "bird-metrics",
                          "bird_protocol_up.*|bird_protocol_prefix_export_count|bird_protocol_prefix_import_count"),
}


def test_scrape_configs_relabel_like_go(objects):
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == sorted(
        [("ConfigMap", "calico-dashboards")] + [("ScrapeConfig", n) for n in SCRAPE_FACTS])  # no PrometheusRule
    for name, (job, service, port, keep) in SCRAPE_FACTS.items():
        spec = find(objects, "ScrapeConfig", name)["spec"]
        assert "honorLabels" not in spec
        assert spec["relabelings"] == [
            {"action": "replace", "replacement": job, "targetLabel": "job"},
            {"sourceLabels": ["__meta_kubernetes_service_name", "__meta_kubernetes_pod_container_port_name"],
             "separator": ";", "regex": f"{service};{port}", "replacement": "$1", "action": "keep"},
            {"sourceLabels": ["__meta_kubernetes_endpoint_node_name"], "separator": ";", "regex": "(.*)",
             "targetLabel": "node", "replacement": "$1", "action": "replace"},
            {"sourceLabels": ["__meta_kubernetes_pod_name"], "separator": ";", "regex": "(.*)",
             "targetLabel": "pod", "replacement": "$1", "action": "replace"},
            {"targetLabel": "__address__", "replacement": "kube-apiserver:443"},
            {"sourceLabels": ["__meta_kubernetes_pod_name", "__meta_kubernetes_pod_container_port_number"],
             "separator": ";", "regex": "(.+);(.+)", "targetLabel": "__metrics_path__",
             "replacement": "/api/v1/namespaces/kube-system/pods/${1}:${2}/proxy/metrics", "action": "replace"},
        ], name
        assert spec["metricRelabelings"] == [{"sourceLabels": ["__name__"], "action": "keep", "regex": keep}]


DASHBOARD_FACTS = {
    "calico-felix-dashboard.json": ("calico-felix-dashboard", "Felix Dashboard (Calico)", {
        "Alerts and general info": [], "Dataplane": [], "Route table": [],
        "Active hosts on each node": ["felix_active_local_endpoints"],
        "iptables save errors": ["sum(rate(felix_iptables_save_errors[5m]))"],
        "ipset errors": ["sum(rate(felix_ipset_errors[5m]))"],
        "Active calico nodes": ["max(felix_cluster_num_hosts)"],
        "Errors plot": ["rate(felix_ipset_errors[5m])", "rate(felix_iptables_restore_errors[5m])",
                        "rate(felix_iptables_save_errors[5m])", "rate(felix_log_errors[5m])"],
        "Felix cluster policies": ["felix_cluster_num_policies"],
        "iptables restore errors": ["sum(rate(felix_iptables_restore_errors[5m]))"],
        "Felix log errors": ["sum(rate(felix_log_errors[5m]))"],
        "Felix resync started": ["sum(rate(felix_resyncs_started[5m])) "],
        "Felix dropped logs": ["felix_logs_dropped"],
        **{f"Dataplane apply time quantile {q}": [f'felix_int_dataplane_apply_time_seconds{{quantile="{q}"}}']
           for q in ("0.5", "0.9", "0.99")},
        **{f"Felix route table list seconds quantile {q}": [f'felix_route_table_list_seconds{{quantile="{q}"}}']
           for q in ("0.5", "0.9", "0.99")},
    }),
    "calico-bird-dashboard.json": ("ZFX1vGuHk", "Bird Dashboard (Calico)", {
        "General": [], "Prefixes": [],
        "Protocol Status": ['avg(bird_protocol_up{import_filter="ACCEPT",ip_version="4",proto="BGP",state!="Passive"})'],
        "Uptime (Seconds)": ['sum by (name) (bird_protocol_uptime{import_filter="ACCEPT",ip_version="4",proto="BGP"})'],
        "Prefixes Exported (Count)": [
            'sum by (name) (bird_protocol_prefix_export_count{import_filter="ACCEPT",ip_version="4",proto="BGP"})'],
        "Prefixes Imported (Count)": [
            'sum by (name) (bird_protocol_prefix_import_count{import_filter="ACCEPT",ip_version="4",proto="BGP"})'],
    }),
}
TYPHA_QUERIES = {
    "typha_next_breadcrumb_latency_secs", "typha_next_breadcrumb_latency_secs_count",
    "typha_next_breadcrumb_latency_secs_sum", "typha_client_snapshot_send_secs",
    "typha_client_snapshot_send_secs_count", "typha_client_snapshot_send_secs_sum",
    "typha_client_write_latency_secs_count", "typha_client_write_latency_secs_sum",
    "rate(typha_connections_accepted[5m])", "rate(typha_connections_dropped[5m])", "typha_connections_active",
    'typha_log_errors{job="typha-metrics"}', "typha_kvs_per_msg", "typha_kvs_per_msg_count", "typha_kvs_per_msg_sum",
    "typha_ping_latency*1000", "rate(typha_updates_total[5m])", "rate(typha_updates_skipped[5m])",
    "typha_ping_latency_sum", "typha_ping_latency_count", "typha_client_latency_secs",
    "typha_client_latency_secs_sum", "typha_client_latency_secs_count", "typha_client_write_latency_secs*1000",
    "typha_breadcrumb_size", "rate(typha_breadcrumb_block[5m])", "rate(typha_breadcrumb_non_block[5m])",
    "typha_breadcrumb_size_count", "typha_breadcrumb_size_sum", "typha_breadcrumb_seq_number",
}


def dashboards(objects) -> dict[str, dict]:
    data = find(objects, "ConfigMap", "calico-dashboards")["data"]
    return {key: json.loads(value) for key, value in data.items()}


def test_dashboards_keep_gos_uids_titles_and_panels(objects):
    boards = dashboards(objects)
    assert set(boards) == {"calico-felix-dashboard.json", "calico-typha-dashboard.json", "calico-bird-dashboard.json"}
    for key, (uid, title, panels) in DASHBOARD_FACTS.items():
        board = boards[key]
        assert (board["uid"], board["title"]) == (uid, title)
        assert {p["title"]: [t["expr"] for t in p.get("targets", [])] for p in board["panels"]} == panels
        assert len(board["panels"]) == len(panels)
    typha = boards["calico-typha-dashboard.json"]
    assert (typha["uid"], typha["title"]) == ("calico-typha-dashboard", "Typha Dashboard (Calico)")
    assert len(typha["panels"]) == 31
    assert [p["title"] for p in typha["panels"] if p["type"] == "row"] == [
        "summaries", "kvs and latency", "General client info", "Breadcrumb"]
    assert {t["expr"] for p in typha["panels"] for t in p.get("targets", [])} == TYPHA_QUERIES
    for board in boards.values():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
