"""Shoot manifests for the admission tests."""

from __future__ import annotations

import copy

API_VERSIONS = {"calico": "calico.networking.extensions.gardener.cloud/v1alpha1",
                "cilium": "cilium.networking.extensions.gardener.cloud/v1alpha1"}


def shoot(network_type: str = "calico", provider_config: dict | None = None, name: str = "foo",
          labelled: bool = True, kube_proxy: dict | None = None, families=("IPv4",), workers: bool = True,
          **networking) -> dict:
    """A Shoot of `network_type` with `provider_config` (typed with the type's apiVersion/kind)."""
    net = {"type": network_type, "pods": "100.96.0.0/11", "nodes": "10.250.0.0/16", "services": "100.64.0.0/13",
           "ipFamilies": list(families), **networking}
    if provider_config is not None:
        net["providerConfig"] = {"apiVersion": API_VERSIONS.get(network_type, "x/v1"), "kind": "NetworkConfig",
                                 **copy.deepcopy(provider_config)}
    kubernetes = {"version": "1.32.0"}
    if kube_proxy is not None:
        kubernetes["kubeProxy"] = kube_proxy
    labels = {f"networking.extensions.gardener.cloud/{network_type}": "true"} if labelled else {}
    spec = {"kubernetes": kubernetes, "networking": net, "region": "local",
            "provider": {"type": "local", "workers": [{"name": "worker", "minimum": 1, "maximum": 2}] if workers else []}}
    return {"apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot",
            "metadata": {"name": name, "namespace": "garden-dev", "labels": labels}, "spec": spec}
