"""HTTP endpoints of the running controller: /healthz and /readyz, and /metrics.

Started and stopped by `manager` (and by `admission.command`); the kubelet probes and Prometheus call them.
/healthz answers 200 while the process serves at all; /readyz asks the manager whether its watches have
synced and helm is usable; /metrics exposes `controller.metrics.REGISTRY`.
"""

from __future__ import annotations

from typing import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from controller import metrics


def parse_address(address: str) -> tuple[str, int] | None:
    """controller-runtime's bind-address syntax: `[host]:port`; "0" switches the endpoint off."""
    if address in ("", "0"):
        return None
    host, _, port = address.rpartition(":")
    return host or "0.0.0.0", int(port)


class Servers:
    """The health and the metrics listener (one listener when both addresses are equal)."""

    def __init__(self, health_address: str, metrics_address: str, ready: Callable[[], tuple[bool, str]]):
        self._addresses = {"health": parse_address(health_address), "metrics": parse_address(metrics_address)}
        self._ready = ready
        self._runners: list[web.AppRunner] = []
        self.urls: dict[str, str] = {}

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _readyz(self, request: web.Request) -> web.Response:
        ready, reason = self._ready()
        return web.Response(text="ok" if ready else reason, status=200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        routes = {"health": [web.get("/healthz", self._healthz), web.get("/readyz", self._readyz)],
                  "metrics": [web.get("/metrics", self._metrics)]}
        by_address: dict[tuple[str, int], list[str]] = {}
        for name, address in self._addresses.items():
            if address is not None:
                by_address.setdefault(address, []).append(name)
        for (host, port), names in by_address.items():
            app = web.Application()
            for name in names:
                app.add_routes(routes[name])
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            self._runners.append(runner)
            bound_host, bound_port = runner.addresses[0][:2]
            for name in names:
                self.urls[name] = f"http://{'127.0.0.1' if bound_host in ('0.0.0.0', '::') else bound_host}:{bound_port}"

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
