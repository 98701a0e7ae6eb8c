"""The controller serving type cilium end to end: the example cilium shoot (kube-proxy disabled) and its
Network, reconciled next to a calico one by a single controller, through real HTTP."""

from __future__ import annotations

import base64

import yaml

from tests.integration.conftest import NETWORKS, example, wait_for

CILIUM_NS = "shoot--foo--baz"
CILIUM_MR = "extension-networking-cilium-config"


def test_cilium_network_is_reconciled_into_its_managed_resource(emu, start):
    emu.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": CILIUM_NS, "labels": {"gardener.cloud/role": "shoot"}}})
    emu.create(example("cluster-baz.yaml"))
    emu.create(example("network-cilium.yaml") | {"metadata": {
        **example("network-cilium.yaml")["metadata"], "annotations": {"gardener.cloud/operation": "reconcile"}}})
    emu.create(example("cluster.yaml"))
    emu.create(example("network-calico.yaml"))
    start("--types", "calico,cilium")

    def succeeded(namespace, name):
        status = (emu.get(*NETWORKS, name, namespace) or {}).get("status") or {}
        return (status.get("lastOperation") or {}).get("state") == "Succeeded" and status

    status = wait_for(lambda: succeeded(CILIUM_NS, "baz"), timeout=20, message="cilium Network Succeeded")
    wait_for(lambda: succeeded("shoot--foo--bar", "bar"), timeout=20, message="calico Network Succeeded")
    assert status["providerStatus"] == {"apiVersion": "cilium.networking.extensions.gardener.cloud/v1alpha1",
                                        "kind": "NetworkStatus"}
    assert status["ipFamilies"] == ["IPv4"]

    mr = emu.get("resources.gardener.cloud/v1alpha1", "managedresources", CILIUM_MR, CILIUM_NS)
    assert mr["metadata"]["labels"] == {"origin": "extension-networking-cilium"}
    secret = emu.get("v1", "secrets", mr["spec"]["secretRefs"][0]["name"], CILIUM_NS)
    objects = [o for o in yaml.safe_load_all(base64.b64decode(secret["data"]["config.yaml"])) if o]
    config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "cilium-config")
    # kube-proxy is disabled in this shoot: cilium replaces it and talks to the external API address
    assert config["data"]["kube-proxy-replacement"] == "true"
    assert config["data"]["enable-hubble"] == "true"
    operator = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "cilium-operator")
    env = {e["name"]: e.get("value") for e in operator["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    assert env["KUBERNETES_SERVICE_HOST"] == "api.baz.foo.local.gardener.cloud"
    assert {s["metadata"]["name"] for s in emu.list("monitoring.coreos.com/v1alpha1", "scrapeconfigs", CILIUM_NS)} == {
        "shoot-cilium-agent", "shoot-cilium-hubble", "shoot-cilium-operator"}
    assert emu.get("monitoring.coreos.com/v1", "prometheusrules", "shoot-cilium-agent", CILIUM_NS) is not None
    # the calico Network of the other shoot was served by the same controller, with its own MR
    assert emu.get("resources.gardener.cloud/v1alpha1", "managedresources",
                   "extension-networking-calico-config", "shoot--foo--bar") is not None
