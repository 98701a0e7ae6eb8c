"""The extension chart's rights for the shoot webhook, enforced for real: `helm install` of
charts/gardener-extension-networking, then the controller runs with the chart's webhook flags on its
ServiceAccount's token: it creates its certificate Secret, renews it (update, by name), serves /shoot
and writes and deletes the cilium shoot webhook ManagedResource; the audit log must show no 403."""

from __future__ import annotations

import asyncio
import base64
import datetime
import subprocess

import pytest
import yaml

from controller.cli import build_parser
from controller.manager import build_controller
from controller.options import RunOptions
from controller.webhooks import certs
from tests.charts.test_extension_chart import INJECTED
from tests.cluster.real import free_port
from tests.helpers import ROOT
from tests.integration.conftest import Running, example, purge, wait_for

pytestmark = pytest.mark.real_apiserver
CHART = ROOT / "charts" / "gardener-extension-networking"
HELM = ROOT / ".venv" / "bin" / "helm"
RELEASE, NAMESPACE, NAME = "networking-webhook", "extension-networking-webhook-rbac", "gardener-extension-networking"
USER = f"system:serviceaccount:{NAMESPACE}:{NAME}"
SHOOT_NS, MRS = "shoot--foo--baz", ("resources.gardener.cloud/v1alpha1", "managedresources")


def helm(cluster, *args: str) -> str:
    result = subprocess.run([str(HELM), "--kubeconfig", str(cluster.kubeconfig_path), "--namespace", NAMESPACE,
                             *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"helm {' '.join(args)}: {result.stderr}"
    return result.stdout


def chart_args(cluster) -> list[str]:
    deployment = cluster.get("apps/v1", "deployments", NAME, NAMESPACE)
    return deployment["spec"]["template"]["spec"]["containers"][0]["args"]


def test_shoot_webhook_needs_nothing_beyond_the_chart_rbac(real_cluster, tmp_path):
    cluster = real_cluster
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(INJECTED))
    helm(cluster, "install", RELEASE, str(CHART), "--create-namespace", "--values", str(values))
    cluster.ensure_namespace(SHOOT_NS, {"gardener.cloud/role": "shoot"})
    running = None
    try:
        webhook_flags = [a for a in chart_args(cluster) if a.startswith("--webhook-")]
        assert f"--webhook-config-namespace={NAMESPACE}" in webhook_flags
        token = cluster.service_account_token(NAMESPACE, NAME)
        kubeconfig = cluster.write_kubeconfig(tmp_path / "sa.kubeconfig", user={"token": token})
        port = free_port()
        args = build_parser().parse_args([
            "run", "--kubeconfig", str(kubeconfig), "--types", "cilium", "--health-bind-address", "0",
            "--metrics-bind-address", "0", "--resync-period", "0.5", "--delete-timeout", "5",
            "--leader-election=false", "--heartbeat-namespace", NAMESPACE, "--graceful-shutdown-timeout", "5",
            *webhook_flags, f"--webhook-config-server-port={port}", "--webhook-config-server-host=127.0.0.1"])
        running = Running(build_controller(RunOptions.from_args(args)))
        webhook = running.controller.reconciler.shoot_webhook
        cluster.create(example("cluster-baz.yaml"))
        network = example("network-cilium.yaml")
        network["metadata"]["annotations"] = {"gardener.cloud/operation": "reconcile"}
        cluster.create(network)
        mr = wait_for(lambda: cluster.get(*MRS, "extension-cilium-shoot-webhooks", SHOOT_NS), timeout=30,
                      message="shoot webhook ManagedResource")
        secret = cluster.get("v1", "secrets", mr["spec"]["secretRefs"][0]["name"], SHOOT_NS)
        assert f"https://{NAME}.{NAMESPACE}:443/shoot" in base64.b64decode(
            secret["data"]["config.yaml"]).decode()

        # a renewal of a due certificate goes through the Role's `update` on the Secret by name
        due = certs.new_bundle("x", ["127.0.0.1"], validity=datetime.timedelta(seconds=1))
        loop = running.controller._loop
        asyncio.run_coroutine_threadsafe(_store(webhook, due), loop).result(30)
        renewed = asyncio.run_coroutine_threadsafe(webhook.store.sync(), loop).result(30)
        assert renewed not in (due, webhook.bundle)

        cluster.http("DELETE", cluster.path("extensions.gardener.cloud/v1alpha1", "networks", SHOOT_NS, "baz"))
        wait_for(lambda: cluster.get(*MRS, "extension-cilium-shoot-webhooks", SHOOT_NS) is None, timeout=30,
                 message="shoot webhook ManagedResource deleted")
        calls = cluster.requests_by(USER)
        assert any(c[0] == "PUT" and c[1].endswith(f"/secrets/{NAME}-webhook-cert") for c in calls)
        assert [c for c in calls if c[2] in (401, 403)] == []
    finally:
        if running is not None:
            running.stop()
        helm(cluster, "uninstall", RELEASE)
        purge(cluster)
        cluster.purge("v1", "secrets", NAMESPACE)
        cluster.purge("coordination.k8s.io/v1", "leases", NAMESPACE)


async def _store(webhook, bundle) -> None:
    store = webhook.store
    _, version = await store._read()
    await store.kube.call("replace", store.kube.core.replace_namespaced_secret, store.name, store.namespace,
                          store._body(bundle, version), retry_conflicts=False)
