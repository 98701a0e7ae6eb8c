"""Checklist: update (PUT) and patch (merge, JSON, strategic), optimistic concurrency, no-op writes,
generation rules, the status subresource split, server-owned fields."""

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .support import GROUP, VERSION, error_body, http, network

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
SMP = "application/strategic-merge-patch+json"


def create_network(custom, ns, name="net"):
    return custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network(name))


def test_put_with_stale_resource_version_is_409(core, custom, ns):
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}, "data": {"k": "1"}})
    cm.data = {"k": "2"}
    updated = core.replace_namespaced_config_map("a", ns, cm)
    assert updated.data == {"k": "2"}
    cm.data = {"k": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as error:
        core.replace_namespaced_config_map("a", ns, cm)
    body = error_body(error.value)
    assert error.value.status == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Conflict",
                    "message": 'Operation cannot be fulfilled on configmaps "a": the object has been modified; '
                               "please apply your changes to the latest version and try again",
                    "details": {"name": "a", "kind": "configmaps"}, "code": 409}
    net = create_network(custom, ns)
    net["metadata"]["resourceVersion"] = "1"
    with pytest.raises(ApiException) as error:
        custom.replace_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", net)
    assert error.value.status == 409


def test_put_of_custom_object_requires_resource_version_and_existing_object(custom, ns):
    net = create_network(custom, ns)
    del net["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as error:
        custom.replace_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", net)
    assert error.value.status == 422
    assert error_body(error.value)["message"] == (f'networks.{GROUP} "net" is invalid: metadata.resourceVersion: '
                                                  "Invalid value: 0: must be specified for an update")
    assert error_body(error.value)["details"]["kind"] == "networks"  # the resource here, not the Kind
    with pytest.raises(ApiException) as error:
        custom.replace_namespaced_custom_object(GROUP, VERSION, ns, "networks", "other", network("other"))
    assert error.value.status == 404


def test_put_name_mismatch_is_400(core, ns):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    with pytest.raises(ApiException) as error:
        core.replace_namespaced_config_map("a", ns, {"metadata": {"name": "b"}})
    assert error.value.status == 400 and error_body(error.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "BadRequest",
        "message": "the name of the object (b) does not match the name on the URL (a)", "code": 400}


def test_merge_patch(server, custom, ns):
    create_network(custom, ns)
    patched = custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, "networks", "net", {"metadata": {"labels": {"a": "b"}}, "spec": {"ipFamilies": ["IPv4"]}})
    assert patched["metadata"]["labels"] == {"a": "b"} and patched["spec"]["ipFamilies"] == ["IPv4"]
    with pytest.raises(ApiException) as error:  # removing a required field fails validation
        custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", {"spec": {"type": None}})
    assert error.value.status == 422
    status, body = http(server, "PATCH", f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks/net", [1],
                        content_type=MERGE)
    assert (status, body["message"]) == (400, "error decoding patch: json: cannot unmarshal array into Go value of "
                                              "type map[string]interface {}")


def test_json_patch_and_failing_test_operation(core, server, ns):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}, "data": {"k": "1"}})
    patched = core.patch_namespaced_config_map("a", ns, [
        {"op": "test", "path": "/data/k", "value": "1"},
        {"op": "replace", "path": "/data/k", "value": "2"},
        {"op": "add", "path": "/metadata/labels", "value": {"example.com/x": "z"}},
        {"op": "replace", "path": "/metadata/labels/example.com~1x", "value": "y"},
        {"op": "add", "path": "/data/n", "value": "3"},
        {"op": "remove", "path": "/data/n"},
    ], _content_type=JSON_PATCH)
    assert patched.data == {"k": "2"} and patched.metadata.labels == {"example.com/x": "y"}
    before = server.get("v1", "configmaps", "a", ns)
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_config_map("a", ns, [
            {"op": "replace", "path": "/data/k", "value": "3"},
            {"op": "test", "path": "/data/k", "value": "nope"}], _content_type=JSON_PATCH)
    assert error.value.status == 422 and error_body(error.value) == {  # the real server drops the detail
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Invalid", "details": {}, "code": 422,
        "message": "the server rejected our request due to an error in our request"}
    assert server.get("v1", "configmaps", "a", ns) == before
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_config_map("a", ns, [{"op": "remove", "path": "/data/missing"}], _content_type=JSON_PATCH)
    assert error.value.status == 422
    added = core.patch_namespaced_config_map("a", ns, [{"op": "replace", "path": "/data/missing", "value": "x"}],
                                             _content_type=JSON_PATCH)  # replacing a missing member adds it
    assert added.data == {"k": "2", "missing": "x"}
    status, body = http(server, "PATCH", f"/api/v1/namespaces/{ns}/configmaps/a", {"data": {}},
                        content_type=JSON_PATCH)  # an object is not a JSON patch document
    assert status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == ("error decoding patch: json: cannot unmarshal object into Go value of type "
                               "[]handlers.jsonPatchOp")


