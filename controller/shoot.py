"""Facts the contract needs from the Cluster resource's Shoot, and the default Shoot of the CLI.

Pure readers, used by `pipeline` (kube version), `contract` and `reconciler` (failed shoot, force
deletion) and `offline` (default shoot when no `--cluster` is given).
"""

from __future__ import annotations

import copy

FORCE_DELETION_ANNOTATION = "confirmation.gardener.cloud/force-deletion"

# The shoot `render`/`validate` assume without --cluster: Gardener's defaults for a new IPv4 shoot
# (kube-proxy enabled in IPTables mode, no VPA, one worker pool of minimum 1), Kubernetes 1.32.0.
DEFAULT_SHOOT = {
    "apiVersion": "core.gardener.cloud/v1beta1",
    "kind": "Shoot",
    "metadata": {"name": "local", "namespace": "garden-local"},
    "spec": {
        "kubernetes": {"version": "1.32.0", "kubeProxy": {"enabled": True, "mode": "IPTables"}},
        "networking": {"type": "", "ipFamilies": ["IPv4"]},
        "provider": {"type": "local", "workers": [{"name": "worker", "minimum": 1, "maximum": 2}]},
    },
}


def dig(obj, *keys):
    """obj[k1][k2]..., None when a step is absent or not a mapping (a malformed Cluster never raises)."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def default_shoot() -> dict:
    return copy.deepcopy(DEFAULT_SHOOT)


def shoot_of(cluster: dict | None) -> dict:
    """`cluster.spec.shoot`, or the default shoot when there is no Cluster."""
    if cluster is None:
        return default_shoot()
    shoot = dig(cluster, "spec", "shoot")
    return shoot if isinstance(shoot, dict) else {}


def kube_version(shoot: dict) -> str:
    version = dig(shoot, "spec", "kubernetes", "version")
    return version if isinstance(version, str) else ""


def is_failed(shoot: dict) -> bool:
    return dig(shoot, "status", "lastOperation", "state") == "Failed"


def is_hibernated(shoot: dict) -> bool:
    """Hibernation wanted or done: the shoot's API server may be down."""
    return dig(shoot, "spec", "hibernation", "enabled") is True or dig(shoot, "status", "isHibernated") is True


def needs_force_deletion(shoot: dict) -> bool:
    value = dig(shoot, "metadata", "annotations", FORCE_DELETION_ANNOTATION) or ""
    return str(value).lower() in ("true", "1", "t")
