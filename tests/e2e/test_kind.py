"""One reconcile on a real kube-apiserver (kind via pytest-kind): CRDs installed, example Namespace,
Cluster and Network applied, the real controller loop run in-process against the kind kubeconfig.

Run by `make test-kind` on a machine with Docker and kind; `make test` leaves it out (these machines have
no Docker engine) and runs the same contract on a real kube-apiserver built from its Go module instead
(tests/integration, marker real_apiserver). Skipped cleanly where Docker or kind is missing.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.helpers import EXAMPLE


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("kind") is None, reason="kind is not installed"),
    pytest.mark.skipif(not _docker_works(), reason="`docker info` fails: no Docker engine"),
]


@pytest.fixture(scope="module")
def kind_cluster():
    from pytest_kind import KindCluster

    cluster = KindCluster("networking-e2e", kind_path=shutil.which("kind"))
    cluster.create()
    try:
        yield cluster
    finally:
        cluster.delete()


def test_one_reconcile_on_kind(kind_cluster):
    from tests.integration.conftest import NS, Running, wait_for
    from controller.cli import build_parser
    from controller.manager import build_controller
    from controller.options import RunOptions

    kind_cluster.kubectl("apply", "-f", str(EXAMPLE / "crds"))
    kind_cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    for name in ("namespace.yaml", "cluster.yaml", "network-calico.yaml"):
        kind_cluster.kubectl("apply", "-f", str(EXAMPLE / name))
    args = build_parser().parse_args(["run", "--kubeconfig", str(kind_cluster.kubeconfig_path), "--types", "calico",
                                      "--leader-election=false", "--health-bind-address", ":0",
                                      "--metrics-bind-address", ":0"])
    running = Running(build_controller(RunOptions.from_args(args)))
    try:
        def succeeded():
            out = kind_cluster.kubectl("get", "network", "-n", NS, "bar",
                                       "-o", "jsonpath={.status.lastOperation.state}")
            return out.strip() == "Succeeded"
        wait_for(succeeded, timeout=120, interval=1, message="Network reconciled on kind")
        mr = kind_cluster.kubectl("get", "managedresource", "-n", NS, "extension-networking-calico-config",
                                  "-o", "jsonpath={.spec.secretRefs[0].name}")
        assert mr.startswith("managedresource-extension-networking-calico-config-")
    finally:
        running.stop()
