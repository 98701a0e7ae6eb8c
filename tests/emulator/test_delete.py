"""Checklist: delete (finalizers, deletionTimestamp, preconditions, namespace lifecycle)."""

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from .conftest import emulator_only
from .support import GROUP, VERSION, error_body, http, network


def events_after(custom, ns, rv, count):
    stream = watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, ns, "networks",
                                  resource_version=rv, timeout_seconds=2)
    return [(e["type"], e["object"]) for _, e in zip(range(count), stream)]


def test_delete_without_finalizers_removes_object(core, custom, ns):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    status = core.delete_namespaced_config_map("a", ns)
    assert status["kind"] == "Status" and status["status"] == "Success" and status["details"]["name"] == "a"
    net = custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network())
    deleted = custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net")
    assert deleted == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                       "details": {"name": "net", "group": GROUP, "kind": "networks", "uid": net["metadata"]["uid"]}}
    with pytest.raises(ApiException) as error:
        custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net")
    assert error.value.status == 404


def test_finalizers_keep_object_until_removed(custom, server, ns):
    body = network()
    body["metadata"]["finalizers"] = ["extensions.gardener.cloud/calico"]
    created = custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", body)
    rv = created["metadata"]["resourceVersion"]
    terminating = custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net")
    assert terminating["metadata"]["deletionTimestamp"]
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 0
    assert terminating["metadata"]["generation"] == 2  # graceful deletion bumps the generation
    stored = server.get(f"{GROUP}/{VERSION}", "Network", "net", ns)
    assert stored["metadata"]["deletionTimestamp"] == terminating["metadata"]["deletionTimestamp"]
    again = custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net")
    assert again["metadata"]["resourceVersion"] == terminating["metadata"]["resourceVersion"]

    with pytest.raises(ApiException) as error:
        custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net",
                                              {"metadata": {"finalizers": ["extensions.gardener.cloud/calico", "new"]}})
    assert error.value.status == 422
    assert error_body(error.value)["details"]["causes"][0]["field"] == "metadata.finalizers"

    released = custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net",
                                                     {"metadata": {"finalizers": None}})
    assert "finalizers" not in released["metadata"]  # the answer is the updated object ...
    assert server.get(f"{GROUP}/{VERSION}", "Network", "net", ns) is None
    events = events_after(custom, ns, rv, 2)
    assert [t for t, _ in events] == ["MODIFIED", "DELETED"]
    assert events[0][1]["metadata"]["deletionTimestamp"]
    deleted = events[1][1]["metadata"]  # ... the watch sees the last stored state go
    assert deleted["finalizers"] == ["extensions.gardener.cloud/calico"] and deleted["deletionTimestamp"]


def test_delete_preconditions(core, ns):
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    for preconditions, why in (
            ({"uid": "other"}, f"the UID in the precondition (other) does not match the UID in record "
                               f"({cm.metadata.uid}). The object might have been deleted and then recreated"),
            ({"resourceVersion": "1"}, "the ResourceVersion in the precondition (1) does not match the "
                                       f"ResourceVersion in record ({cm.metadata.resource_version}). The object "
                                       "might have been modified")):
        with pytest.raises(ApiException) as error:
            core.delete_namespaced_config_map("a", ns, body=client.V1DeleteOptions(preconditions=preconditions))
        assert error.value.status == 409
        assert error_body(error.value) == {  # the Kind, not the resource, as the real server words it
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Conflict",
            "message": f'Operation cannot be fulfilled on ConfigMap "a": {why}',
            "details": {"name": "a", "kind": "ConfigMap"}, "code": 409}
    core.delete_namespaced_config_map("a", ns, body=client.V1DeleteOptions(preconditions={
        "uid": cm.metadata.uid, "resourceVersion": cm.metadata.resource_version}))
    assert core.list_namespaced_config_map(ns).items == []


def test_delete_collection_with_selector(core, ns):
    for name, labels in (("a", {"x": "1"}), ("b", {"x": "1"}), ("c", {})):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})
    core.delete_collection_namespaced_config_map(ns, label_selector="x=1")
    assert [c.metadata.name for c in core.list_namespaced_config_map(ns).items] == ["c"]


def test_namespace_deletion_marks_it_terminating_and_forbids_new_content(core, custom, server, ns):
    body = network()
    body["metadata"]["finalizers"] = ["example.com/keep"]  # keeps the namespace Terminating on the emulator too
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", body)
    status, deleted = http(server, "DELETE", f"/api/v1/namespaces/{ns}")
    assert status == 200 and deleted["kind"] == "Namespace" and deleted["metadata"]["deletionTimestamp"]
    assert deleted["status"]["phase"] == "Terminating" and deleted["spec"] == {"finalizers": ["kubernetes"]}
    assert server.get("v1", "namespaces", ns)["status"]["phase"] == "Terminating"
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "late"}})
    assert error.value.status == 403
    assert error_body(error.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'configmaps "late" is forbidden: unable to create new content in namespace {ns} because it '
                   "is being terminated", "reason": "Forbidden",
        "details": {"name": "late", "kind": "configmaps", "causes": [{
            "reason": "NamespaceTerminating", "message": f"namespace {ns} is being terminated",
            "field": "metadata.namespace"}]}, "code": 403}


@emulator_only
def test_namespace_deletion_empties_namespace_then_goes_away(core, custom, server, ns):
    """Emulator only: emptying and removing a Terminating namespace is kube-controller-manager's job
    (the emulator does it synchronously); the real control plane of the tests runs none."""
    core.create_namespaced_config_map(ns, {"metadata": {"name": "plain"}})
    body = network()
    body["metadata"]["finalizers"] = ["example.com/keep"]
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", body)
    core.delete_namespace(ns)
    assert server.get("v1", "configmaps", "plain", ns) is None
    assert server.get("v1", "namespaces", ns)["status"]["phase"] == "Terminating"
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", {"metadata": {"finalizers": []}})
    assert server.get("v1", "namespaces", ns) is None
