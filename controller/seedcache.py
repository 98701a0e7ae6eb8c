"""The controller's read cache of the seed: the informer stores of Networks, Clusters and Namespaces.

Built by `manager` from its informers (watch-driven, re-listed every resync period); read by
`reconciler` (the Network and its Cluster, instead of a GET) and by the manager's workers, which
evaluate the ShootNotFailed predicate (`contract.shoot_not_failed`) here, from the cache, with a GET
only for what it lacks (just created, the watch not there yet).
"""

from __future__ import annotations

from controller import contract
from controller.errors import ConfigurationError, TransientError
from controller.kube import Kube
from controller.resources import CLUSTERS, NAMESPACES, Resource

class SeedCache:
    def __init__(self, kube: Kube, stores: dict[Resource, dict[str, dict]]):
        self.kube, self.stores = kube, stores

    def get(self, resource: Resource, namespace: str, name: str) -> dict | None:
        """An object from the informer stores (None: not cached)."""
        return self.stores[resource].get(f"{namespace}/{name}" if namespace else name)

    async def shoot_not_failed(self, key: str) -> bool:
        """ShootNotFailed for the Network `key`: an unreadable namespace lets the event through, an
        unreadable Cluster of a shoot namespace drops it."""
        namespace = key.split("/", 1)[0]
        ns = self.get(NAMESPACES, "", namespace)
        if ns is None:
            try:
                ns = await self.kube.get(NAMESPACES, "", namespace)
            except (TransientError, ConfigurationError):
                ns = None
        cluster = None
        if contract.is_shoot_namespace(ns):
            cluster = self.get(CLUSTERS, "", namespace)
            if cluster is None:
                try:
                    cluster = await self.kube.get(CLUSTERS, "", namespace)
                except (TransientError, ConfigurationError):
                    return False
        return contract.shoot_not_failed(ns, cluster)
