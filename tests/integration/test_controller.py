"""The Gardener contract (gardener-contract.md 2-4), proven through real HTTP against the API emulator and
the real kube-apiserver, with the real controller loop, the real calico chart/mapping and the real helm."""

from __future__ import annotations

import logging
import re
import stat
import time
import urllib.request

import jsonschema
import pytest
from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import (MR_NAME, MRS, NS, cluster, crd_schema, emulator_only, get_network,
                                        last_operation, network, state_is, wait_for, writes)

GROUP, VERSION = "extensions.gardener.cloud", "v1alpha1"
MERGE = "application/merge-patch+json"


def custom(emu) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(emu.api_client())


def annotate(emu, value: str, name: str = "bar") -> None:
    custom(emu).patch_namespaced_custom_object(GROUP, VERSION, NS, "networks", name,
                                               {"metadata": {"annotations": {"gardener.cloud/operation": value}}},
                                               _content_type=MERGE)


def patch_spec(emu, spec: dict, name: str = "bar") -> None:
    custom(emu).patch_namespaced_custom_object(GROUP, VERSION, NS, "networks", name, {"spec": spec},
                                               _content_type=MERGE)


def managed_resource(emu) -> dict | None:
    return emu.get(*MRS, MR_NAME, NS)


def secrets(emu) -> list[str]:
    return sorted(s["metadata"]["name"] for s in emu.list("v1", "secrets", NS))


def events(emu, reason: str) -> list[dict]:
    return [e for e in emu.list("v1", "events", NS) if e.get("reason") == reason]


def relists(emu, since: int) -> int:
    """Full lists of Networks after request index `since`: each one proves the controller alive and past
    every event before it (negative tests wait for these before asserting that nothing happened)."""
    return sum(1 for m, p, _ in emu.request_log[since:] if m == "GET" and p.split("?")[0].endswith("/networks"))


def reconciled(emu, start, *flags) -> object:
    """A controller that has brought the example Network to Create/Succeeded."""
    emu.create(cluster())
    emu.create(network())
    running = start(*flags)
    # Create, or already a Reconcile after it (dev mode: the Cluster's initial list enqueues it again).
    wait_for(lambda: state_is(emu, "Create")() or state_is(emu, "Reconcile")(), message="Create succeeded")
    return running


def test_first_reconcile_creates_secret_and_managed_resource_and_reports_success(emu, start):
    reconciled(emu, start)
    net = get_network(emu)
    status = net["status"]
    assert status["lastOperation"]["progress"] == 100
    assert status["lastOperation"]["description"] == "Successfully reconciled Network"
    assert status["lastOperation"]["lastUpdateTime"].endswith("Z") and len(status["lastOperation"]["lastUpdateTime"]) == 20
    assert "lastError" not in status
    assert status["observedGeneration"] == net["metadata"]["generation"]
    assert status["ipFamilies"] == ["IPv4"]
    assert status["providerStatus"] == {"apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1",
                                        "kind": "NetworkStatus"}
    assert net["metadata"]["finalizers"] == ["extensions.gardener.cloud/network"]
    assert "gardener.cloud/operation" not in (net["metadata"].get("annotations") or {})

    mr = managed_resource(emu)
    secret_name = mr["spec"]["secretRefs"][0]["name"]
    assert secret_name.startswith(f"managedresource-{MR_NAME}-")
    assert mr["metadata"]["labels"]["origin"] == "extension-networking-calico"
    assert mr["spec"]["injectLabels"] == {"shoot.gardener.cloud/no-cleanup": "true"}
    assert mr["spec"]["keepObjects"] is False
    secret = emu.get("v1", "secrets", secret_name, NS)
    assert secret["immutable"] is True and "config.yaml" in secret["data"]
    assert {s["metadata"]["name"] for s in emu.list("monitoring.coreos.com/v1alpha1", "scrapeconfigs", NS)} == {
        "shoot-calico-bird", "shoot-calico-felix", "shoot-calico-typha"}
    assert emu.get("v1", "configmaps", "calico-dashboards", NS) is not None
    assert events(emu, "Reconciled"), "a Normal event for the change"

    # What the controller wrote is valid against Gardener's own CRD schemas (the emulator checked it
    # on every write; this says so explicitly).
    jsonschema.validate(net, crd_schema("10-crd-extensions.gardener.cloud_networks.yaml"))
    jsonschema.validate(mr, crd_schema("10-crd-resources.gardener.cloud_managedresources.yaml"))


