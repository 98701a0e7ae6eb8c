"""The running controller against the API emulator, as an attacker or a careless operator would treat
it: malformed Clusters, a shoot kubeconfig whose parse error would quote its token, an API server that
refuses a write for good, a crash between marking Processing and removing the `reconcile` annotation,
and background tasks that fail. Built like `gardener-extension-networking run` builds it."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time

import pytest
import yaml
from apiserver_emulator import Emulator

from controller import metrics, pipeline
from controller import shoot as shoots
from controller.cli import build_parser
from controller.config import ControllerConfig
from controller.errors import ConfigurationError, TransientError
from controller.kube import Kube
from controller.liveinputs import shoot_client
from controller.manager import build_controller
from controller.options import RunOptions
from controller.runtime.logs import JsonFormatter
from controller.runtime.tasks import Tasks
from controller.mapping import load_mappings
from controller.render import Renderer
from tests.helpers import EXAMPLE, ROOT

NETWORKS = ("extensions.gardener.cloud/v1alpha1", "networks")
TOKEN = "SECRET-TOKEN-0123456789abcdef"
# PyYAML's error for this text shows the offending line, the token's, in its snippet.
BROKEN_KUBECONFIG = f"apiVersion: v1\nkind: Config\nusers:\n- name: x\n  user:\n    token: {TOKEN}: [\n"


def example(name: str) -> dict:
    return yaml.safe_load((EXAMPLE / name).read_text())


def wait_for(predicate, timeout: float = 20.0, message: str = ""):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {message or predicate}"
        time.sleep(0.05)
    return value


class Running:
    """One controller on its own thread and event loop, as the integration tests run it."""

    def __init__(self, emu: Emulator, kubeconfig: str, *flags: str):
        args = build_parser().parse_args([
            "run", "--kubeconfig", kubeconfig, "--health-bind-address", ":0", "--metrics-bind-address", ":0",
            "--resync-period", "0.5", "--heartbeat-renew-interval-seconds", "30", *flags])
        self.controller = build_controller(RunOptions.from_args(args))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.controller.run()), daemon=True)
        self.thread.start()
        assert self.controller.started.wait(10)

    def stop(self) -> None:
        self.controller.request_stop()
        self.thread.join(15)
        self.controller.kube.close()


@pytest.fixture
def emu(tmp_path):
    with Emulator(crd_paths=[ROOT / "example" / "crds"]) as emulator:
        emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "garden"}})
        emulator.kubeconfig_path = str(emulator.write_kubeconfig(tmp_path / "kubeconfig"))
        yield emulator


@pytest.fixture
def start(emu):
    running: list[Running] = []

    def start_controller(*flags: str) -> Running:
        running.append(Running(emu, emu.kubeconfig_path, *flags))
        return running[-1]

    yield start_controller
    for instance in running:
        instance.stop()


def seed(emu, network_file: str, cluster_file: str) -> tuple[str, str]:
    network, cluster = example(network_file), example(cluster_file)
    namespace = network["metadata"]["namespace"]
    emu.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {"gardener.cloud/role": "shoot"}}})
    emu.create(cluster)
    return namespace, network["metadata"]["name"]


def last_operation(emu, namespace: str, name: str) -> dict:
    return ((emu.get(*NETWORKS, name, namespace) or {}).get("status") or {}).get("lastOperation") or {}


def annotations(emu, namespace: str, name: str) -> dict:
    return (emu.get(*NETWORKS, name, namespace) or {})["metadata"].get("annotations") or {}


def broken_shoot(change):
    cluster = example("cluster.yaml")
    change(cluster["spec"]["shoot"])
    return cluster


@pytest.mark.parametrize("cluster, path", [
    (broken_shoot(lambda s: s["status"].update(lastOperation="x")), "cluster.spec.shoot.status.lastOperation"),
    (broken_shoot(lambda s: s.update(spec="garbage")), "cluster.spec.shoot.spec"),
    (broken_shoot(lambda s: s["spec"].update(kubernetes=[])), "cluster.spec.shoot.spec.kubernetes"),
    (broken_shoot(lambda s: s["spec"]["provider"].update(workers="x")), "cluster.spec.shoot.spec.provider.workers"),
    (broken_shoot(lambda s: s["spec"]["kubernetes"].update(version="banana")),
     "cluster.spec.shoot.spec.kubernetes.version"),
], ids=["lastOperation", "spec", "kubernetes", "workers", "version"])
def test_a_malformed_cluster_is_a_configuration_error_on_the_network(emu, start, cluster, path):
    emu.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "shoot--foo--bar", "labels": {"gardener.cloud/role": "shoot"}}})
    emu.create(cluster)
    emu.create(example("network-calico.yaml"))
    start("--types", "calico")
    status = wait_for(lambda: (emu.get(*NETWORKS, "bar", "shoot--foo--bar").get("status") or {})
                      if last_operation(emu, "shoot--foo--bar", "bar").get("state") == "Error" else None,
                      message="Network in Error")
    assert status["lastError"]["codes"] == ["ERR_CONFIGURATION_PROBLEM"]
    assert f"{path}: Invalid value" in status["lastError"]["description"]


def test_a_malformed_shoot_kubeconfig_never_reaches_logs_or_status(emu, start, caplog):
    caplog.set_level(logging.DEBUG)
    namespace, name = seed(emu, "network-cilium.yaml", "cluster-baz.yaml")
    emu.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gardener-internal", "namespace": namespace},
                "data": {"kubeconfig": base64.b64encode(BROKEN_KUBECONFIG.encode()).decode()}})
    with pytest.raises(yaml.YAMLError, match=TOKEN):  # what used to be logged: the snippet quotes the token
        yaml.safe_load(BROKEN_KUBECONFIG)
    emu.create(example("network-cilium.yaml"))
    start("--types", "cilium")
    wait_for(lambda: last_operation(emu, namespace, name).get("state") == "Succeeded", message="Succeeded")
    wait_for(lambda: any("data.kubeconfig is not a usable kubeconfig" in r.getMessage() for r in caplog.records),
             message="the unusable kubeconfig is reported")
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "gardener-internal" in logged and TOKEN not in logged
    network = emu.get(*NETWORKS, name, namespace)
    events = emu.list("v1", "events", namespace)
    assert TOKEN not in json.dumps(network) and TOKEN not in json.dumps(events, default=str)

    # The same error, when a `required` live input needs the shoot, is what lastError would show.
    kube = Kube.connect(emu.kubeconfig_path)
    try:
        with pytest.raises(TransientError) as info:
            asyncio.run(shoot_client(kube, namespace))
    finally:
        kube.close()
    assert str(info.value) == f"secret {namespace}/gardener-internal: data.kubeconfig is not a usable kubeconfig"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_write_the_api_server_refuses_for_good_is_a_configuration_error(emu, start):
    namespace, name = seed(emu, "network-calico.yaml", "cluster.yaml")
    emu.inject_fault(method="POST", resource="secrets", status=422, times=1000)
    emu.create(example("network-calico.yaml"))
    start("--types", "calico")
    wait_for(lambda: last_operation(emu, namespace, name).get("state") == "Error", message="Error")
    error = emu.get(*NETWORKS, name, namespace)["status"]["lastError"]
    assert error["codes"] == ["ERR_CONFIGURATION_PROBLEM"] and ": 422 " in error["description"]
    posts = [entry for entry in emu.request_log if entry[0] == "POST" and entry[1].endswith("/secrets")]
    assert posts and {code for _, _, code in posts} == {422}
    assert len(posts) <= 2  # one try per reconcile (no client retries); the first Processing write requeues once

    def resyncs(since: int) -> int:
        return sum(1 for e in emu.request_log[since:] if e[0] == "GET" and e[1].endswith("/networks"))

    # A reconcile queued by our own status writes may still be in flight when the Error shows; once two
    # resyncs have passed, nothing retries the permanent error any more.
    settled = len(emu.request_log)
    wait_for(lambda: resyncs(settled) >= 2, message="two resyncs after the Error")
    mark = len(emu.request_log)
    wait_for(lambda: resyncs(mark) >= 2, message="two more resyncs")
    assert not [e for e in emu.request_log[mark:] if e[0] == "POST" and e[1].endswith("/secrets")]


def test_processing_is_marked_before_the_reconcile_annotation_goes(emu, start):
    namespace, name = seed(emu, "network-calico.yaml", "cluster.yaml")
    # Removing the annotation fails through all of the client's attempts: as if the process died there.
    emu.inject_fault(method="PATCH", resource="networks", name=name, subresource="", status=500, times=5)
    emu.create(example("network-calico.yaml"))
    start("--types", "calico")
    wait_for(lambda: last_operation(emu, namespace, name).get("state") == "Processing"
             and annotations(emu, namespace, name).get("gardener.cloud/operation") == "reconcile",
             message="Processing while the annotation is still there")
    wait_for(lambda: last_operation(emu, namespace, name).get("state") == "Succeeded"
             and "gardener.cloud/operation" not in annotations(emu, namespace, name), message="redone")
    patches = [path for method, path, code in emu.request_log if method == "PATCH" and f"/networks/{name}" in path]
    assert patches[0].endswith("/status"), patches


def test_secrets_over_one_mebibyte_are_a_configuration_error(monkeypatch):
    mapping = load_mappings(ROOT / "values-mapping", ["calico"])["calico"]
    monkeypatch.setattr(pipeline, "MAX_SECRET_BYTES", 1000)
    with pytest.raises(ConfigurationError, match=r"rendered manifests are \d+ bytes; a Secret holds at most 1000"):
        asyncio.run(pipeline.desired_state(Renderer(), mapping, example("network-calico.yaml"),
                                           shoots.shoot_of(example("cluster.yaml")), ControllerConfig()))


def test_a_failed_background_task_is_logged_with_its_traceback_and_counted(caplog):
    tasks = Tasks()

    async def _explode():
        raise RuntimeError("boom")

    def failures() -> float:
        return metrics.REGISTRY.get_sample_value("networking_task_failures_total", {"task": "explode"}) or 0.0

    before = failures()

    async def main():
        task = tasks.spawn(_explode())
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)  # done callbacks run on the next loop iteration

    asyncio.run(main())
    assert failures() == before + 1 and not tasks.running
    record = next(r for r in caplog.records if r.getMessage() == "background task explode failed")
    assert record.levelno == logging.ERROR and "RuntimeError: boom" in JsonFormatter().format(record)
