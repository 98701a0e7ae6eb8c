"""Our ManagedResources consumed by the real gardener-resource-manager (GRM), as in a seed.

Seed = the session's real API server (the controller and GRM's source), shoot = a second real API
server with kube-controller-manager's garbage collector (GRM's target). Every object of the
ManagedResource's Secret must arrive in the shoot exactly as rendered, the ManagedResource must reach
`ResourcesApplied=True`, and a providerConfig change, migrate (keepObjects), restore and delete must
have the effect Gardener expects in the shoot. The seed-side monitoring objects, which the controller
applies itself, are checked the same way against the seed.
"""

from __future__ import annotations

import base64
import copy

import pytest
import yaml
from kubernetes.utils import parse_quantity

from controller.mapping.loader import load_mapping
from tests.cluster.resource_manager import ResourceManager
from tests.helpers import MAPPINGS, render_chart
from tests.integration.conftest import NETWORKS, example, wait_for
from tests.integration.test_controller import annotate, patch_spec

pytestmark = [pytest.mark.real_apiserver, pytest.mark.resource_manager,
              pytest.mark.parametrize("emu", ["real"], indirect=True)]
MRS = ("resources.gardener.cloud/v1alpha1", "managedresources")
GRM_TIMEOUT = 60


@pytest.fixture
def grm(emu, shoot_cluster, tmp_path):
    """start(namespace) runs GRM for the ManagedResources of that seed namespace."""
    running: list[ResourceManager] = []

    def start(namespace: str) -> ResourceManager:
        manager = ResourceManager(emu, shoot_cluster, namespace, tmp_path / f"grm-{namespace}").start()
        running.append(manager)
        return manager

    yield start
    for manager in running:
        manager.stop()


def conditions(mr: dict | None) -> dict[str, str]:
    return {c["type"]: c["status"] for c in ((mr or {}).get("status") or {}).get("conditions", [])}


def applied(seed, namespace: str, name: str, manager: ResourceManager):
    """A waiter: the ManagedResource applied in its current generation (GRM must still be alive)."""
    def check():
        manager.process.check_alive()
        mr = seed.get(*MRS, name, namespace)
        status = (mr or {}).get("status") or {}
        done = (conditions(mr).get("ResourcesApplied") == "True"
                and status.get("observedGeneration") == mr["metadata"]["generation"])
        return mr if done else None
    return check


def manifest(seed, mr: dict) -> list[dict]:
    """The objects of the ManagedResource's Secret(s)."""
    objects = []
    for ref in mr["spec"]["secretRefs"]:
        secret = seed.get("v1", "secrets", ref["name"], mr["metadata"]["namespace"])
        for data in secret["data"].values():
            objects += [o for o in yaml.safe_load_all(base64.b64decode(data)) if o]
    return objects


