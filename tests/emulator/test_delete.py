"""Checklist: delete (finalizers, deletionTimestamp, preconditions, namespace lifecycle)."""

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from .support import GROUP, VERSION, error_body, network


def events_after(custom, rv, count):
    stream = watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, "default", "networks",
                                  resource_version=rv, timeout_seconds=2)
    return [(e["type"], e["object"]) for _, e in zip(range(count), stream)]


def test_delete_without_finalizers_removes_object(core, custom):
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    status = core.delete_namespaced_config_map("a", "default")
    assert status["kind"] == "Status" and status["status"] == "Success" and status["details"]["name"] == "a"
    net = custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network())
    deleted = custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "networks", "net")
    assert deleted["metadata"]["uid"] == net["metadata"]["uid"]
    with pytest.raises(ApiException) as error:
        custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "networks", "net")
    assert error.value.status == 404


def test_finalizers_keep_object_until_removed(custom, emulator):
    body = network()
    body["metadata"]["finalizers"] = ["extensions.gardener.cloud/calico"]
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", body)
    rv = created["metadata"]["resourceVersion"]
    terminating = custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "networks", "net")
    assert terminating["metadata"]["deletionTimestamp"]
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 0
    assert terminating["metadata"]["generation"] == 2  # graceful deletion bumps the generation
    stored = emulator.get(f"{GROUP}/{VERSION}", "Network", "net", "default")
    assert stored["metadata"]["deletionTimestamp"] == terminating["metadata"]["deletionTimestamp"]
    again = custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "networks", "net")
    assert again["metadata"]["resourceVersion"] == terminating["metadata"]["resourceVersion"]

    with pytest.raises(ApiException) as error:
        custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "networks", "net",
                                              {"metadata": {"finalizers": ["extensions.gardener.cloud/calico", "new"]}})
    assert error.value.status == 422
    assert error_body(error.value)["details"]["causes"][0]["field"] == "metadata.finalizers"

    custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "networks", "net", {"metadata": {"finalizers": None}})
    assert emulator.get(f"{GROUP}/{VERSION}", "Network", "net", "default") is None
    events = events_after(custom, rv, 2)
    assert [t for t, _ in events] == ["MODIFIED", "DELETED"]
    assert events[0][1]["metadata"]["deletionTimestamp"]
    assert "finalizers" not in events[1][1]["metadata"]


def test_delete_preconditions(core):
    cm = core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    for preconditions in ({"uid": "other"}, {"resourceVersion": "1"}):
        with pytest.raises(ApiException) as error:
            core.delete_namespaced_config_map("a", "default", body=client.V1DeleteOptions(preconditions=preconditions))
        assert error.value.status == 409 and "Precondition failed" in error_body(error.value)["message"]
    core.delete_namespaced_config_map("a", "default", body=client.V1DeleteOptions(preconditions={
        "uid": cm.metadata.uid, "resourceVersion": cm.metadata.resource_version}))
    assert core.list_namespaced_config_map("default").items == []


def test_delete_collection_with_selector(core):
    for name, labels in (("a", {"x": "1"}), ("b", {"x": "1"}), ("c", {})):
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": labels}})
    core.delete_collection_namespaced_config_map("default", label_selector="x=1")
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == ["c"]


def test_namespace_deletion_empties_namespace_then_goes_away(core, custom, emulator):
    core.create_namespace({"metadata": {"name": "shoot--a"}})
    core.create_namespaced_config_map("shoot--a", {"metadata": {"name": "plain"}})
    body = network()
    body["metadata"]["finalizers"] = ["keep"]
    custom.create_namespaced_custom_object(GROUP, VERSION, "shoot--a", "networks", body)
    core.delete_namespace("shoot--a")
    assert emulator.get("v1", "configmaps", "plain", "shoot--a") is None
    assert emulator.get("v1", "namespaces", "shoot--a")["status"]["phase"] == "Terminating"
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map("shoot--a", {"metadata": {"name": "late"}})
    assert error.value.status == 403
    custom.patch_namespaced_custom_object(GROUP, VERSION, "shoot--a", "networks", "net", {"metadata": {"finalizers": []}})
    assert emulator.get("v1", "namespaces", "shoot--a") is None
