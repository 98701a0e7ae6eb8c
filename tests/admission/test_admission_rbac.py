"""The admission chart's RBAC, enforced for real: `helm install` of charts/gardener-extension-admission-
networking into the real API server, then `gardener-extension-networking admission` runs on its
ServiceAccount's token (TokenRequest): certificate Secret created, webhook configurations registered,
a renewed certificate re-registered; the audit log must show no 403 for that user."""

from __future__ import annotations

import asyncio
import base64
import datetime
import subprocess

import pytest

from controller.webhooks import certs
from tests.admission.test_real_apiserver import MUTATING, VALIDATING, AdmissionThread, delete_configurations
from tests.cluster.real import free_port
from tests.helpers import ROOT
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.real_apiserver
CHART = ROOT / "charts" / "gardener-extension-admission-networking"
HELM = ROOT / ".venv" / "bin" / "helm"
NAMESPACE, NAME = "garden-admission-rbac", "gardener-extension-admission-networking"
USER = f"system:serviceaccount:{NAMESPACE}:{NAME}"


def helm(cluster, *args: str) -> str:
    result = subprocess.run([str(HELM), "--kubeconfig", str(cluster.kubeconfig_path), "--namespace", NAMESPACE,
                             *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"helm {' '.join(args)}: {result.stderr}"
    return result.stdout


def test_admission_needs_nothing_beyond_the_chart_rbac(real_cluster, tmp_path):
    cluster = real_cluster
    helm(cluster, "install", "admission-networking", str(CHART), "--create-namespace")
    running = None
    try:
        token = cluster.service_account_token(NAMESPACE, NAME)
        kubeconfig = cluster.write_kubeconfig(tmp_path / "sa.kubeconfig", user={"token": token})
        port = free_port()
        running = AdmissionThread("--kubeconfig", str(kubeconfig), "--webhook-config-mode", "url",
                                  "--webhook-config-url", f"127.0.0.1:{port}", "--webhook-config-server-host",
                                  "127.0.0.1", "--webhook-config-server-port", str(port),
                                  "--webhook-config-namespace", NAMESPACE, "--health-bind-address", "0",
                                  "--metrics-bind-address", "0")
        wait_for(lambda: running.admission.readiness()[0], timeout=30, message="admission ready on its token")
        for name in ("gardener-extension-admission-calico", "gardener-extension-admission-cilium"):
            assert cluster.get(*VALIDATING, name) is not None
        # a due certificate: renewed in the Secret (update), re-registered (get/update of the configurations)
        old = running.admission.bundle
        due = certs.new_bundle("x", ["127.0.0.1"], validity=datetime.timedelta(seconds=1))
        asyncio.run_coroutine_threadsafe(_store_due(running, due), running.loop).result(30)
        asyncio.run_coroutine_threadsafe(running.admission._check_certificate(), running.loop).result(30)
        assert running.admission.bundle not in (old, due)
        ca = cluster.get(*VALIDATING, "gardener-extension-admission-cilium")["webhooks"][0]["clientConfig"]["caBundle"]
        assert base64.b64decode(ca) == running.admission.bundle.ca_bundle
        log = cluster.requests_by(USER)
        assert log, "the admission made no requests as its ServiceAccount"
        assert [entry for entry in log if entry[2] == 403] == []
    finally:
        if running is not None:
            running.stop()
        delete_configurations(cluster, (VALIDATING, "gardener-extension-admission-calico"),
                              (VALIDATING, "gardener-extension-admission-cilium"),
                              (MUTATING, "gardener-extension-admission-cilium"))
        helm(cluster, "uninstall", "admission-networking")
        cluster.purge("v1", "secrets", NAMESPACE)


async def _store_due(running, bundle) -> None:
    """Put a bundle whose serving certificate is due into the Secret (as if a year had passed)."""
    store = running.admission.store
    _, version = await store._read()
    await store.kube.call("replace", store.kube.core.replace_namespaced_secret, store.name, store.namespace,
                          store._body(bundle, version), retry_conflicts=False)