def test_strategic_merge_patch_merges_maps_and_replaces_lists(core, server, custom, ns):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a", "labels": {"x": "1", "y": "2"},
                                                               "finalizers": ["f/one"]}, "data": {"k": "1"}})
    patched = core.patch_namespaced_config_map("a", ns, {
        "metadata": {"labels": {"y": None, "z": "3"}, "finalizers": ["f/two"]}, "data": {"n": "2"}},
        _content_type=SMP)
    assert patched.metadata.labels == {"x": "1", "z": "3"}
    assert patched.data == {"k": "1", "n": "2"}
    assert patched.metadata.finalizers == ["f/two", "f/one"]  # patchStrategy=merge: the patch's items first
    replaced = core.patch_namespaced_config_map("a", ns, {"data": {"$patch": "replace", "only": "x"}},
                                                _content_type=SMP)
    assert replaced.data == {"only": "x"}
    create_network(custom, ns)
    status, body = http(server, "PATCH", f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks/net",
                        {"spec": {"type": "x"}}, content_type=SMP)
    assert status == 415 and body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "UnsupportedMediaType", "code": 415,
                                      "message": "the body of the request was in an unknown format - accepted media "
                                                 "types include: application/json-patch+json, "
                                                 "application/merge-patch+json, application/apply-patch+yaml"}


def test_patch_with_stale_resource_version_is_409(core, ns):
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    core.patch_namespaced_config_map("a", ns, {"data": {"k": "1"}}, _content_type=MERGE)
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_config_map("a", ns, {"metadata": {"resourceVersion": cm.metadata.resource_version},
                                                          "data": {"k": "2"}}, _content_type=MERGE)
    assert error.value.status == 409 and error_body(error.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Conflict",
        "message": 'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply '
                   "your changes to the latest version and try again",
        "details": {"name": "a", "kind": "configmaps"}, "code": 409}


def test_patch_missing_object_is_404(core, ns):
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_config_map("nope", ns, {"data": {}}, _content_type=MERGE)
    assert error.value.status == 404 and error_body(error.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "NotFound",
        "message": 'configmaps "nope" not found', "details": {"name": "nope", "kind": "configmaps"}, "code": 404}


def test_noop_writes_keep_resource_version_and_emit_no_event(core, custom, api, ns):
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}, "data": {"k": "1"}})
    rv = cm.metadata.resource_version
    assert core.patch_namespaced_config_map("a", ns, {"data": {"k": "1"}},
                                            _content_type=MERGE).metadata.resource_version == rv
    assert core.replace_namespaced_config_map("a", ns, cm).metadata.resource_version == rv
    net = create_network(custom, ns)
    same = custom.replace_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", net)
    assert same["metadata"]["resourceVersion"] == net["metadata"]["resourceVersion"]
    events = list(client.CoreV1Api(api).list_namespaced_config_map(
        ns, watch=True, resource_version=rv, timeout_seconds=1, _preload_content=False).read().splitlines())
    assert events == []


