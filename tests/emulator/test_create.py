"""Checklist: create (server-set metadata, namespace rules, generateName, AlreadyExists, Secrets,
status dropped with a status subresource) and CRD schema validation/pruning."""

import base64
import re
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .support import GROUP, VERSION, error_body, http, network

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def test_create_returns_201_and_sets_server_fields(server, core, custom, ns):
    data, status, _ = core.create_namespaced_config_map_with_http_info(
        ns, {"metadata": {"name": "a", "uid": "forged", "creationTimestamp": "2000-01-01T00:00:00Z"}})
    assert status == 201
    assert data.metadata.uid != "forged" and uuid.UUID(data.metadata.uid)
    created = server.get("v1", "ConfigMap", "a", ns)
    assert RFC3339.match(created["metadata"]["creationTimestamp"])
    assert created["metadata"]["creationTimestamp"] != "2000-01-01T00:00:00Z"
    net = custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network())
    assert net["metadata"]["generation"] == 1
    assert int(net["metadata"]["resourceVersion"]) > int(data.metadata.resource_version)


def test_namespace_is_filled_from_url_and_mismatch_is_400(core, ns, ns2):
    created = core.create_namespaced_config_map(ns2, {"metadata": {"name": "a"}})
    assert created.metadata.namespace == ns2
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "b", "namespace": ns2}})
    assert error.value.status == 400 and error_body(error.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "BadRequest",
        "message": "the namespace of the provided object does not match the namespace sent on the request",
        "code": 400}


def test_create_in_missing_namespace_is_404(core):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map("missing", {"metadata": {"name": "a"}})
    assert error.value.status == 404
    assert error_body(error.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'namespaces "missing" not found', "reason": "NotFound",
        "details": {"name": "missing", "kind": "namespaces"}, "code": 404}  # Go omits the empty group


def test_generate_name(core, ns):
    first = core.create_namespaced_config_map(ns, {"metadata": {"generateName": "cm-"}})
    second = core.create_namespaced_config_map(ns, {"metadata": {"generateName": "cm-"}})
    assert re.match(r"^cm-[a-z0-9]{5}$", first.metadata.name)
    assert first.metadata.name != second.metadata.name


def test_already_exists_is_409(custom, ns):
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network())
    with pytest.raises(ApiException) as error:
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network())
    body = error_body(error.value)
    assert error.value.status == 409
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "reason": "AlreadyExists", "message": f'networks.{GROUP} "net" already exists',
                    "details": {"name": "net", "group": GROUP, "kind": "networks"}, "code": 409}


def test_invalid_name_is_422(core, ns):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "Not_Valid"}})
    assert error.value.status == 422
    assert error_body(error.value)["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "field": "metadata.name",
        "message": 'Invalid value: "Not_Valid": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                   "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
                   "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}]


def test_secret_string_data_merged_and_type_defaults_to_opaque(core, ns):
    secret = core.create_namespaced_secret(ns, client.V1Secret(
        metadata=client.V1ObjectMeta(name="s"), data={"a": base64.b64encode(b"1").decode()},
        string_data={"b": "two"}))
    assert secret.type == "Opaque"
    assert secret.string_data is None
    assert base64.b64decode(secret.data["b"]) == b"two" and base64.b64decode(secret.data["a"]) == b"1"
    replaced = core.replace_namespaced_secret("s", ns, {"metadata": {"name": "s"}, "stringData": {"c": "3"}})
    assert base64.b64decode(replaced.data["c"]) == b"3" and replaced.type == "Opaque"


def test_status_dropped_on_create_with_status_subresource(custom, ns):
    body = network()
    body["status"] = {"observedGeneration": 7}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", body)
    assert "status" not in created


def test_cluster_scoped_custom_resource(custom, server):
    cluster = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "shoot--a--b"},
               "spec": {"cloudProfile": {"any": 1}, "shoot": {"spec": {"x": [1]}}, "seed": {}}}
    created = custom.create_cluster_custom_object(GROUP, VERSION, "clusters", cluster)
    assert "namespace" not in created["metadata"]
    assert created["spec"]["shoot"] == {"spec": {"x": [1]}}  # preserve-unknown-fields keeps it all
    assert server.get(f"{GROUP}/{VERSION}", "clusters", "shoot--a--b")["spec"]["cloudProfile"] == {"any": 1}


def test_schema_violation_is_422_invalid_with_causes(custom, ns):
    body = network()
    del body["spec"]["podCIDR"]
    body["spec"]["type"] = 5
    with pytest.raises(ApiException) as error:
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", body)
    status = error_body(error.value)
    assert error.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["kind"] == "Network" and status["details"]["group"] == GROUP
    not_checked = ("Invalid value: null: some validation rules were not checked because the object was invalid; "
                   "correct the existing errors to complete validation")
    assert status["details"]["causes"] == [  # properties before the missing required fields of their object
        {"reason": "FieldValueTypeInvalid", "field": "spec.type",
         "message": 'Invalid value: "integer": spec.type in body must be of type string: "integer"'},
        {"reason": "FieldValueRequired", "field": "spec.podCIDR", "message": "Required value"},
        {"reason": "FieldValueInvalid", "field": "<nil>", "message": not_checked}]  # the CRD has CEL rules
    assert status["message"] == (f'Network.{GROUP} "net" is invalid: [spec.type: Invalid value: "integer": spec.type '
                                 'in body must be of type string: "integer", spec.podCIDR: Required value, '
                                 f"<nil>: {not_checked}]")


