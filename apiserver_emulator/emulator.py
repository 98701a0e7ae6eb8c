"""The in-process entry point: :class:`Emulator` runs the API server on its own thread and loop.

Used by tests (one emulator per test is cheap), by ``__main__`` for the standalone process, and by
the project's ``make start``. Direct reads/writes are marshalled onto the server loop, so they see
and produce exactly what HTTP clients see (including watch events).
"""

from __future__ import annotations

import asyncio
import copy
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml
from aiohttp import web

from .app import ApiServer, build_app
from .errors import ApiError
from .faults import Fault, Faults
from .resources import Registry, ResourceType, read_yaml_documents
from .rest import Rest
from .store import Store

HANG_SECONDS = 5.0


class Emulator:
    """A conformant-enough kube-apiserver on ``http://127.0.0.1:PORT`` (no auth, no TLS)."""

    def __init__(self, crd_paths: Iterable[str | Path] = (), port: int = 0, host: str = "127.0.0.1",
                 event_log_size: int = 10_000, bookmark_interval: float = 60.0):
        self.registry = Registry.with_builtins()
        self.registry.load_crds(crd_paths)
        self._store = Store(event_log_size)
        self._rest = Rest(self.registry, self._store)
        self._faults = Faults()
        self.request_log: list[tuple[str, str, int]] = []
        """(method, path, status) of every request; status 0 when the connection was dropped."""
        self._server = ApiServer(self.registry, self._store, self._rest, self._faults, self.request_log,
                                 bookmark_interval)
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle ---

    def start(self) -> "Emulator":
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(self._listen())
            except BaseException as error:  # reported to the starting thread
                failure.append(error)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="apiserver-emulator", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    async def _listen(self) -> None:
        self._runner = web.AppRunner(build_app(self._server), handler_cancellation=True, shutdown_timeout=0.5,
                                     access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._store.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- clients ---

    def kubeconfig(self) -> dict:
        return {
            "apiVersion": "v1", "kind": "Config", "current-context": "emulator", "preferences": {},
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "emulator", "user": {}}],
            "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "emulator",
                                                          "namespace": "default"}}],
        }

    def write_kubeconfig(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig(), sort_keys=False))
        return path

    def api_client(self):
        """A ``kubernetes.client.ApiClient`` for this emulator (imported lazily: optional dependency)."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    # --- direct access (for seeding and assertions) ---

    def _call(self, function: Callable[[], Any]) -> Any:
        """Run on the server loop so the store stays single-threaded."""
        async def invoke():
            return function()
        if self._loop is None:
            return function()
        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result()

    def _resource(self, api_version: str, kind_or_plural: str) -> ResourceType:
        rt = self.registry.find(api_version, kind_or_plural)
        if rt is None:
            raise KeyError(f"no resource {kind_or_plural!r} in {api_version!r}")
        return rt

    def create(self, obj: dict) -> dict:
        """Create with the server's semantics (status is kept even with a status subresource, so
        seeds can carry it); raises ``ApiError``."""
        rt = self._resource(obj["apiVersion"], obj["kind"])
        body = copy.deepcopy(obj)
        namespace = body.get("metadata", {}).get("namespace") if rt.namespaced else None

        def create() -> dict:
            created = self._rest.create(rt, namespace, body)
            if rt.status_subresource and "status" in obj:
                created = self._rest.update(rt, namespace, created["metadata"]["name"],
                                            {**created, "status": copy.deepcopy(obj["status"])}, "status")
            return copy.deepcopy(created)

        return self._call(create)

    def get(self, api_version: str, kind_or_plural: str, name: str, namespace: str | None = None) -> dict | None:
        rt = self._resource(api_version, kind_or_plural)

        def get() -> dict | None:
            try:
                return copy.deepcopy(self._rest.get(rt, namespace if rt.namespaced else None, name))
            except ApiError:
                return None

        return self._call(get)

    def list(self, api_version: str, kind_or_plural: str, namespace: str | None = None) -> list[dict]:
        rt = self._resource(api_version, kind_or_plural)
        return self._call(lambda: copy.deepcopy(self._rest.list(rt, namespace, lambda obj: True)[0]))

    def seed(self, paths: Iterable[str | Path]) -> list[dict]:
        """Create every object of the YAML files/directories, namespaces first."""
        documents = [d for d in read_yaml_documents(paths) if d.get("kind") != "CustomResourceDefinition"]
        documents.sort(key=lambda d: d.get("kind") != "Namespace")
        return [self.create(d) for d in documents]

    # --- fault injection ---

    def inject_fault(self, method: str = "PATCH", resource: str = "networks", name: str | None = None,
                     subresource: str | None = None, status: int = 409, times: int = 1,
                     retry_after: int | None = None, hang: bool | float = False) -> None:
        """Fail the next ``times`` requests matching method (HTTP method or verb such as WATCH/LIST),
        resource plural, name and subresource ("" = main resource only) with ``status`` (Retry-After
        when given), or hang (True = 5 s, or a number of seconds) and drop the connection. State is
        never touched by a failed request."""
        seconds = HANG_SECONDS if hang is True else float(hang or 0)
        self._faults.arm(Fault(method.upper(), resource, name, subresource, status, times, retry_after, seconds))
