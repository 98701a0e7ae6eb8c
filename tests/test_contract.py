"""The pure rules of the Gardener extension contract (gardener-contract.md 2.2-2.4)."""

from __future__ import annotations

import pytest

from controller import contract as c


def net(annotation=None, last=None, deleting=False, generation=1, finalizers=(), spec_class=None, type_="calico"):
    meta = {"name": "bar", "namespace": "shoot--foo--bar", "generation": generation, "resourceVersion": "7",
            "annotations": {c.OPERATION_ANNOTATION: annotation} if annotation else {}, "finalizers": list(finalizers)}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-25T20:00:00Z"
    obj = {"metadata": meta, "spec": {"type": type_}, "status": {}}
    if spec_class:
        obj["spec"]["class"] = spec_class
    if last:
        obj["status"]["lastOperation"] = {"type": last[0], "state": last[1]}
    return obj


@pytest.mark.parametrize("obj, expected", [
    (net(), "Create"),
    (net(last=("Create", "Error")), "Create"),
    (net(last=("Create", "Succeeded")), "Reconcile"),
    (net(last=("Reconcile", "Error")), "Reconcile"),
    (net(annotation="migrate", deleting=True), "Migrate"),
    (net(deleting=True, annotation="restore"), "Delete"),
    (net(annotation="restore", last=("Reconcile", "Succeeded")), "Restore"),
    (net(last=("Migrate", "Processing")), "Migrate"),
    (net(last=("Restore", "Error")), "Restore"),
    (net(last=("Migrate", "Succeeded")), "Reconcile"),
])
def test_operation_type(obj, expected):
    assert c.compute_operation_type(obj) == expected


def test_migrated_objects_skip_everything_but_migrate_and_restore():
    migrated = net(last=("Migrate", "Succeeded"))
    assert c.should_skip(migrated, "Reconcile") and c.should_skip(migrated, "Delete")
    assert not c.should_skip(migrated, "Restore") and not c.should_skip(migrated, "Migrate")
    assert not c.should_skip(net(last=("Reconcile", "Succeeded")), "Reconcile")


def test_type_and_class_filter():
    assert c.serves(net(), {"calico"}) and c.serves(net(spec_class="shoot"), {"calico"})
    assert not c.serves(net(spec_class="seed"), {"calico"}) and not c.serves(net(type_="cilium"), {"calico"})


@pytest.mark.parametrize("obj, expected", [
    (net(annotation="reconcile", last=("Reconcile", "Succeeded")), True),
    (net(annotation="wait-for-state", last=("Reconcile", "Succeeded")), False),
    (net(deleting=True, last=("Reconcile", "Succeeded")), True),
    (net(), True),
    (net(last=("Reconcile", "Error")), True),
    (net(last=("Reconcile", "Succeeded")), False),
])
def test_create_predicate_default_mode(obj, expected):
    assert c.needs_reconcile_on_create(obj, ignore_operation_annotation=False) is expected


def test_update_predicate_default_mode_needs_the_annotation():
    old = net(last=("Reconcile", "Succeeded"))
    changed = net(last=("Reconcile", "Succeeded"), generation=2)
    assert not c.needs_reconcile_on_update(old, changed, False)
    assert c.needs_reconcile_on_update(old, net(annotation="reconcile", last=("Reconcile", "Succeeded")), False)
    assert c.needs_reconcile_on_update(old, net(deleting=True, last=("Reconcile", "Succeeded")), False)


def test_update_predicate_with_ignore_operation_annotation_follows_generation():
    old = net(last=("Reconcile", "Succeeded"))
    assert c.needs_reconcile_on_update(old, net(last=("Reconcile", "Succeeded"), generation=2), True)
    assert not c.needs_reconcile_on_update(old, net(last=("Reconcile", "Succeeded")), True)


def test_status_builders():
    processing = c.processing_status("Reconcile")["lastOperation"]
    assert (processing["state"], processing["progress"]) == ("Processing", 1)
    done = c.succeeded_status("Reconcile", 3, {"ipFamilies": ["IPv4"]})
    assert done["lastError"] is None and done["observedGeneration"] == 3 and done["ipFamilies"] == ["IPv4"]
    assert done["lastOperation"]["description"] == "Successfully reconciled Network"
    failed = c.error_status("Delete", 4, "boom", codes=["ERR_CONFIGURATION_PROBLEM"])
    assert failed["lastOperation"]["progress"] == 50 and failed["observedGeneration"] == 4
    assert failed["lastError"]["description"] == "Error deleting Network: boom"
    assert failed["lastError"]["codes"] == ["ERR_CONFIGURATION_PROBLEM"]
    assert len(c.now()) == 20 and c.now().endswith("Z")


def test_shoot_not_failed_predicate():
    shoot_ns = {"metadata": {"labels": {"gardener.cloud/role": "shoot"}}}
    cluster = {"spec": {"shoot": {"status": {"lastOperation": {"state": "Succeeded"}}}}}
    failed = {"spec": {"shoot": {"status": {"lastOperation": {"state": "Failed"}}}}}
    assert c.shoot_not_failed(None, None)  # namespace unreadable: let it pass
    assert c.shoot_not_failed({"metadata": {"labels": {}}}, None)  # not a shoot namespace
    assert c.shoot_not_failed(shoot_ns, cluster)
    assert not c.shoot_not_failed(shoot_ns, failed)
    assert not c.shoot_not_failed(shoot_ns, None)  # a shoot namespace without its Cluster