def test_generation_bumps_only_for_spec_changes(custom, ns):
    net = create_network(custom, ns)
    labelled = custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net",
                                                     {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 1
    with_status = custom.patch_namespaced_custom_object_status(GROUP, VERSION, ns, "networks", "net",
                                                               {"status": {"observedGeneration": 1}})
    assert with_status["metadata"]["generation"] == 1
    changed = custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net",
                                                    {"spec": {"type": "cilium"}})
    assert changed["metadata"]["generation"] == 2
    assert int(changed["metadata"]["resourceVersion"]) > int(net["metadata"]["resourceVersion"])


def test_status_subresource_writes_only_status(custom, ns):
    create_network(custom, ns)
    patched = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, ns, "networks", "net",
        {"metadata": {"labels": {"ignored": "yes"}}, "spec": {"type": "ignored"}, "status": {"observedGeneration": 1}})
    assert patched["status"] == {"observedGeneration": 1}
    assert patched["spec"]["type"] == "calico" and "labels" not in patched["metadata"]
    current = custom.get_namespaced_custom_object_status(GROUP, VERSION, ns, "networks", "net")
    current["status"]["observedGeneration"] = 2
    replaced = custom.replace_namespaced_custom_object_status(GROUP, VERSION, ns, "networks", "net", current)
    assert replaced["status"]["observedGeneration"] == 2
    with pytest.raises(ApiException) as error:  # status is validated against the schema too
        custom.patch_namespaced_custom_object_status(GROUP, VERSION, ns, "networks", "net",
                                                     {"status": {"observedGeneration": "x"}})
    assert error.value.status == 422
    assert error_body(error.value)["details"]["causes"][0] == {  # the message names the path below status
        "reason": "FieldValueTypeInvalid", "field": "status.observedGeneration",
        "message": 'Invalid value: "string": observedGeneration in body must be of type integer: "string"'}


def test_main_resource_writes_ignore_status(custom, ns):
    create_network(custom, ns)
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, ns, "networks", "net",
                                                 {"status": {"observedGeneration": 1}})
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net",
                                                    {"status": {"observedGeneration": 9}})
    assert patched["status"] == {"observedGeneration": 1}


def test_clients_cannot_set_server_owned_fields(custom, ns):
    net = create_network(custom, ns)
    net["metadata"].update(creationTimestamp="2000-01-01T00:00:00Z", generation=42)
    net["spec"]["type"] = "cilium"
    with pytest.raises(ApiException) as error:  # a deletionTimestamp cannot be set by an update
        custom.replace_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", {
            **net, "metadata": {**net["metadata"], "deletionTimestamp": "2000-01-01T00:00:00Z"}})
    immutable = {"reason": "FieldValueInvalid", "field": "metadata.deletionTimestamp",
                 "message": 'Invalid value: "2000-01-01T00:00:00Z": field is immutable'}
    assert error.value.status == 422 and error_body(error.value)["details"]["causes"] == [immutable, immutable]
    uid = net["metadata"]["uid"]
    with pytest.raises(ApiException) as error:  # a uid in the body is a precondition
        custom.replace_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net",
                                                {**net, "metadata": {**net["metadata"], "uid": "forged"}})
    assert error.value.status == 409 and error_body(error.value)["message"] == (
        f'Operation cannot be fulfilled on networks.{GROUP} "net": StorageError: invalid object, Code: 4, Key: '
        f"/registry/{GROUP}/networks/{ns}/net, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: "
        f"UID in precondition: forged, UID in object meta: {uid}")
    with pytest.raises(ApiException) as error:  # and immutable
        custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", {"metadata": {"uid": "forged"}})
    immutable = {"reason": "FieldValueInvalid", "field": "metadata.uid",
                 "message": 'Invalid value: "forged": field is immutable'}
    assert error.value.status == 422 and error_body(error.value)["details"]["causes"] == [immutable, immutable]
    updated = custom.replace_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", net)
    assert updated["metadata"]["uid"] == uid
    assert updated["metadata"]["creationTimestamp"] != "2000-01-01T00:00:00Z"
    assert updated["metadata"]["generation"] == 2
    assert "deletionTimestamp" not in updated["metadata"]
