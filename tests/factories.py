"""Builders of Network and Shoot dicts for tests, with the shapes gardenlet writes."""

from __future__ import annotations

import copy

CALICO_API = "calico.networking.extensions.gardener.cloud/v1alpha1"


def network(provider_config: dict | None = None, *, type_: str = "calico", families=("IPv4",),
            pod_cidr: str = "10.244.0.0/16", service_cidr: str = "10.96.0.0/24", api: str | None = CALICO_API,
            name: str = "bar", namespace: str = "shoot--foo--bar") -> dict:
    spec = {"type": type_, "podCIDR": pod_cidr, "serviceCIDR": service_cidr, "ipFamilies": list(families)}
    if provider_config is not None:
        spec["providerConfig"] = ({"apiVersion": api, "kind": "NetworkConfig"} if api else {}) | provider_config
    return {"apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Network",
            "metadata": {"name": name, "namespace": namespace, "generation": 1}, "spec": spec}


def shoot(version: str = "1.32.0", *, kube_proxy: dict | None = None, nodes: str | None = "10.250.0.0/16",
          vpa: bool = False, status_networking: dict | None = None, constraints: list | None = None,
          workers_minimum: tuple = (2,)) -> dict:
    result = {
        "apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot",
        "metadata": {"name": "bar", "namespace": "garden-foo"},
        "spec": {
            "kubernetes": {"version": version,
                           "kubeProxy": copy.deepcopy(kube_proxy) if kube_proxy is not None
                           else {"enabled": True, "mode": "IPTables"},
                           "verticalPodAutoscaler": {"enabled": vpa}},
            "networking": {"type": "calico", "pods": "10.244.0.0/16", "services": "10.96.0.0/24"},
            "provider": {"type": "local", "workers": [{"name": f"w{i}", "minimum": m, "maximum": m + 1}
                                                      for i, m in enumerate(workers_minimum)]},
        },
        "status": {"advertisedAddresses": [{"name": "external", "url": "https://api.bar.example.com"}]},
    }
    if nodes:
        result["spec"]["networking"]["nodes"] = nodes
    if status_networking is not None:
        result["status"]["networking"] = status_networking
    if constraints is not None:
        result["status"]["constraints"] = constraints
    return result


def cluster(shoot_obj: dict, name: str = "shoot--foo--bar") -> dict:
    return {"apiVersion": "extensions.gardener.cloud/v1alpha1", "kind": "Cluster", "metadata": {"name": name},
            "spec": {"cloudProfile": {"apiVersion": "core.gardener.cloud/v1beta1", "kind": "CloudProfile"},
                     "seed": {"apiVersion": "core.gardener.cloud/v1beta1", "kind": "Seed"}, "shoot": shoot_obj}}
