"""The certificate Secret shared by replicas: created when missing, adopted when valid, renewed when
due, and when another replica writes first (409) its bundle wins instead of being overwritten."""

from __future__ import annotations

import asyncio
import base64
import datetime
from types import SimpleNamespace

from controller.kube import Conflict
from controller.webhooks import certs
from controller.webhooks.certstore import CertificateStore

HOSTS = ["svc.ns.svc"]


class FakeKube:
    """The few calls CertificateStore makes, on one in-memory Secret; `racer` is written by "another
    replica" just before our first write."""

    def __init__(self, stored: certs.Bundle | None = None, racer: certs.Bundle | None = None):
        self.secret = self._secret(stored, "1") if stored else None
        self.racer, self.writes = racer, []
        self.core = SimpleNamespace(read_namespaced_secret=self.read, create_namespaced_secret=self.create,
                                    replace_namespaced_secret=self.replace)

    @staticmethod
    def _secret(bundle: certs.Bundle, version: str):
        data = {k: base64.b64encode(v).decode() for k, v in bundle.secret_data().items()}
        return SimpleNamespace(data=data, metadata=SimpleNamespace(resource_version=version))

    async def optional(self, what, function, *args):
        return function(*args)

    async def call(self, what, function, *args, retry_conflicts=True):
        return function(*args)

    def read(self, name, namespace):
        return self.secret

    def _race(self):
        if self.racer is not None:
            self.secret, self.racer = self._secret(self.racer, "7"), None
            raise Conflict("someone else was first", "AlreadyExists")

    def create(self, namespace, body):
        self._race()
        self.writes.append("create")
        self.secret = SimpleNamespace(data=body["data"], metadata=SimpleNamespace(resource_version="2"))

    def replace(self, name, namespace, body):
        self._race()
        assert body["metadata"]["resourceVersion"] == self.secret.metadata.resource_version
        self.writes.append("replace")
        self.secret = SimpleNamespace(data=body["data"], metadata=SimpleNamespace(resource_version="3"))


def sync(kube) -> certs.Bundle:
    return asyncio.run(CertificateStore(kube, "ns", "svc-webhook-cert", "svc", HOSTS).sync())


def test_missing_secret_is_created():
    kube = FakeKube()
    bundle = sync(kube)
    assert kube.writes == ["create"] and certs.renewal_reason(bundle, HOSTS) == ""


def test_valid_secret_is_adopted_without_writing():
    stored = certs.new_bundle("svc", HOSTS)
    kube = FakeKube(stored)
    assert sync(kube) == stored and kube.writes == []


def test_due_secret_is_replaced_with_a_renewed_bundle():
    stored = certs.new_bundle("svc", HOSTS, validity=datetime.timedelta(seconds=1))
    kube = FakeKube(stored)
    bundle = sync(kube)
    assert kube.writes == ["replace"] and bundle.ca_cert == stored.ca_cert and bundle.cert != stored.cert


def test_the_replica_that_wrote_first_wins():
    theirs = certs.new_bundle("svc", HOSTS)
    kube = FakeKube(racer=theirs)
    assert sync(kube) == theirs and kube.writes == []