def settle(emu, running) -> None:
    """Wait until two resyncs pass without a reconcile: the start-up ones (a Create, and possibly a
    Reconcile the Cluster's initial list queues) are over and counted."""
    for _ in range(10):
        mark, done = len(emu.request_log), running.controller.reconciles
        wait_for(lambda: relists(emu, mark) >= 2, message="two resyncs")
        if done >= 1 and running.controller.reconciles == done:
            return
    raise AssertionError("the controller kept reconciling an unchanged Network")


def test_resync_of_a_succeeded_network_writes_nothing(emu, start):
    running = reconciled(emu, start)
    wait_for(lambda: events(emu, "Reconciled"), message="the Normal event, the reconcile's last write")
    settle(emu, running)
    mark, done = len(emu.request_log), running.controller.reconciles
    wait_for(lambda: relists(emu, mark) >= 3, message="three resyncs")
    assert writes(emu, mark, ignore=("leases",)) == []
    assert running.controller.reconciles == done


def test_reconcile_annotation_again_updates_status_but_not_the_unchanged_managed_resource(emu, start):
    reconciled(emu, start)
    mark = len(emu.request_log)
    before = last_operation(emu)["lastUpdateTime"]
    time.sleep(1.0)
    annotate(emu, "reconcile")
    wait_for(lambda: "gardener.cloud/operation" not in (get_network(emu)["metadata"].get("annotations") or {})
             and state_is(emu, "Reconcile")(), message="Reconcile succeeded")
    assert last_operation(emu)["lastUpdateTime"] > before
    touched = [p for _, p, _ in writes(emu, mark)]
    assert not [p for p in touched if "managedresources" in p or "secrets" in p or "scrapeconfigs" in p], touched


def test_spec_change_without_annotation_is_ignored_by_default(emu, start):
    running = reconciled(emu, start)
    settle(emu, running)
    done = running.controller.reconciles
    patch_spec(emu, {"providerConfig": {"backend": "vxlan"}})
    wait_for(lambda: running.controller.networks[f"{NS}/bar"]["metadata"]["generation"] == 2,
             message="the controller saw the change")
    mark = len(emu.request_log)
    wait_for(lambda: relists(emu, mark) >= 2, message="two resyncs since")
    assert running.controller.reconciles == done
    net = get_network(emu)
    assert net["metadata"]["generation"] == 2 and net["status"]["observedGeneration"] == 1


def test_spec_change_is_reconciled_with_ignore_operation_annotation(emu, start):
    reconciled(emu, start, "--ignore-operation-annotation")
    old_secret = managed_resource(emu)["spec"]["secretRefs"][0]["name"]
    patch_spec(emu, {"providerConfig": {"typha": {"enabled": False}}})
    wait_for(lambda: (get_network(emu)["status"].get("observedGeneration") == 2
                      and last_operation(emu)["state"] == "Succeeded"), message="generation 2 reconciled")
    new_secret = managed_resource(emu)["spec"]["secretRefs"][0]["name"]
    assert new_secret != old_secret
    assert set(secrets(emu)) >= {old_secret, new_secret}, "old secret left to Gardener's garbage collector"
    assert len(managed_resource(emu)["metadata"]["annotations"]) == 1, "only the new reference annotation"


def test_wait_for_state_does_nothing(emu, start):
    emu.create(cluster())
    emu.create(network("wait-for-state"))
    running = start()
    wait_for(lambda: running.controller.reconciles >= 1, message="the Network was processed")
    net = get_network(emu)
    assert "status" not in net or not net["status"]
    assert not net["metadata"].get("finalizers")
    assert net["metadata"]["annotations"]["gardener.cloud/operation"] == "wait-for-state"
    assert managed_resource(emu) is None


