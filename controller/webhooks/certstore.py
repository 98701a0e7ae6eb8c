"""Keep the webhook certificate bundle (`certs.Bundle`) in one Secret, shared by all replicas.

Called at start-up and then periodically by the admission server and by the controller's `/shoot`
webhook. `sync()` reads the Secret, renews what `certs.renew` says is due and writes it back with
optimistic locking: when another replica wrote first (409), its bundle is read and used instead, so
every replica converges on the Secret's content. API failures are `TransientError`s (retry later;
the server keeps its current certificate meanwhile).
"""

from __future__ import annotations

import base64
import logging

from controller.errors import TransientError
from controller.kube import Conflict, Kube
from controller.webhooks import certs

log = logging.getLogger(__name__)


class CertificateStore:
    def __init__(self, kube: Kube, namespace: str, name: str, common_name: str, hosts: list[str]):
        self.kube, self.namespace, self.name = kube, namespace, name
        self.common_name, self.hosts = common_name, hosts

    async def _read(self) -> tuple[certs.Bundle | None, str | None]:
        secret = await self.kube.optional(f"get secret {self.namespace}/{self.name}",
                                          self.kube.core.read_namespaced_secret, self.name, self.namespace)
        if secret is None:
            return None, None
        data = {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}
        return certs.Bundle.from_secret_data(data), secret.metadata.resource_version

    def _body(self, bundle: certs.Bundle, resource_version: str | None) -> dict:
        metadata = {"name": self.name, "namespace": self.namespace,
                    "labels": {"app.kubernetes.io/managed-by": "gardener-extension-networking"}}
        if resource_version:
            metadata["resourceVersion"] = resource_version
        return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque",
                "data": {k: base64.b64encode(v).decode() for k, v in bundle.secret_data().items()}}

    async def sync(self) -> certs.Bundle:
        """The bundle of the Secret, renewed (and written) first if it is missing or due."""
        for _ in range(3):
            current, version = await self._read()
            renewed = certs.renew(current, self.common_name, self.hosts)
            if renewed is None:
                return current
            log.info("webhook certificate renewed: %s", certs.renewal_reason(current, self.hosts))
            body = self._body(renewed, version)
            try:
                if version is None:
                    await self.kube.call(f"create secret {self.namespace}/{self.name}",
                                         self.kube.core.create_namespaced_secret, self.namespace, body,
                                         retry_conflicts=False)
                else:
                    await self.kube.call(f"replace secret {self.namespace}/{self.name}",
                                         self.kube.core.replace_namespaced_secret, self.name, self.namespace,
                                         body, retry_conflicts=False)
                return renewed
            except Conflict:
                continue  # another replica was first: use (or renew) what it wrote
        raise TransientError(f"secret {self.namespace}/{self.name}: conflicting writers, retrying later")
