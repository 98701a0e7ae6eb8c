"""The node-local-dns mutations of values-mapping/cilium.yaml (`shootWebhook.mutations`) on the objects
Gardener deploys, with the results of Go's `pkg/webhook/shoot/node_local_dns.go` (cilium.md 4.9)."""

from __future__ import annotations

import copy

import pytest

from controller.mapping import load_mapping
from controller.mapping.loader import MappingFileError
from controller.webhooks.edits import mutate
from tests.helpers import MAPPINGS

MUTATIONS = load_mapping(MAPPINGS / "cilium.yaml").shoot_webhook["mutations"]

COREFILE = """cluster.local:53 {
    errors
    cache {
            success 9984 30
            denial 9984 5
    }
    reload
    loop
    bind 169.254.20.10 100.64.0.10
    forward . 100.64.0.10 {
            force_tcp
    }
    prometheus :9253
    health 169.254.20.10:8080
    }
"""


def configmap(name: str = "node-local-dns-5c8d7b", corefile: str | None = COREFILE) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "kube-system"},
            "data": {} if corefile is None else {"Corefile": corefile}}


def daemonset(name: str = "node-local-dns") -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"template": {"spec": {
                "hostNetwork": True,
                "initContainers": [{"name": "coredns-config-adapter",
                                    "args": ["-configmap=node-local-dns", "-bind=bind 169.254.20.10 100.64.0.10"]}],
                "containers": [{"name": "node-cache",
                                "args": ["-localip", "169.254.20.10,100.64.0.10", "-conf", "/etc/Corefile",
                                         "-upstreamsvc", "kube-dns-upstream", "-skipteardown=false",
                                         "-setupinterface=true", "-setupiptables=true", "-health-port", "8099"],
                                "livenessProbe": {"httpGet": {"host": "169.254.20.10", "path": "/health",
                                                              "port": 8099}}},
                               {"name": "other", "args": ["-skipteardown=false"]}]}}}}


def test_corefile_binds_everywhere_and_health_keeps_its_port():
    result = mutate(MUTATIONS, configmap())
    assert "    bind 0.0.0.0\n" in result["data"]["Corefile"]
    assert "    health :8080\n" in result["data"]["Corefile"]
    assert "169.254.20.10" not in result["data"]["Corefile"]


def test_configmap_without_corefile_gets_an_empty_one_like_go():
    assert mutate(MUTATIONS, configmap(corefile=None))["data"] == {"Corefile": ""}


def test_configmap_name_must_have_the_prefix():
    obj = configmap(name="node-local-dns")  # Go: prefix "node-local-dns-" for ConfigMaps
    assert mutate(MUTATIONS, obj) == obj


def test_daemonset_runs_in_the_pod_network_with_cilium_flags():
    result = mutate(MUTATIONS, daemonset("node-local-dns-worker-a"))
    spec = result["spec"]["template"]["spec"]
    assert "hostNetwork" not in spec
    cache = spec["containers"][0]
    assert cache["args"] == ["-localip", "169.254.20.10,100.64.0.10", "-conf", "/etc/Corefile", "-upstreamsvc",
                             "kube-dns-upstream", "-health-port", "8099",
                             "-skipteardown=true", "-setupinterface=false", "-setupiptables=false"]
    assert cache["livenessProbe"] == {"httpGet": {"path": "/health", "port": 8099}}
    assert spec["containers"][1] == daemonset()["spec"]["template"]["spec"]["containers"][1]
    assert spec["initContainers"][0]["args"] == ["-configmap=node-local-dns", "-bind=bind 0.0.0.0"]


def test_mutation_is_idempotent():
    once = mutate(MUTATIONS, daemonset())
    assert mutate(MUTATIONS, once) == once


def test_objects_being_deleted_and_other_kinds_are_untouched():
    deleting = daemonset()
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert mutate(MUTATIONS, deleting) == deleting
    other = {**copy.deepcopy(daemonset()), "kind": "Deployment"}
    assert mutate(MUTATIONS, other) == other


def test_input_is_not_modified():
    obj = daemonset()
    mutate(MUTATIONS, obj)
    assert obj == daemonset()


def test_an_invalid_pattern_stops_the_mapping_file_at_start_up(tmp_path):
    text = (MAPPINGS / "cilium.yaml").read_text().replace('pattern: "bind.*"', 'pattern: "bind(.*"')
    (tmp_path / "cilium.yaml").write_text(text.replace("../charts/", str(MAPPINGS.parent / "charts") + "/"))
    with pytest.raises(MappingFileError, match=r"shootWebhook.mutations\[0\].edits\[0\]: invalid pattern"):
        load_mapping(tmp_path / "cilium.yaml")