def test_invalid_provider_config_is_a_configuration_error_without_hot_retry(emu, start):
    running = reconciled(emu, start)
    good_mr, good_secrets = managed_resource(emu), secrets(emu)
    patch_spec(emu, {"providerConfig": {"backend": "nope"}})
    annotate(emu, "reconcile")
    wait_for(state_is(emu, "Reconcile", "Error"), message="Reconcile error")
    status = get_network(emu)["status"]
    assert status["lastError"]["codes"] == ["ERR_CONFIGURATION_PROBLEM"]
    assert status["lastError"]["description"].startswith("Error reconciling Network: spec.providerConfig.backend:")
    assert status["lastOperation"]["progress"] == 50
    assert status["observedGeneration"] == 2
    assert managed_resource(emu)["spec"] == good_mr["spec"] and secrets(emu) == good_secrets
    assert events(emu, "ReconcileFailed")
    settled = len(emu.request_log)
    wait_for(lambda: relists(emu, settled) >= 1, message="a resync after the Error")
    mark, done = len(emu.request_log), running.controller.reconciles
    wait_for(lambda: relists(emu, mark) >= 2, message="two resyncs since")
    assert not [p for _, p, _ in writes(emu, mark) if "networks" in p], "not retried until the Network changes"
    assert running.controller.reconciles == done
    # The same failure again (gardenlet annotates, nothing fixed) counts on the same Event.
    annotate(emu, "reconcile")
    wait_for(lambda: [e for e in events(emu, "ReconcileFailed") if e.get("count") == 2], message="event counted twice")
    assert len(events(emu, "ReconcileFailed")) == 1
    # Fixing it (gardenlet annotates again) heals it.
    patch_spec(emu, {"providerConfig": {"backend": "bird"}})
    annotate(emu, "reconcile")
    wait_for(state_is(emu, "Reconcile"), message="healed")
    assert "lastError" not in get_network(emu)["status"]


