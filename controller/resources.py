"""The API resources the controller reads and writes, by apiVersion, plural and scope.

Pure addresses: the generic client (`kube`) builds request paths from them; `manager`, `reconciler`,
`createforshoot`, `events`, `runtime.leaderelection` and `diff` name what they touch with them.
"""

from __future__ import annotations

from typing import NamedTuple


class Resource(NamedTuple):
    api_version: str
    plural: str
    namespaced: bool = True

    @property
    def group_version(self) -> tuple[str, str]:
        group, _, version = self.api_version.rpartition("/")
        return group, version

    def path(self, namespace: str = "", name: str = "", subresource: str = "") -> str:
        """The REST path of the collection (no name) or of one object, optionally a subresource."""
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        path = f"{base}/{self.plural}" + (f"/{name}" if name else "")
        return path + (f"/{subresource}" if subresource else "")


NETWORKS = Resource("extensions.gardener.cloud/v1alpha1", "networks")
CLUSTERS = Resource("extensions.gardener.cloud/v1alpha1", "clusters", namespaced=False)
MANAGED_RESOURCES = Resource("resources.gardener.cloud/v1alpha1", "managedresources")
SECRETS = Resource("v1", "secrets")
EVENTS = Resource("v1", "events")
NAMESPACES = Resource("v1", "namespaces", namespaced=False)
LEASES = Resource("coordination.k8s.io/v1", "leases")
