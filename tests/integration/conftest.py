"""Fixtures of the contract tests: a seed API server per test and the REAL controller loop on a thread.

Every test runs twice: against the API emulator (a fresh one per test) and against the real etcd +
kube-apiserver of the session (`real_apiserver` marker; its objects are purged after each test).
Tests that need the emulator's fault injection say so with `emulator_only`. The controller is built
exactly as `gardener-extension-networking run` builds it (`manager.build_controller` from parsed flags)
and talks real HTTP to the server; only timings are shortened.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time

import pytest
import yaml

from controller.cli import build_parser
from controller.manager import Controller, build_controller
from controller.options import RunOptions
from apiserver_emulator import Emulator
from tests.helpers import EXAMPLE, GARDENER_CRDS, ROOT

NS = "shoot--foo--bar"
NETWORKS = ("extensions.gardener.cloud/v1alpha1", "networks")
MRS = ("resources.gardener.cloud/v1alpha1", "managedresources")
MR_NAME = "extension-networking-calico-config"
CRDS = [ROOT / "example" / "crds"]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Poll until `predicate()` is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)


def example(name: str) -> dict:
    return yaml.safe_load((EXAMPLE / name).read_text())


def network(annotation: str | None = "reconcile", **spec) -> dict:
    obj = copy.deepcopy(example("network-calico.yaml"))
    obj["metadata"]["annotations"] = {"gardener.cloud/operation": annotation} if annotation else {}
    obj["spec"].update(spec)
    return obj


def cluster(failed: bool = False, force_deletion: bool = False) -> dict:
    obj = copy.deepcopy(example("cluster.yaml"))
    shoot = obj["spec"]["shoot"]
    if failed:
        shoot["status"]["lastOperation"]["state"] = "Failed"
    if force_deletion:
        shoot["metadata"].setdefault("annotations", {})["confirmation.gardener.cloud/force-deletion"] = "true"
    return obj


class Running:
    """One controller instance on its own thread and event loop."""

    def __init__(self, controller: Controller):
        self.controller = controller
        self.exit_code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert controller.started.wait(10), "controller did not start"

    def _run(self) -> None:
        self.exit_code = asyncio.run(self.controller.run())

    def stop(self) -> int | None:
        self.controller.request_stop()
        self.thread.join(15)
        assert not self.thread.is_alive(), "controller did not stop"
        self.controller.kube.close()
        return self.exit_code


# What a test leaves in the real API server; namespaces stay (no kube-controller-manager finalizes them).
PURGED = [("extensions.gardener.cloud/v1alpha1", "networks"), ("resources.gardener.cloud/v1alpha1", "managedresources"),
          ("monitoring.coreos.com/v1alpha1", "scrapeconfigs"), ("monitoring.coreos.com/v1", "prometheusrules"),
          ("v1", "secrets"), ("v1", "configmaps"), ("v1", "events"), ("coordination.k8s.io/v1", "leases")]
BACKENDS = ["emulator", pytest.param("real", marks=pytest.mark.real_apiserver)]
emulator_only = pytest.mark.parametrize("emu", ["emulator"], indirect=True)
"""For tests that need what only the emulator has: fault injection."""


def purge(cluster) -> None:
    """Remove every object the contract tests create from the session's real API server, and every
    Network in any namespace (the conformance suite leaves some in its own namespaces, and the
    controller under test would serve them all)."""
    cluster.purge("extensions.gardener.cloud/v1alpha1", "networks")
    namespaces = [n["metadata"]["name"] for n in cluster.list("v1", "namespaces")
                  if n["metadata"]["name"] == "garden" or n["metadata"]["name"].startswith("shoot--")]
    for namespace in namespaces:
        for api_version, plural in PURGED:
            cluster.purge(api_version, plural, namespace)
    cluster.purge("extensions.gardener.cloud/v1alpha1", "clusters")


@pytest.fixture(params=BACKENDS)
def emu(request, tmp_path):
    """The seed API server of one test (the name is historical: the emulator or the real one)."""
    if request.param == "emulator":
        with Emulator(crd_paths=CRDS) as emulator:
            emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "garden"}})
            emulator.create({"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": NS, "labels": {"gardener.cloud/role": "shoot"}}})
            emulator.kubeconfig_path = emulator.write_kubeconfig(tmp_path / "kubeconfig")
            yield emulator
        return
    cluster = request.getfixturevalue("real_cluster")
    purge(cluster)
    cluster.ensure_namespace("garden")
    cluster.ensure_namespace(NS, {"gardener.cloud/role": "shoot"})
    try:
        yield cluster
    finally:
        purge(cluster)


@pytest.fixture
def start(emu):
    """start(*flags) runs a controller against `emu`; all are stopped at the end of the test."""
    running: list[Running] = []

    def start_controller(*flags: str) -> Running:
        args = build_parser().parse_args([
            "run", "--kubeconfig", str(emu.kubeconfig_path), "--types", "calico",
            "--health-bind-address", ":0", "--metrics-bind-address", ":0", "--resync-period", "0.5",
            "--delete-timeout", "1.5", "--heartbeat-renew-interval-seconds", "30",
            "--leader-election-lease-duration", "2", "--leader-election-renew-deadline", "1.5",
            "--leader-election-retry-period", "0.2", "--graceful-shutdown-timeout", "5", *flags])
        instance = Running(build_controller(RunOptions.from_args(args)))
        running.append(instance)
        return instance

    yield start_controller
    for instance in running:
        if instance.thread.is_alive():
            instance.stop()


def get_network(emu: Emulator, name: str = "bar") -> dict | None:
    return emu.get(*NETWORKS, name, NS)


def last_operation(emu: Emulator, name: str = "bar") -> dict:
    return ((get_network(emu, name) or {}).get("status") or {}).get("lastOperation") or {}


def state_is(emu: Emulator, op_type: str, state: str = "Succeeded", name: str = "bar"):
    def check():
        last = last_operation(emu, name)
        return last if last.get("type") == op_type and last.get("state") == state else None
    return check


def writes(emu: Emulator, since: int = 0, ignore=("leases", "events")) -> list[tuple[str, str, int]]:
    """Non-GET requests after index `since`, without lease renewals and events."""
    return [entry for entry in emu.request_log[since:]
            if entry[0] not in ("GET",) and not any(f"/{kind}" in entry[1] for kind in ignore)]


def crd_schema(file: str, version: str = "v1alpha1") -> dict:
    crd = yaml.safe_load((GARDENER_CRDS / file).read_text())
    return next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"]["openAPIV3Schema"]
