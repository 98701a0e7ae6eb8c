"""Live inputs: the shoot ConfigMaps a mapping names under `liveInputs` (cilium's IPAM mode) are read
through the shoot kubeconfig Gardener keeps in the seed (Secret `gardener-internal`), best effort."""

from __future__ import annotations

import base64
import copy

import pytest
import yaml

from apiserver_emulator import Emulator
from tests.integration.conftest import NETWORKS, example, wait_for

NS = "shoot--foo--baz"


@pytest.fixture
def shoot_api():
    with Emulator() as emulator:
        yield emulator


def seed_cilium(emu, shoot_api=None, hibernated=False, secret_name="gardener-internal"):
    emu.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": NS, "labels": {"gardener.cloud/role": "shoot"}}})
    cluster = copy.deepcopy(example("cluster-baz.yaml"))
    if hibernated:
        cluster["spec"]["shoot"]["spec"]["hibernation"] = {"enabled": True}
    emu.create(cluster)
    if shoot_api is not None:
        kubeconfig = yaml.safe_dump(shoot_api.kubeconfig()).encode()
        emu.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret_name, "namespace": NS},
                    "data": {"kubeconfig": base64.b64encode(kubeconfig).decode()}})
    emu.create(example("network-cilium.yaml"))


def rendered_ipam(emu) -> str:
    def done():
        status = (emu.get(*NETWORKS, "baz", NS) or {}).get("status") or {}
        return (status.get("lastOperation") or {}).get("state") == "Succeeded"
    wait_for(done, timeout=20, message="cilium Network Succeeded")
    mr = emu.get("resources.gardener.cloud/v1alpha1", "managedresources", "extension-networking-cilium-config", NS)
    secret = emu.get("v1", "secrets", mr["spec"]["secretRefs"][0]["name"], NS)
    objects = [o for o in yaml.safe_load_all(base64.b64decode(secret["data"]["config.yaml"])) if o]
    return next(o for o in objects if o["metadata"]["name"] == "cilium-config")["data"]["ipam"]


@pytest.mark.parametrize("secret_name", ["gardener-internal", "gardener"])
def test_ipam_mode_of_the_running_shoot_is_kept(emu, start, shoot_api, secret_name):
    shoot_api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cilium-config",
                      "namespace": "kube-system"}, "data": {"ipam": "cluster-pool"}})
    seed_cilium(emu, shoot_api, secret_name=secret_name)
    start("--types", "cilium")
    assert rendered_ipam(emu) == "cluster-pool"


def test_new_shoot_without_cilium_config_gets_the_default(emu, start, shoot_api):
    seed_cilium(emu, shoot_api)
    start("--types", "cilium")
    assert rendered_ipam(emu) == "kubernetes"


def test_hibernated_shoot_is_not_asked(emu, start, shoot_api):
    shoot_api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cilium-config",
                      "namespace": "kube-system"}, "data": {"ipam": "cluster-pool"}})
    seed_cilium(emu, shoot_api, hibernated=True)
    start("--types", "cilium")
    assert rendered_ipam(emu) == "kubernetes"
    assert not [path for _, path, _ in shoot_api.request_log if "configmaps" in path]


def test_unreachable_shoot_does_not_fail_the_reconcile(emu, start):
    unreachable = {"apiVersion": "v1", "kind": "Config", "current-context": "x",
                   "clusters": [{"name": "x", "cluster": {"server": "http://127.0.0.1:9"}}],
                   "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}], "users": [{"name": "x", "user": {}}]}
    seed_cilium(emu)
    emu.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gardener-internal", "namespace": NS},
                "data": {"kubeconfig": base64.b64encode(yaml.safe_dump(unreachable).encode()).decode()}})
    start("--types", "cilium")
    assert rendered_ipam(emu) == "kubernetes"