@pytest.fixture
def helm_wrapper(tmp_path, monkeypatch):
    """HELM_BINARY = a script that runs `body` before each `helm template`, then the real helm."""
    from controller.render import find_helm

    real = find_helm()

    def make(body: str) -> str:
        script = tmp_path / "helm"
        script.write_text(f'#!/bin/sh\nif [ "$1" = template ]; then\n{body}\nfi\nexec {real} "$@"\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("HELM_BINARY", str(script))
        return str(script)

    return make


def test_helm_failure_is_retried_with_backoff_until_success(emu, start, helm_wrapper, tmp_path):
    marker = tmp_path / "failed-once"
    helm_wrapper(f'if [ ! -e {marker} ]; then touch {marker}; echo "helm crashed" >&2; exit 1; fi')
    emu.create(cluster())
    emu.create(network())
    start()
    wait_for(state_is(emu, "Create"), message="Create succeeded after a retry")
    failed = events(emu, "ReconcileFailed")
    assert failed and "helm crashed" in failed[0]["message"]
    assert "lastError" not in get_network(emu)["status"]


@emulator_only
def test_conflicts_throttling_and_server_errors_on_writes_are_retried(emu, start):
    emu.inject_fault("PATCH", "networks", subresource="status", status=409)
    emu.inject_fault("POST", "secrets", status=429, retry_after=1)
    emu.inject_fault("POST", "managedresources", status=500, times=2)
    emu.inject_fault("PATCH", "networks", subresource="", status=503)
    reconciled(emu, start)
    failed = {(m, p.rsplit("/", 1)[-1], s) for m, p, s in emu.request_log if s >= 400}
    assert {("PATCH", "status", 409), ("POST", "secrets", 429), ("POST", "managedresources", 500),
            ("PATCH", "bar", 503)} <= failed
    assert managed_resource(emu) is not None


def _hold_managed_resource(emu) -> None:
    """Stand in for gardener-resource-manager's finalizer, which keeps the MR while it cleans up."""
    custom(emu).patch_namespaced_custom_object("resources.gardener.cloud", "v1alpha1", NS, "managedresources", MR_NAME,
                                               {"metadata": {"finalizers": ["resources.gardener.cloud/gardener-resource-manager"]}},
                                               _content_type=MERGE)


def _release_managed_resource(emu) -> None:
    custom(emu).patch_namespaced_custom_object("resources.gardener.cloud", "v1alpha1", NS, "managedresources", MR_NAME,
                                               {"metadata": {"finalizers": None}}, _content_type=MERGE)


def _delete_network(emu) -> None:
    custom(emu).delete_namespaced_custom_object(GROUP, VERSION, NS, "networks", "bar")


def test_delete_waits_bounded_for_the_managed_resource_then_removes_the_finalizer(emu, start):
    reconciled(emu, start)
    _hold_managed_resource(emu)
    _delete_network(emu)
    # The bounded wait times out into an Error (kept in lastError while the retries are Processing).
    wait_for(lambda: "is still present" in ((get_network(emu)["status"].get("lastError") or {}).get("description", "")),
             timeout=6, message="delete wait timed out")
    assert get_network(emu)["status"]["lastOperation"]["type"] == "Delete"
    assert get_network(emu)["status"]["lastError"]["description"].startswith("Error deleting Network: ManagedResource")
    assert get_network(emu)["metadata"]["finalizers"] == ["extensions.gardener.cloud/network"]
    assert emu.list("monitoring.coreos.com/v1alpha1", "scrapeconfigs", NS) == []
    assert emu.get("v1", "configmaps", "calico-dashboards", NS) is None
    _release_managed_resource(emu)
    wait_for(lambda: get_network(emu) is None, timeout=10, message="Network gone")
    assert managed_resource(emu) is None and secrets(emu) == []


def test_force_deletion_does_not_wait_for_the_managed_resource(emu, start):
    emu.create(cluster(force_deletion=True))
    emu.create(network())
    start()
    wait_for(state_is(emu, "Create"))
    _hold_managed_resource(emu)
    _delete_network(emu)
    wait_for(lambda: get_network(emu) is None, timeout=3, message="Network gone without waiting")
    assert managed_resource(emu)["metadata"].get("deletionTimestamp"), "deletion requested, GRM still busy"


def test_migrate_keeps_shoot_objects_and_restore_brings_everything_back(emu, start):
    running = reconciled(emu, start)
    mark = len(emu.request_log)
    annotate(emu, "migrate")
    wait_for(state_is(emu, "Migrate"), message="Migrate succeeded")
    wait_for(lambda: "gardener.cloud/operation" not in (get_network(emu)["metadata"].get("annotations") or {}))
    net = get_network(emu)
    assert not net["metadata"].get("finalizers")
    assert managed_resource(emu) is None and secrets(emu) == []
    keep = [i for i, (m, p, _) in enumerate(emu.request_log[mark:]) if m == "PATCH" and p.endswith(MR_NAME)]
    delete = [i for i, (m, p, _) in enumerate(emu.request_log[mark:]) if m == "DELETE" and p.endswith(MR_NAME)]
    assert keep and delete and keep[0] < delete[0], "keepObjects=true before the MR is deleted"

    # A migrated object is left alone by anything but migrate/restore.
    done = running.controller.reconciles
    annotate(emu, "reconcile")
    wait_for(lambda: running.controller.reconciles > done, message="the reconcile request was processed")
    assert last_operation(emu)["type"] == "Migrate" and managed_resource(emu) is None

    annotate(emu, "restore")
    wait_for(lambda: events(emu, "Restored"), message="Restore succeeded")
    # As in Go, our own status writes while `restore` is still set requeue the key, so a Reconcile may follow.
    wait_for(lambda: "gardener.cloud/operation" not in (get_network(emu)["metadata"].get("annotations") or {})
             and last_operation(emu).get("state") == "Succeeded")
    assert get_network(emu)["metadata"]["finalizers"] == ["extensions.gardener.cloud/network"]
    assert managed_resource(emu)["spec"]["keepObjects"] is False


def test_failed_shoot_is_skipped_without_status_write(emu, start, caplog):
    caplog.set_level(logging.INFO, logger="controller.manager")
    emu.create(cluster(failed=True))
    emu.create(network())
    running = start()
    wait_for(lambda: any("event dropped" in r.getMessage() for r in caplog.records),
             message="ShootNotFailed dropped the event")
    assert running.controller.reconciles == 0
    net = get_network(emu)
    assert not net.get("status") and not net["metadata"].get("finalizers")
    assert managed_resource(emu) is None


def test_with_leader_election_exactly_one_instance_reconciles(emu, start):
    emu.create(cluster())
    first = start("--leader-election=true", "--leader-election-namespace", "garden")
    wait_for(lambda: first.controller.leading, message="first leads")
    second = start("--leader-election=true", "--leader-election-namespace", "garden")
    emu.create(network())
    wait_for(state_is(emu, "Create"))
    final = get_network(emu)["metadata"]["resourceVersion"]
    wait_for(lambda: (second.controller.networks.get(f"{NS}/bar") or {}).get("metadata", {}).get("resourceVersion")
             == final, message="the standby saw every write of the leader")
    assert first.controller.reconciles >= 1 and second.controller.reconciles == 0
    assert not second.controller.leading
    lease = emu.get("coordination.k8s.io/v1", "leases", "networking-leader-election", "garden")
    assert lease["spec"]["holderIdentity"] == first.controller.identity

    assert first.stop() == 0  # releases the Lease, the standby takes over
    wait_for(lambda: second.controller.leading, timeout=5, message="standby took over")
    annotate(emu, "reconcile")
    wait_for(lambda: second.controller.reconciles >= 1, message="the new leader reconciles")


def test_restart_in_the_middle_of_a_reconcile_converges(emu, start, helm_wrapper, monkeypatch):
    helm_wrapper("sleep 3")
    emu.create(cluster())
    emu.create(network())
    slow = start("--graceful-shutdown-timeout", "0")
    wait_for(state_is(emu, "Create", "Processing"), message="reconcile in flight")
    slow.stop()  # cancels the reconcile like a crash would
    assert last_operation(emu)["state"] == "Processing"
    monkeypatch.delenv("HELM_BINARY")
    start()
    wait_for(state_is(emu, "Create"), message="converged after restart")
    assert managed_resource(emu) is not None


def _http(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@emulator_only
def test_healthz_readyz_and_metrics(emu, start):
    emu.inject_fault("LIST", "networks", status=500, times=4)
    emu.create(cluster())
    emu.create(network())
    running = start()
    urls = running.controller.servers.urls
    assert _http(urls["health"] + "/healthz")[0] == 200
    assert _http(urls["health"] + "/readyz")[0] == 503, "watches not synced while listing fails"
    wait_for(state_is(emu, "Create"))
    assert _http(urls["health"] + "/readyz")[0] == 200
    status, text = _http(urls["metrics"] + "/metrics")
    assert status == 200
    assert 'networking_reconciles_total{operation="Create",result="succeeded",type="calico"}' in text
    assert "networking_reconcile_duration_seconds_bucket" in text
    # controller-runtime's and client-go's names and labels, for Gardener's dashboards and alerts
    assert _sample(text, 'controller_runtime_reconcile_total{controller="network",result="success"}') >= 1
    assert _sample(text, 'controller_runtime_reconcile_time_seconds_bucket{controller="network",le="60.0"}') >= 1
    assert _sample(text, 'controller_runtime_max_concurrent_reconciles{controller="network"}') == 5
    assert _sample(text, 'controller_runtime_active_workers{controller="network"}') >= 0
    queue = 'controller="network",name="network"'
    assert _sample(text, f"workqueue_adds_total{{{queue}}}") >= 1
    assert _sample(text, f'workqueue_queue_duration_seconds_bucket{{{queue},le="1e-08"}}') >= 0
    assert _sample(text, f'workqueue_work_duration_seconds_bucket{{{queue},le="1000.0"}}') >= 1
    for name in ("workqueue_unfinished_work_seconds", "workqueue_longest_running_processor_seconds",
                 "workqueue_retries_total"):
        assert _sample(text, f"{name}{{{queue}}}") >= 0, name
    assert _sample(text, f'workqueue_depth{{{queue},priority=""}}') >= 0
    assert _sample(text, "process_resident_memory_bytes") > 0 and "python_info{" in text


def _sample(text: str, series: str) -> float:
    """The value of one series (`name{label="v",...}`, labels in any order) of a Prometheus exposition."""
    name, _, labels = series.partition("{")
    wanted = dict(re.findall(r'(\w+)="([^"]*)"', labels))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == wanted:
                return sample.value
    raise AssertionError(f"{series} not exposed")


def test_heartbeat_lease_is_renewed(emu, start):
    start("--heartbeat-renew-interval-seconds", "0.3", "--extension-name", "networking-calico")
    lease = wait_for(lambda: emu.get("coordination.k8s.io/v1", "leases", "gardener-extension-heartbeat", "garden"))
    assert lease["spec"]["holderIdentity"] == "networking-calico"
    first = lease["spec"]["renewTime"]
    wait_for(lambda: emu.get("coordination.k8s.io/v1", "leases", "gardener-extension-heartbeat",
                             "garden")["spec"]["renewTime"] != first, message="renewed")
