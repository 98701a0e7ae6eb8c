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


def test_create_returns_201_and_sets_server_fields(emulator, core, custom):
    data, status, _ = core.create_namespaced_config_map_with_http_info(
        "default", {"metadata": {"name": "a", "uid": "forged", "creationTimestamp": "2000-01-01T00:00:00Z"}})
    assert status == 201
    assert data.metadata.uid != "forged" and uuid.UUID(data.metadata.uid)
    created = emulator.get("v1", "ConfigMap", "a", "default")
    assert RFC3339.match(created["metadata"]["creationTimestamp"])
    assert created["metadata"]["creationTimestamp"] != "2000-01-01T00:00:00Z"
    net = custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network())
    assert net["metadata"]["generation"] == 1
    assert int(net["metadata"]["resourceVersion"]) > int(data.metadata.resource_version)


def test_namespace_is_filled_from_url_and_mismatch_is_400(core):
    created = core.create_namespaced_config_map("kube-system", {"metadata": {"name": "a"}})
    assert created.metadata.namespace == "kube-system"
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map("default", {"metadata": {"name": "b", "namespace": "kube-system"}})
    assert error.value.status == 400 and error_body(error.value)["reason"] == "BadRequest"


def test_create_in_missing_namespace_is_404(core):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map("missing", {"metadata": {"name": "a"}})
    assert error.value.status == 404
    assert error_body(error.value)["details"] == {"name": "missing", "group": "", "kind": "namespaces"}


def test_generate_name(core):
    first = core.create_namespaced_config_map("default", {"metadata": {"generateName": "cm-"}})
    second = core.create_namespaced_config_map("default", {"metadata": {"generateName": "cm-"}})
    assert re.match(r"^cm-[a-z0-9]{5}$", first.metadata.name)
    assert first.metadata.name != second.metadata.name


def test_already_exists_is_409(custom):
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network())
    with pytest.raises(ApiException) as error:
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network())
    body = error_body(error.value)
    assert error.value.status == 409
    assert body["reason"] == "AlreadyExists" and body["kind"] == "Status" and body["status"] == "Failure"
    assert body["details"] == {"name": "net", "group": GROUP, "kind": "networks"}


def test_invalid_name_is_422(core):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map("default", {"metadata": {"name": "Not_Valid"}})
    assert error.value.status == 422
    assert error_body(error.value)["details"]["causes"][0]["field"] == "metadata.name"


def test_secret_string_data_merged_and_type_defaults_to_opaque(core):
    secret = core.create_namespaced_secret("default", client.V1Secret(
        metadata=client.V1ObjectMeta(name="s"), data={"a": base64.b64encode(b"1").decode()},
        string_data={"b": "two"}))
    assert secret.type == "Opaque"
    assert secret.string_data is None
    assert base64.b64decode(secret.data["b"]) == b"two" and base64.b64decode(secret.data["a"]) == b"1"
    replaced = core.replace_namespaced_secret("s", "default", {"metadata": {"name": "s"}, "stringData": {"c": "3"}})
    assert base64.b64decode(replaced.data["c"]) == b"3" and replaced.type == "Opaque"


def test_status_dropped_on_create_with_status_subresource(custom):
    body = network()
    body["status"] = {"observedGeneration": 7}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", body)
    assert "status" not in created


def test_cluster_scoped_custom_resource(custom, emulator):
    cluster = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "shoot--a--b"},
               "spec": {"cloudProfile": {"any": 1}, "shoot": {"spec": {"x": [1]}}, "seed": {}}}
    created = custom.create_cluster_custom_object(GROUP, VERSION, "clusters", cluster)
    assert "namespace" not in created["metadata"]
    assert created["spec"]["shoot"] == {"spec": {"x": [1]}}  # preserve-unknown-fields keeps it all
    assert emulator.get(f"{GROUP}/{VERSION}", "clusters", "shoot--a--b")["spec"]["cloudProfile"] == {"any": 1}


def test_schema_violation_is_422_invalid_with_causes(custom):
    body = network()
    del body["spec"]["podCIDR"]
    body["spec"]["type"] = 5
    with pytest.raises(ApiException) as error:
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", body)
    status = error_body(error.value)
    assert error.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["kind"] == "Network" and status["details"]["group"] == GROUP
    causes = {c["field"]: c["reason"] for c in status["details"]["causes"]}
    assert causes == {"spec.podCIDR": "FieldValueRequired", "spec.type": "FieldValueTypeInvalid"}
    assert status["message"].startswith(f'Network.{GROUP} "net" is invalid')


def test_unknown_fields_are_pruned_and_strict_validation_rejects_them(emulator, custom):
    body = network(unknown="x")
    body["extra"] = {"a": 1}
    body["spec"]["providerConfig"] = {"free": {"form": True}}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", body)
    assert "unknown" not in created["spec"] and "extra" not in created
    assert created["spec"]["providerConfig"] == {"free": {"form": True}}
    status, body = http(emulator, "POST", f"/apis/{GROUP}/{VERSION}/namespaces/default/networks"
                        "?fieldValidation=Strict", network("strict", unknown="x"))
    assert status == 400 and 'unknown field "spec.unknown"' in body["message"]


def test_builtin_resources_controllers_touch(api):
    core, events = client.CoreV1Api(api), client.EventsV1Api(api)
    core.create_namespaced_event("default", client.CoreV1Event(
        metadata=client.V1ObjectMeta(generate_name="net."), involved_object=client.V1ObjectReference(name="net"),
        reason="Reconciled", message="ok", type="Normal"))
    events.create_namespaced_event("default", client.EventsV1Event(
        metadata=client.V1ObjectMeta(name="net.1"), event_time="2024-01-01T00:00:00.000000Z", reason="Reconciled",
        action="Reconcile", reporting_controller="networking", reporting_instance="i", type="Normal"))
    core.create_namespaced_service_account("default", {"metadata": {"name": "sa"}})
    assert [e.reason for e in core.list_namespaced_event("default").items] == ["Reconciled"]
    assert [e.metadata.name for e in events.list_namespaced_event("default").items] == ["net.1"]
    assert core.read_namespaced_service_account("sa", "default").metadata.name == "sa"
