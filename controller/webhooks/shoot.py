"""The controller's shoot webhook: `/shoot` served over HTTPS, and what a shoot needs to call it.

Started by the controller (`manager`) when `--webhook-config-server-port` is set, on every replica (the
Service balances over all of them, leader or not). For each mapping with a `shootWebhook` section the
reconciler ships its MutatingWebhookConfiguration into the shoot (`objects`), pointing at this
extension's Service (`https://<service>.<namespace>:<port>/shoot`, Go's `url-service` mode) or at
`--webhook-config-url`, with the caBundle of our CA. The handler applies the mappings' declarative
mutations (`webhooks.edits`). The certificate lives in a Secret (`certstore`) and is re-checked every
`--webhook-cert-check-interval` seconds; a rotated CA reaches the shoots with the next reconcile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from controller.admission.jsonpatch import diff
from controller.errors import ConfigurationError, TransientError
from controller.kube import Kube
from controller.mapping import TypeMapping
from controller.webhooks import certs, registration
from controller.webhooks.certstore import CertificateStore
from controller.webhooks.edits import mutate
from controller.webhooks.server import Handler, WebhookServer, allowed, patched

log = logging.getLogger(__name__)


def shoot_handler(mappings: dict[str, TypeMapping]) -> Handler:
    mutations = [m for mapping in mappings.values() if mapping.shoot_webhook
                 for m in mapping.shoot_webhook["mutations"]]

    def handle(request: dict) -> dict:
        obj = request.get("object")
        if request.get("operation") not in ("CREATE", "UPDATE") or not isinstance(obj, dict):
            return allowed()
        obj = {**obj, "kind": obj.get("kind") or (request.get("kind") or {}).get("kind")}
        return patched(diff(obj, mutate(mutations, obj)))
    return handle


def _log_failure(task: asyncio.Task) -> None:
    """The webhook task never ends on its own; if it dies (the port is taken, say), say so loudly."""
    if not task.cancelled() and task.exception() is not None:
        log.error("shoot webhook server stopped: %s (the shoots' node-local-dns changes are refused until "
                  "the controller restarts)", task.exception(), exc_info=task.exception())


class ShootWebhook:
    def __init__(self, mappings: dict[str, TypeMapping], kube: Kube, namespace: str, service: str,
                 service_port: int, host: str, port: int, mode: str = "", url: str = "",
                 cert_secret: str = "", check_interval: float = 3600.0):
        self.mappings, self.kube, self.namespace = mappings, kube, namespace
        self.service, self.service_port, self.mode, self.url = service, service_port, mode, url
        self.check_interval = check_interval
        hosts = [f"{service}.{namespace}", f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local",
                 service] + ([url.split(":")[0]] if mode == registration.URL and url else [])
        self.store = CertificateStore(kube, namespace, cert_secret or f"{service}-webhook-cert", service, hosts)
        self.bundle: certs.Bundle | None = None
        self.server: WebhookServer | None = None
        self._host, self._port = host, port
        self._task: asyncio.Task | None = None

    @classmethod
    def from_args(cls, args, mappings: dict[str, TypeMapping], kube: Kube) -> "ShootWebhook | None":
        if not getattr(args, "webhook_config_server_port", None):
            return None
        return cls(mappings, kube, args.webhook_config_namespace, args.webhook_config_service_name,
                   args.webhook_config_service_port, args.webhook_config_server_host, args.webhook_config_server_port,
                   args.webhook_config_mode, args.webhook_config_url, args.webhook_cert_secret,
                   args.webhook_cert_check_interval)

    async def start(self) -> None:
        """Serve /shoot once the certificate is there (retried until it is)."""
        self._task = asyncio.create_task(self._run())
        self._task.add_done_callback(_log_failure)

    async def _run(self) -> None:
        delay = 1.0
        while self.bundle is None:
            try:
                self.bundle = await self.store.sync()
            except (TransientError, ConfigurationError) as exc:
                log.warning("webhook certificate not available yet (retrying): %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
        self.server = WebhookServer(self._host, self._port, {registration.SHOOT_PATH: shoot_handler(self.mappings)},
                                    self.bundle.ssl_context())
        await self.server.start()
        log.info("shoot webhook serving", extra={"port": self.server.port})
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                bundle = await self.store.sync()
            except (TransientError, ConfigurationError) as exc:
                log.warning("webhook certificate check failed (retrying): %s", exc)
                continue
            if bundle != self.bundle:
                certs.load_into(self.server.context, bundle)
                self.bundle = bundle

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.server is not None:
            await self.server.stop()

    def client_config(self) -> dict:
        if self.bundle is None:
            raise TransientError("the shoot webhook has no certificate yet (retrying)")
        if self.mode == registration.URL:
            return registration.client_config(registration.SHOOT_PATH, self.bundle.ca_bundle, registration.URL,
                                              url=self.url)
        return registration.client_config(registration.SHOOT_PATH, self.bundle.ca_bundle, registration.URL,
                                          url=f"{self.service}.{self.namespace}:{self.service_port}")

    def objects(self, mapping: TypeMapping, namespace: str) -> tuple[dict, dict]:
        """Secret + ManagedResource of the mapping's shoot webhook for one shoot namespace."""
        return registration.shoot_webhook_objects(mapping, namespace, self.client_config())
