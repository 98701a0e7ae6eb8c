"""Object storage: the objects, the global resourceVersion counter, the bounded event log and the
watch fan-out.

Only ``rest.py`` writes through :class:`Store`; ``app.py`` subscribes watches. Everything runs on
the emulator's event loop thread, so there is no locking. Stored objects are never mutated after
they are stored (writers store new dicts), which lets the event log and responses share them.
Every operation is O(1) in the number of earlier requests except listing one resource.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from .errors import ApiError

StorageKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str, str]   # (namespace or "", name)


@dataclass(frozen=True, slots=True)
class Event:
    type: str          # ADDED, MODIFIED, DELETED
    key: StorageKey
    rv: int
    obj: dict
    old: dict | None   # previous state, so selector watches can turn MODIFIED into ADDED/DELETED


@dataclass(eq=False)
class Subscription:
    key: StorageKey
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    """Receives :class:`Event` objects, and ``None`` when the server shuts down."""


class Store:
    def __init__(self, event_log_size: int = 10_000):
        self.resource_version = 0
        self._objects: dict[StorageKey, dict[ObjectKey, dict]] = {}
        self._log: deque[Event] = deque(maxlen=event_log_size)
        self._oldest_complete_rv = 0  # the log holds every event with rv > this
        self._subscriptions: dict[StorageKey, set[Subscription]] = {}
        self._namespace_population: dict[str, int] = {}
        self._last_rv: dict[StorageKey, int] = {}

    def get(self, key: StorageKey, namespace: str, name: str) -> dict | None:
        return self._objects.get(key, {}).get((namespace, name))

    def objects(self, key: StorageKey, namespace: str | None = None) -> list[dict]:
        """Sorted by (namespace, name), like etcd keys."""
        bucket = self._objects.get(key, {})
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        return [bucket[k] for k in keys]

    def last_resource_version(self, key: StorageKey) -> int:
        """The resourceVersion of the resource's latest event (what a real watch cache bookmarks)."""
        return self._last_rv.get(key, 0)

    def namespace_population(self, namespace: str) -> int:
        return self._namespace_population.get(namespace, 0)

    def put(self, key: StorageKey, obj: dict, old: dict | None) -> dict:
        """Store ``obj`` under a new resourceVersion (set in place) and emit ADDED or MODIFIED."""
        self.resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self.resource_version)
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        self._objects.setdefault(key, {})[(namespace, meta["name"])] = obj
        if old is None and namespace:
            self._namespace_population[namespace] = self.namespace_population(namespace) + 1
        self._emit(Event("MODIFIED" if old else "ADDED", key, self.resource_version, obj, old))
        return obj

    def remove(self, key: StorageKey, obj: dict) -> dict:
        """Delete the stored object; the DELETED event carries its final state at a new resourceVersion."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        old = self._objects[key].pop((namespace, meta["name"]))
        if namespace:
            self._namespace_population[namespace] -= 1
        self.resource_version += 1
        final = {**obj, "metadata": {**meta, "resourceVersion": str(self.resource_version)}}
        self._emit(Event("DELETED", key, self.resource_version, final, old))
        return final

    def _emit(self, event: Event) -> None:
        if len(self._log) == self._log.maxlen:
            self._oldest_complete_rv = self._log[0].rv
        self._log.append(event)
        self._last_rv[event.key] = event.rv
        for subscription in self._subscriptions.get(event.key, ()):
            subscription.queue.put_nowait(event)

    def subscribe(self, key: StorageKey, since: int | None) -> tuple[Subscription, list[Event]]:
        """Subscribe first, then return the logged events after ``since``: nothing can slip between.

        Raises 410 Expired when ``since`` is older than the log reaches back.
        """
        backlog: list[Event] = []
        if since is not None:
            if since < self._oldest_complete_rv:
                raise ApiError(410, f"too old resource version: {since} ({self._oldest_complete_rv})", "Expired")
            for event in reversed(self._log):
                if event.rv <= since:
                    break
                if event.key == key:
                    backlog.append(event)
            backlog.reverse()
        subscription = Subscription(key)
        self._subscriptions.setdefault(key, set()).add(subscription)
        return subscription, backlog

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.get(subscription.key, set()).discard(subscription)

    def close(self) -> None:
        """Wake every watcher with the shutdown sentinel."""
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.queue.put_nowait(None)
