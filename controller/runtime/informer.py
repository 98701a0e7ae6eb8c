"""An informer: list, then watch until the next resync is due (or the watch breaks), then list again.

Run by `manager` for Networks, Clusters and Namespaces; `store` is the read cache (`seedcache`). Each
event goes to one handler (if any) `(type, object, listed)`; a re-list reports ADDED for new objects,
MODIFIED for known ones and DELETED for gone ones, as a client-go informer's resync does. A handler
that raises is logged and counted, and its event dropped: it cannot stop the watch. The blocking watch runs on a daemon
thread, so a shutdown never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Callable

from controller import metrics
from controller.errors import ConfigurationError, TransientError
from controller.kube import Kube
from controller.resources import Resource

log = logging.getLogger(__name__)

Handler = Callable[[str, dict, bool], None]


def key_of(obj: dict) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


class Informer:
    def __init__(self, kube: Kube, resource: Resource, handler: Handler | None, resync_period: float,
                 stop: threading.Event):
        """`handler` None: the informer only keeps its store (a read cache)."""
        self.kube, self.resource, self.resync_period, self._stop = kube, resource, resync_period, stop
        self._handler = handler
        self._name = handler.__name__.lstrip("_") if handler else resource.plural
        self.store: dict[str, dict] = {}
        self.synced = False

    def _handle(self, event_type: str, obj: dict, listed: bool) -> None:
        key = key_of(obj)
        if event_type == "DELETED":
            self.store.pop(key, None)
        else:
            self.store[key] = obj
        if self._handler is None:
            return
        try:
            self._handler(event_type, obj, listed)
        except Exception:  # noqa: BLE001 - a malformed object must not stop the watch
            metrics.TASK_FAILURES.labels(self._name).inc()
            log.exception("event handler %s failed on a %s event", self._name, event_type, extra={"task": self._name})

    async def run(self) -> None:
        resource_version, next_list, failures = "", 0.0, 0
        while True:
            try:
                if not resource_version or time.monotonic() >= next_list:
                    items, resource_version = await self.kube.list(self.resource)
                    self._relisted(items)
                    next_list = time.monotonic() + self.resync_period
                    self.synced = True
                resource_version = await self._watch(resource_version, max(1.0, next_list - time.monotonic()))
                failures = 0
            except (TransientError, ConfigurationError) as exc:
                failures += 1
                resource_version = ""
                log.warning("watch of %s interrupted: %s", self.resource.plural, exc)
                await asyncio.sleep(min(0.2 * 2 ** failures, 10.0))

    def _relisted(self, items: list[dict]) -> None:
        listed = {key_of(obj) for obj in items}
        for key in set(self.store) - listed:
            self._handle("DELETED", self.store[key], True)
        for obj in items:
            self._handle("MODIFIED" if key_of(obj) in self.store else "ADDED", obj, True)

    async def _watch(self, resource_version: str, timeout: float) -> str:
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def deliver(event_type: str, obj: dict) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone after shutdown
                loop.call_soon_threadsafe(self._handle, event_type, obj, False)

        def run() -> None:
            try:
                result = self.kube.watch_blocking(self.resource, resource_version, timeout, deliver, self._stop)
                outcome = (done.set_result, result)
            except Exception as exc:  # noqa: BLE001 - handed to the informer
                outcome = (done.set_exception, exc if isinstance(exc, TransientError) else TransientError(str(exc)))
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(lambda: done.done() or outcome[0](outcome[1]))

        threading.Thread(target=run, name=f"watch-{self.resource.plural}", daemon=True).start()
        return await done
