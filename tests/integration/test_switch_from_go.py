"""A seed switches from the Go extensions to this controller: the shoot keeps running.

The shoot starts with the workloads and Services as the Go extensions leave them: their immutable
fields (workload selectors, Service type and clusterIP, the Job's template) written here from the
facts of the Go charts, plus the gardener-resource-manager annotations GRM relies on. Then our
controller reconciles the same Network and the real GRM applies our ManagedResource over them:
`ResourcesApplied=True` and no object is recreated, except the hubble certificate Job when its
template differs: Go and we mark it `delete-on-invalid-update`, so GRM recreates it, as it does on
every image bump under Go.
"""

from __future__ import annotations

import copy

import pytest

from tests.integration.conftest import example, wait_for
from tests.integration.test_resource_manager import (applied, assert_all_live_as_rendered, grm,  # noqa: F401
                                                     manifest, seed_network, succeeded)

pytestmark = [pytest.mark.real_apiserver, pytest.mark.resource_manager,
              pytest.mark.parametrize("emu", ["real"], indirect=True)]
MRS = ("resources.gardener.cloud/v1alpha1", "managedresources")
GRM_TIMEOUT = 90
DELETE_ON_INVALID_UPDATE = {"resources.gardener.cloud/delete-on-invalid-update": "true"}

# (kind, name): the selector's matchLabels in the Go charts (kube-system).
CALICO_WORKLOADS = {
    ("DaemonSet", "calico-node"): {"k8s-app": "calico-node"},
    ("DaemonSet", "multus"): {"k8s-app": "multus"},
    ("Deployment", "calico-kube-controllers"): {"k8s-app": "calico-kube-controllers"},
    ("Deployment", "calico-node-vertical-autoscaler"): {"k8s-app": "calico-node-autoscaler"},
    ("Deployment", "calico-typha-horizontal-autoscaler"): {"k8s-app": "calico-typha-horizontal-autoscaler"},
    ("Deployment", "calico-typha-vertical-autoscaler"): {"k8s-app": "calico-typha-vertical-autoscaler"},
    ("Deployment", "calico-typha-deploy"): {"k8s-app": "calico-typha"},
}
# name: (selector, headless?) of the Go charts' Services (kube-system).
CALICO_SERVICES = {
    "calico-bird-monitoring": ({"k8s-app": "calico-node"}, False),
    "calico-felix-monitoring": ({"k8s-app": "calico-node"}, False),
    "calico-typha": ({"k8s-app": "calico-typha"}, False),
    "calico-typha-monitoring": ({"k8s-app": "calico-typha"}, False),
}
CILIUM_WORKLOADS = {
    ("DaemonSet", "cilium"): {"k8s-app": "cilium"},
    ("DaemonSet", "cilium-envoy"): {"k8s-app": "cilium-envoy"},
    ("Deployment", "cilium-operator"): {"io.cilium/app": "operator", "name": "cilium-operator"},
    ("Deployment", "hubble-relay"): {"k8s-app": "hubble-relay"},
    ("Deployment", "hubble-ui"): {"k8s-app": "hubble-ui"},
}
CILIUM_SERVICES = {
    "hubble-metrics": ({"k8s-app": "cilium"}, True),
    "cilium-envoy": ({"k8s-app": "cilium-envoy"}, True),
    "hubble-relay": ({"k8s-app": "hubble-relay"}, False),
    "hubble-peer": ({"k8s-app": "cilium"}, False),
    "hubble-ui": ({"k8s-app": "hubble-ui"}, False),
}


def workload(kind: str, name: str, selector: dict, origin: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": "kube-system",
                         "annotations": {"resources.gardener.cloud/origin": origin}},
            "spec": {"selector": {"matchLabels": selector},
                     "template": {"metadata": {"labels": selector},
                                  "spec": {"containers": [{"name": "go", "image": "registry.example.com/go:1"}]}}}}


def service(name: str, selector: dict, headless: bool, origin: str) -> dict:
    spec = {"type": "ClusterIP", "selector": selector, "ports": [{"name": "metrics", "port": 9999}]}
    if headless:
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "kube-system",
                         "annotations": {"resources.gardener.cloud/origin": origin}}, "spec": spec}