def test_unknown_fields_are_pruned_and_strict_validation_rejects_them(server, custom, ns):
    body = network(unknown="x")
    body["extra"] = {"a": 1}
    body["spec"]["providerConfig"] = {"free": {"form": True}}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", body)
    assert "unknown" not in created["spec"] and "extra" not in created
    assert created["spec"]["providerConfig"] == {"free": {"form": True}}
    status, body = http(server, "POST", f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks"
                        "?fieldValidation=Strict", {**network("strict", unknown="x"), "extra": 1})
    assert status == 400 and body["message"] == (
        'Network in version "v1alpha1" cannot be handled as a Network: strict decoding error: '
        'unknown field "extra", unknown field "spec.unknown"')


def test_bodies_in_yaml_and_unknown_media_types(server, ns):
    status, created = http(server, "POST", f"/api/v1/namespaces/{ns}/configmaps",
                           b"metadata:\n  name: from-yaml\ndata:\n  a: '1'\n", content_type="application/yaml")
    assert status == 201 and created["data"] == {"a": "1"}
    for path in (f"/api/v1/namespaces/{ns}/configmaps", f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks"):
        status, body = http(server, "POST", path, b"{}", content_type="text/plain")
        assert status == 415 and body["message"] == (
            "the body of the request was in an unknown format - accepted media types include: application/json, "
            "application/yaml, application/vnd.kubernetes.protobuf")


def test_builtin_resources_controllers_touch(server, api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_event(ns, client.CoreV1Event(
        metadata=client.V1ObjectMeta(generate_name="net."),
        involved_object=client.V1ObjectReference(name="net", namespace=ns),
        reason="Reconciled", message="ok", type="Normal"))
    with pytest.raises(ApiException) as error:  # an Event lives in the namespace of its object
        core.create_namespaced_event(ns, client.CoreV1Event(
            metadata=client.V1ObjectMeta(name="elsewhere"), involved_object=client.V1ObjectReference(name="net"),
            reason="Reconciled", message="ok", type="Normal"))
    assert error.value.status == 422 and error_body(error.value)["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "field": "involvedObject.namespace",
        "message": 'Invalid value: "": does not match event.namespace'}]
    status, _ = http(server, "POST", f"/apis/events.k8s.io/v1/namespaces/{ns}/events", {
        "metadata": {"name": "net.1"}, "eventTime": "2024-01-01T00:00:00.000000Z", "reason": "Reconciled",
        "regarding": {"name": "net", "namespace": ns}, "action": "Reconcile", "reportingController": "networking",
        "reportingInstance": "i", "type": "Normal"})  # raw: the typed client drops eventTime's microseconds
    assert status == 201
    core.create_namespaced_service_account(ns, {"metadata": {"name": "sa"}})
    core_events = core.list_namespaced_event(ns).items  # one storage, two APIs
    assert [(e.reason, e.involved_object.name) for e in core_events] == [("Reconciled", "net")] * 2
    assert core_events[0].metadata.name == "net.1" and core_events[0].reporting_component == "networking"
    status, listed = http(server, "GET", f"/apis/events.k8s.io/v1/namespaces/{ns}/events")  # raw: the typed
    assert status == 200  # client cannot read a core Event's eventTime (null) as events.k8s.io/v1
    assert [(e["metadata"]["name"], e.get("note")) for e in listed["items"]] == [
        ("net.1", None), (core_events[1].metadata.name, "ok")]
    assert listed["items"][1]["regarding"]["name"] == "net"
    assert core.read_namespaced_service_account("sa", ns).metadata.name == "sa"


def test_malformed_creates_answer_like_the_real_server(server, ns):
    networks = f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks"
    status, body = http(server, "POST", networks, {**network(), "kind": "Other"})
    assert (status, body["message"]) == (422, f'Other.{GROUP} "net" is invalid: kind: Invalid value: "Other": '
                                              "must be Network")
    status, body = http(server, "POST", networks, {**network(), "metadata": {"name": "net", "resourceVersion": "5"}})
    assert (status, body) == (500, {  # a plain error of the storage layer: no reason
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 500,
        "message": "resourceVersion should not be set on objects to be created"})
    status, body = http(server, "POST", networks, {**network(), "metadata": {}})
    assert status == 422 and body["details"] == {"group": GROUP, "kind": "Network", "causes": [  # no empty name
        {"reason": "FieldValueRequired", "field": "metadata.name",
         "message": "Required value: name or generateName is required"},
        {"reason": "FieldValueInvalid", "field": "<nil>",
         "message": "Invalid value: null: some validation rules were not checked because the object was invalid; "
                    "correct the existing errors to complete validation"}]}
    for path, obj, message in (
            ("configmaps", {"metadata": {"name": "a"}, "data": {"k": 1}}, 'ConfigMap in version "v1" cannot be '
             "handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"),
            ("secrets", {"metadata": {"name": "s"}, "data": {"a": "not base64!"}},
             'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3')):
        status, body = http(server, "POST", f"/api/v1/namespaces/{ns}/{path}", obj)
        assert (status, body["reason"], body["message"]) == (400, "BadRequest", message)
    status, body = http(server, "POST", "/api/v1/configmaps", {"metadata": {"name": "a"}})
    assert (status, body["details"]) == (405, {})
