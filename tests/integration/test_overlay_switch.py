"""SeamlessOverlaySwitch (calico.md 4.7) end to end: switching a running overlay off waits, with a
retried error, until every shoot Node has its routes; read through the shoot access secret. The wait
rule's `retryAfter` (30 s by default) is shortened to 1 s in a copy of the mapping files."""

from __future__ import annotations

import base64
import copy
import shutil

import yaml
from kubernetes import client

from apiserver_emulator import Emulator
from tests.helpers import ROOT
from tests.integration.conftest import NS, example, get_network, network, wait_for

GATE_CONFIG = {"apiVersion": "calico.networking.extensions.config.gardener.cloud/v1alpha1",
               "kind": "ControllerConfiguration", "featureGates": {"SeamlessOverlaySwitch": True}}
CALICO_NODE = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "calico-node", "namespace": "kube-system"},
               "spec": {"selector": {"matchLabels": {"k8s-app": "calico-node"}}, "template": {
                   "metadata": {"labels": {"k8s-app": "calico-node"}},
                   "spec": {"containers": [{"name": "calico-node", "image": "calico/node",
                                            "env": [{"name": "FELIX_IPINIPENABLED", "value": "true"}]}]}}}}


def node(name: str, routed: bool) -> dict:
    condition = {"type": "NetworkUnavailable", "status": "False" if routed else "True",
                 "reason": "RouteCreated" if routed else "NoRouteCreated"}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": {"conditions": [condition]}}


def test_overlay_is_switched_off_only_once_all_nodes_have_routes(emu, start, tmp_path, monkeypatch):
    mappings = tmp_path / "values-mapping"
    shutil.copytree(ROOT / "values-mapping", mappings)
    (tmp_path / "charts").symlink_to(ROOT / "charts")  # the mapping files name their charts relatively
    calico = (mappings / "calico.yaml").read_text()
    wait = "  - wait: waiting for routes to be created on all nodes before disabling overlay\n"
    assert wait in calico
    (mappings / "calico.yaml").write_text(calico.replace(wait, wait + "    retryAfter: 1\n"))
    monkeypatch.setenv("NETWORKING_MAPPINGS_DIR", str(mappings))
    with Emulator() as shoot_api:
        shoot_api.create(CALICO_NODE)
        shoot_api.create(node("a", routed=True))
        shoot_api.create(node("b", routed=False))
        cluster = copy.deepcopy(example("cluster.yaml"))
        cluster["spec"]["shoot"]["spec"]["kubernetes"]["version"] = "1.36.0"
        emu.create(cluster)
        kubeconfig = yaml.safe_dump(shoot_api.kubeconfig()).encode()
        emu.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gardener-internal", "namespace": NS},
                    "data": {"kubeconfig": base64.b64encode(kubeconfig).decode()}})
        emu.create(network())  # overlay disabled
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(GATE_CONFIG))
        start("--config-file", str(config))

        def last_error():
            return ((get_network(emu) or {}).get("status") or {}).get("lastError")
        error = wait_for(last_error, timeout=20, message="the wait is reported")
        assert "waiting for routes to be created on all nodes before disabling overlay" in error["description"]
        assert "ERR_CONFIGURATION_PROBLEM" not in (error.get("codes") or [])
        assert emu.get("resources.gardener.cloud/v1alpha1", "managedresources",
                       "extension-networking-calico-config", NS) is None

        with shoot_api.api_client() as api:
            client.CoreV1Api(api).patch_node_status("b", {"status": {"conditions": [
                {"type": "NetworkUnavailable", "status": "False", "reason": "RouteCreated"}]}})

        def succeeded():
            status = (get_network(emu) or {}).get("status") or {}
            return (status.get("lastOperation") or {}).get("state") == "Succeeded" and "lastError" not in status
        wait_for(succeeded, timeout=30, message="Succeeded once the routes exist")
        assert emu.get("resources.gardener.cloud/v1alpha1", "managedresources",
                       "extension-networking-calico-config", NS) is not None
