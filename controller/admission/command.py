"""`gardener-extension-networking admission`: the admission component for Shoots, all served types.

Runs against the garden cluster (`--kubeconfig`, env GARDEN_KUBECONFIG, else in-cluster). Start-up:
certificate bundle from its Secret (`webhooks.certstore`, created on first start), HTTPS server with
/webhooks/validate and /webhooks/mutate (`handlers`), health and metrics listeners
(`controller.runtime.server`), then the webhook configurations of every served type
(`webhooks.registration`). Every `--webhook-cert-check-interval` seconds the certificate is checked;
a renewed one is loaded into the running server and its caBundle re-registered. Replicas need no
leader: they converge on the Secret and write identical configurations.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from controller.admission import handlers
from controller.errors import ConfigurationError, TransientError
from controller.kube import Kube
from controller.mapping import TypeMapping, load_mappings
from controller.runtime.logs import configure_logging
from controller.runtime.server import Servers
from controller.webhooks import certs, registration
from controller.webhooks.certstore import CertificateStore
from controller.webhooks.server import WebhookServer

log = logging.getLogger(__name__)
class Admission:
    def __init__(self, args, mappings: dict[str, TypeMapping], kube: Kube):
        self.args, self.mappings, self.kube = args, mappings, kube
        service, namespace = args.webhook_config_service_name, args.webhook_config_namespace
        hosts = [f"{service}.{namespace}.svc", f"{service}.{namespace}", f"{service}.{namespace}.svc.cluster.local",
                 service]
        if args.webhook_config_mode == registration.URL and args.webhook_config_url:
            hosts.insert(0, args.webhook_config_url.rsplit(":", 1)[0] if args.webhook_config_url.count(":") == 1
                         else args.webhook_config_url)
        self.store = CertificateStore(kube, namespace, args.webhook_cert_secret or f"{service}-webhook-cert",
                                      service, hosts)
        self.bundle: certs.Bundle | None = None
        self.server: WebhookServer | None = None
        self.registered = False
        self.servers = Servers(args.health_bind_address, args.metrics_bind_address, self.readiness)
        self.stopping = asyncio.Event()

    def readiness(self) -> tuple[bool, str]:
        if self.server is None or not self.server.started:
            return False, "webhook server not started"
        if not self.registered:
            return False, "webhook configurations not registered yet"
        return True, ""

    def client_for(self, path: str) -> dict:
        args = self.args
        return registration.client_config(path, self.bundle.ca_bundle, args.webhook_config_mode,
                                          args.webhook_config_namespace, args.webhook_config_service_name,
                                          args.webhook_config_service_port, args.webhook_config_url)

    async def register(self) -> None:
        for configuration in registration.admission_configurations(self.mappings, self.client_for):
            await self.kube.apply_object(configuration)
        self.registered = True

    async def _retrying(self, step, what: str) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            try:
                await step()
                return
            except (TransientError, ConfigurationError) as exc:  # 403/422 too: an operator may fix RBAC
                log.warning("%s failed (retrying in %.0fs): %s", what, delay, exc)
                try:
                    await asyncio.wait_for(self.stopping.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                delay = min(delay * 2, 60.0)

    async def _load_certificate(self) -> None:
        self.bundle = await self.store.sync()

    async def _check_certificate(self) -> None:
        bundle = await self.store.sync()
        if bundle != self.bundle:
            log.info("webhook certificate changed: reloading and re-registering")
            certs.load_into(self.server.context, bundle)
            self.bundle = bundle
            await self.register()

    async def run(self) -> int:
        await self.servers.start()
        try:
            await self._retrying(self._load_certificate, "webhook certificate")
            if self.bundle is None:
                return 0
            self.server = WebhookServer(self.args.webhook_config_server_host, self.args.webhook_config_server_port,
                                        {registration.VALIDATE_PATH: handlers.validator(self.mappings),
                                         registration.MUTATE_PATH: handlers.mutator(self.mappings)},
                                        self.bundle.ssl_context())
            await self.server.start()
            log.info("admission webhooks serving", extra={"port": self.server.port, "types": sorted(self.mappings)})
            await self._retrying(self.register, "webhook registration")
            while not self.stopping.is_set():
                try:
                    await asyncio.wait_for(self.stopping.wait(), self.args.webhook_cert_check_interval)
                except asyncio.TimeoutError:
                    await self._retrying(self._check_certificate, "webhook certificate check")
            return 0
        finally:
            if self.server is not None:
                await self.server.stop()
            await self.servers.stop()


def build_admission(args) -> Admission:
    mappings = load_mappings(args.mappings_dir, [t.strip() for t in args.types.split(",") if t.strip()])
    return Admission(args, mappings, Kube.connect(args.kubeconfig))


def run_admission(args) -> int:
    configure_logging(args.log_level, args.log_format)
    admission = build_admission(args)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, admission.stopping.set)
        return await admission.run()

    try:
        return asyncio.run(main())
    finally:
        admission.kube.close()
