"""The extension chart's RBAC, enforced for real: `helm install` of charts/gardener-extension-networking
into the real API server with the values gardenlet injects, then the controller runs the whole Gardener
contract with its ServiceAccount's token (TokenRequest) and the API server's audit log must show no 403.
Also `helm upgrade`, `helm rollback` and `helm uninstall` of the chart there.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.charts.test_extension_chart import CLUSTER_ROLE, INJECTED
from tests.helpers import ROOT
from tests.integration.conftest import MR_NAME, MRS, NS, cluster, get_network, network, state_is, wait_for
from tests.integration.test_controller import annotate, events, patch_spec

pytestmark = [pytest.mark.real_apiserver, pytest.mark.parametrize("emu", ["real"], indirect=True)]
CHART = ROOT / "charts" / "gardener-extension-networking"
HELM = ROOT / ".venv" / "bin" / "helm"
RELEASE, NAMESPACE, NAME = "networking", "extension-networking-rbac", "gardener-extension-networking"
USER = f"system:serviceaccount:{NAMESPACE}:{NAME}"


def helm(cluster, *args: str) -> str:
    result = subprocess.run([str(HELM), "--kubeconfig", str(cluster.kubeconfig_path), "--namespace", NAMESPACE,
                             *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"helm {' '.join(args)}: {result.stderr}"
    return result.stdout


# The seed has fluent-operator's CRDs (stand-ins in tests/cluster/crds), so the chart's log parser and
# filter install with the default values.
LOGGING_OBJECTS = {("clusterparsers", f"{NAME}-parser"), ("clusterparsers", "calico-node-parser"),
                   ("clusterfilters", NAME), ("clusterfilters", "calico-node")}


def logging_objects(cluster) -> set[tuple[str, str]]:
    return {(plural, o["metadata"]["name"]) for plural in ("clusterparsers", "clusterfilters")
            for o in cluster.list("fluentbit.fluent.io/v1alpha2", plural)}


def deployment_args(cluster) -> list[str]:
    deployment = cluster.get("apps/v1", "deployments", NAME, NAMESPACE)
    return deployment["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.fixture
def installed(emu, tmp_path):
    """The chart installed as gardenlet would, with the gardener.* values it injects."""
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(INJECTED))
    helm(emu, "install", RELEASE, str(CHART), "--create-namespace", "--values", str(values))
    yield values
    if helm(emu, "list", "--short").strip():
        helm(emu, "uninstall", RELEASE)


def test_the_controller_needs_nothing_beyond_the_chart_rbac(emu, installed, start, tmp_path):
    token = emu.service_account_token(NAMESPACE, NAME)
    kubeconfig = emu.write_kubeconfig(tmp_path / "sa.kubeconfig", user={"token": token})
    emu.create(cluster())
    emu.create(network())
    running = start("--kubeconfig", str(kubeconfig), "--leader-election=true",
                    "--leader-election-namespace", NAMESPACE, "--heartbeat-namespace", NAMESPACE,
                    "--heartbeat-renew-interval-seconds", "0.5", "--extension-name", "networking-calico")
    wait_for(state_is(emu, "Create"), timeout=30, message="Create succeeded")
    assert running.controller.leading
    assert emu.get(*MRS, MR_NAME, NS) is not None

    # A configuration error, then healed.
    patch_spec(emu, {"providerConfig": {"backend": "nope"}})
    annotate(emu, "reconcile")
    wait_for(state_is(emu, "Reconcile", "Error"), timeout=30, message="Reconcile error")
    patch_spec(emu, {"providerConfig": {"backend": "bird"}})
    annotate(emu, "reconcile")
    wait_for(state_is(emu, "Reconcile"), timeout=30, message="healed")

    # Migrate, then restore.
    annotate(emu, "migrate")
    wait_for(lambda: state_is(emu, "Migrate")() and not (get_network(emu)["metadata"].get("annotations") or {}),
             timeout=30, message="Migrate succeeded")
    annotate(emu, "restore")
    wait_for(lambda: events(emu, "Restored"), timeout=30, message="Restore succeeded")
    wait_for(lambda: emu.get(*MRS, MR_NAME, NS), timeout=30, message="MR restored")

    # Heartbeat and leader election Leases in the release namespace.
    heartbeat = wait_for(lambda: emu.get("coordination.k8s.io/v1", "leases", "gardener-extension-heartbeat",
                                         NAMESPACE), message="heartbeat")
    wait_for(lambda: emu.get("coordination.k8s.io/v1", "leases", "gardener-extension-heartbeat", NAMESPACE)[
        "spec"]["renewTime"] != heartbeat["spec"]["renewTime"], message="heartbeat renewed")
    lease = emu.get("coordination.k8s.io/v1", "leases", "networking-leader-election", NAMESPACE)
    assert lease["spec"]["holderIdentity"] == running.controller.identity

    # Delete (no resource manager holds the MR here), then a graceful stop hands the Lease back.
    emu.http("DELETE", emu.path("extensions.gardener.cloud/v1alpha1", "networks", NS, "bar"))
    wait_for(lambda: get_network(emu) is None, timeout=30, message="Network gone")
    assert running.stop() == 0
    assert not emu.get("coordination.k8s.io/v1", "leases", "networking-leader-election", NAMESPACE)["spec"].get(
        "holderIdentity")

    calls = emu.requests_by(USER)
    assert len(calls) > 50, "the controller's requests are in the audit log under its ServiceAccount"
    assert [c for c in calls if c[2] in (401, 403)] == []


def test_helm_upgrade_rollback_and_uninstall(emu, installed):
    assert "--max-concurrent-reconciles=5" in deployment_args(emu)
    helm(emu, "upgrade", RELEASE, str(CHART), "--values", str(installed), "--set", "controllers.concurrentSyncs=3")
    assert "--max-concurrent-reconciles=3" in deployment_args(emu)
    helm(emu, "rollback", RELEASE, "1")
    assert "--max-concurrent-reconciles=5" in deployment_args(emu)
    assert "networking" in helm(emu, "history", RELEASE)
    assert logging_objects(emu) == LOGGING_OBJECTS
    helm(emu, "uninstall", RELEASE)
    assert logging_objects(emu) == set()
    assert emu.get("apps/v1", "deployments", NAME, NAMESPACE) is None
    assert emu.get("rbac.authorization.k8s.io/v1", "clusterroles", CLUSTER_ROLE) is None