def certificate_job(origin: str) -> dict:
    """The hubble certificate Job as Go leaves it: a template of another image, recreatable."""
    labels = {"k8s-app": "hubble-generate-certs"}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "hubble-generate-certs", "namespace": "kube-system",
                         "annotations": {"resources.gardener.cloud/origin": origin, **DELETE_ON_INVALID_UPDATE}},
            "spec": {"backoffLimit": 10, "template": {
                "metadata": {"labels": labels},
                "spec": {"restartPolicy": "OnFailure",
                         "containers": [{"name": "certgen", "image": "registry.example.com/certgen:go"}]}}}}


def leave_as_go(shoot, objects: list[dict]) -> dict[tuple[str, str], str]:
    """Create the Go objects in the shoot; returns their uids by (kind, name)."""
    return {(o["kind"], o["metadata"]["name"]): shoot.create(o)["metadata"]["uid"] for o in objects}


def switch(emu, start, grm, shoot, namespace: str, name: str, mr_name: str, types: str, go_objects: list[dict],
           cluster_file: str, network_file: str, **provider_config) -> tuple[dict, dict]:
    """Reconcile the Network with our controller and GRM over the Go objects; returns (uids before, MR)."""
    before = leave_as_go(shoot, go_objects)
    seed_network(emu, namespace, cluster_file, network_file, **provider_config)
    start("--types", types)
    manager = grm(namespace)
    wait_for(succeeded(emu, namespace, name), timeout=30, message="Network Succeeded")
    mr = wait_for(applied(emu, namespace, mr_name, manager), timeout=GRM_TIMEOUT,
                  message=f"ResourcesApplied over the Go objects\n{manager.log_tail()}")
    return before, mr


def uids_now(shoot, before: dict) -> dict[tuple[str, str], str | None]:
    versions = {"DaemonSet": "apps/v1", "Deployment": "apps/v1", "Service": "v1", "Job": "batch/v1"}
    return {key: (shoot.get(versions[key[0]], key[0], key[1], "kube-system") or {}).get("metadata", {}).get("uid")
            for key in before}


def remove_from_shoot(shoot, objects: list[dict]) -> None:
    for obj in objects:
        path = shoot.path(obj["apiVersion"], obj["kind"], "kube-system", obj["metadata"]["name"])
        shoot.http("DELETE", path + "?propagationPolicy=Background")


def test_calico_shoot_switched_from_go_keeps_its_objects(emu, start, grm, shoot_cluster):  # noqa: F811
    namespace, mr_name = "shoot--foo--bar", "extension-networking-calico-config"
    origin = f"{namespace}/{mr_name}"
    go_objects = ([workload(kind, name, selector, origin) for (kind, name), selector in CALICO_WORKLOADS.items()]
                  + [service(name, sel, headless, origin) for name, (sel, headless) in CALICO_SERVICES.items()])
    try:
        before, mr = switch(emu, start, grm, shoot_cluster, namespace, "bar", mr_name, "calico", go_objects,
                            "cluster.yaml", "network-calico.yaml", birdExporter={"enabled": True},
                            multus={"enabled": True})
        assert uids_now(shoot_cluster, before) == before, "no Go object was recreated"
        assert_all_live_as_rendered(shoot_cluster, manifest(emu, mr))
    finally:
        remove_from_shoot(shoot_cluster, go_objects)


def test_cilium_shoot_switched_from_go_keeps_its_objects(emu, start, grm, shoot_cluster):  # noqa: F811
    namespace, mr_name = "shoot--foo--baz", "extension-networking-cilium-config"
    origin = f"{namespace}/{mr_name}"
    go_objects = ([workload(kind, name, selector, origin) for (kind, name), selector in CILIUM_WORKLOADS.items()]
                  + [service(name, sel, headless, origin) for name, (sel, headless) in CILIUM_SERVICES.items()]
                  + [certificate_job(origin)])
    network = copy.deepcopy(example("network-cilium.yaml"))
    assert network["spec"]["providerConfig"]["hubble"]["enabled"] is True, "the example enables hubble"
    try:
        before, mr = switch(emu, start, grm, shoot_cluster, namespace, "baz", mr_name, "cilium", go_objects,
                            "cluster-baz.yaml", "network-cilium.yaml")
        now = uids_now(shoot_cluster, before)
        job = ("Job", "hubble-generate-certs")
        assert {k: v for k, v in now.items() if k != job} == {k: v for k, v in before.items() if k != job}
        assert now[job] not in (None, before[job]), "the certificate Job is recreated, as under Go"
        assert_all_live_as_rendered(shoot_cluster, manifest(emu, mr))
    finally:
        remove_from_shoot(shoot_cluster, go_objects)