def differences(want, have, path: str = "") -> list[str]:
    """Where the live object `have` lacks or changes what the rendered object `want` says (the API
    server may add defaults and GRM its labels and annotations; it drops zero values, as Go's
    `omitempty` does, so a rendered `false`, "" or empty value may be absent or null; it writes
    quantities in canonical form, so `1000m` comes back as `1`)."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [f"{path}: {have!r} is not a map"]
        return [d for key, value in want.items()
                for d in ([] if have.get(key) is None and value in (None, {}, [], False, "")
                          else differences(value, have.get(key), f"{path}.{key}"))]
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return [f"{path}: {have!r} != {want!r}"]
        return [d for i, (w, h) in enumerate(zip(want, have)) for d in differences(w, h, f"{path}[{i}]")]
    return [] if want == have or _same_quantity(want, have) else [f"{path}: {have!r} != {want!r}"]


def _same_quantity(want, have) -> bool:
    if not (isinstance(want, str) and isinstance(have, str)):
        return False
    try:
        return parse_quantity(want) == parse_quantity(have)
    except ValueError:
        return False


def live(cluster, obj: dict) -> dict | None:
    meta = obj["metadata"]
    namespaced = cluster.namespaced(obj["apiVersion"], obj["kind"])
    return cluster.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace") if namespaced else None)


def assert_all_live_as_rendered(cluster, objects: list[dict]) -> None:
    problems = []
    for obj in objects:
        found = live(cluster, obj)
        where = f"{obj['kind']}/{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
        if found is None:
            problems.append(f"{where}: missing")
        else:
            problems += [f"{where}{d}" for d in differences(obj, found)]
    assert not problems, "\n".join(problems)


def seed_network(seed, namespace: str, cluster_file: str, network_file: str, **provider_config) -> dict:
    seed.ensure_namespace(namespace, {"gardener.cloud/role": "shoot"})
    seed.create(example(cluster_file))
    network = copy.deepcopy(example(network_file))
    network["spec"]["providerConfig"].update(provider_config)
    return seed.create(network)


def succeeded(seed, namespace: str, name: str, operation: str | None = None):
    """A waiter: the last operation (of that type) Succeeded and its annotation is gone, as gardenlet
    waits before it asks for the next operation."""
    def check():
        network = seed.get(*NETWORKS, name, namespace) or {}
        status = network.get("status") or {}
        last = status.get("lastOperation") or {}
        annotations = network.get("metadata", {}).get("annotations") or {}
        return (last.get("state") == "Succeeded" and last.get("type") == (operation or last.get("type"))
                and "gardener.cloud/operation" not in annotations and status)
    return check


def test_calico_through_the_resource_manager_apply_update_migrate_restore_delete(emu, start, grm, shoot_cluster):
    namespace, name, mr_name = "shoot--foo--bar", "bar", "extension-networking-calico-config"
    seed_network(emu, namespace, "cluster.yaml", "network-calico.yaml")
    start()
    manager = grm(namespace)
    wait_for(succeeded(emu, namespace, name), timeout=30, message="Network Succeeded")
    mr = wait_for(applied(emu, namespace, mr_name, manager), timeout=GRM_TIMEOUT, message="ResourcesApplied")
    objects = manifest(emu, mr)
    assert {o["kind"] for o in objects} >= {"DaemonSet", "Deployment", "ConfigMap", "CustomResourceDefinition",
                                           "IPPool", "ClusterRole", "Service"}
    assert_all_live_as_rendered(shoot_cluster, objects)

    # The seed-side monitoring objects, applied by the controller itself, are there as rendered too.
    monitoring = load_mapping(MAPPINGS / "calico.yaml").monitoring
    seed_objects = render_chart(monitoring.chart, release=monitoring.release, namespace=namespace,
                                kube_version="1.32.0")
    assert seed_objects
    assert_all_live_as_rendered(emu, [o | {"metadata": {**o["metadata"], "namespace": namespace}}
                                      for o in seed_objects])

    # A providerConfig change: typha off removes its Deployment from the shoot, the MTU reaches the config.
    patch_spec(emu, {"providerConfig": {"typha": {"enabled": False}, "vethMTU": "1400"}})
    annotate(emu, "reconcile")
    wait_for(lambda: emu.get(*MRS, mr_name, namespace)["metadata"]["generation"] > mr["metadata"]["generation"],
             timeout=30, message="new ManagedResource generation")
    mr = wait_for(applied(emu, namespace, mr_name, manager), timeout=GRM_TIMEOUT, message="update applied")
    objects = manifest(emu, mr)
    assert_all_live_as_rendered(shoot_cluster, objects)
    assert shoot_cluster.get("apps/v1", "deployments", "calico-typha-deploy", "kube-system") is None
    config = shoot_cluster.get("v1", "configmaps", "calico-config", "kube-system")
    assert config["data"]["veth_mtu"] == "1400"

    # Migrate: the ManagedResource goes with keepObjects, the shoot keeps every object.
    annotate(emu, "migrate")
    wait_for(succeeded(emu, namespace, name, "Migrate"), timeout=GRM_TIMEOUT, message="Migrate Succeeded")
    assert emu.get(*MRS, mr_name, namespace) is None
    assert_all_live_as_rendered(shoot_cluster, objects)

    # Restore: the ManagedResource is back and applied again.
    annotate(emu, "restore")
    wait_for(succeeded(emu, namespace, name), timeout=30, message="Restore Succeeded")
    wait_for(applied(emu, namespace, mr_name, manager), timeout=GRM_TIMEOUT, message="restore applied")

    # Delete: GRM removes the objects from the shoot, then the controller lets the Network go.
    emu.http("DELETE", emu.path(*NETWORKS, namespace, name))
    wait_for(lambda: emu.get(*NETWORKS, name, namespace) is None, timeout=GRM_TIMEOUT, message="Network gone")
    left = [f"{o['kind']}/{o['metadata']['name']}" for o in objects if live(shoot_cluster, o) is not None]
    assert left == [], f"left in the shoot: {left}"


def test_cilium_through_the_resource_manager_apply_and_delete(emu, start, grm, shoot_cluster):
    namespace, name, mr_name = "shoot--foo--baz", "baz", "extension-networking-cilium-config"
    seed_network(emu, namespace, "cluster-baz.yaml", "network-cilium.yaml")
    start("--types", "cilium")
    manager = grm(namespace)
    wait_for(succeeded(emu, namespace, name), timeout=30, message="Network Succeeded")
    mr = wait_for(applied(emu, namespace, mr_name, manager), timeout=GRM_TIMEOUT, message="ResourcesApplied")
    objects = manifest(emu, mr)
    assert {o["kind"] for o in objects} >= {"DaemonSet", "Deployment", "ConfigMap", "CiliumNetworkPolicy", "Job"}
    assert_all_live_as_rendered(shoot_cluster, objects)

    emu.http("DELETE", emu.path(*NETWORKS, namespace, name))
    wait_for(lambda: emu.get(*NETWORKS, name, namespace) is None, timeout=GRM_TIMEOUT, message="Network gone")
    left = [f"{o['kind']}/{o['metadata']['name']}" for o in objects if live(shoot_cluster, o) is not None]
    assert left == [], f"left in the shoot: {left}"
