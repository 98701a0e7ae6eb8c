"""Checklist: get/list (NotFound Status, list shape, label and field selectors, limit/continue)."""

import pytest
from kubernetes.client.rest import ApiException

from .support import GROUP, VERSION, error_body, http, network


def test_get_missing_is_404_with_standard_status(custom, core):
    with pytest.raises(ApiException) as error:
        custom.get_namespaced_custom_object(GROUP, VERSION, "default", "networks", "nope")
    assert error.value.status == 404
    assert error_body(error.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'networks.{GROUP} "nope" not found', "reason": "NotFound",
        "details": {"name": "nope", "group": GROUP, "kind": "networks"}, "code": 404}
    with pytest.raises(ApiException) as error:
        core.read_namespaced_config_map("nope", "default")
    assert error_body(error.value)["message"] == 'configmaps "nope" not found'


def test_list_shape(emulator, custom, core):
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network())
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, "default", "networks")
    assert listed["apiVersion"] == f"{GROUP}/{VERSION}" and listed["kind"] == "NetworkList"
    assert listed["metadata"]["resourceVersion"] == listed["items"][0]["metadata"]["resourceVersion"]
    assert [i["metadata"]["name"] for i in listed["items"]] == ["net"]
    namespaces = core.list_namespace()
    assert {"default", "kube-system"} <= {n.metadata.name for n in namespaces.items}
    assert all(n.status.phase == "Active" for n in namespaces.items)


def test_list_all_namespaces(core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    core.create_namespaced_config_map("kube-system", {"metadata": {"name": "b"}})
    assert [(c.metadata.namespace, c.metadata.name) for c in core.list_config_map_for_all_namespaces().items] == [
        ("default", "a"), ("kube-system", "b")]
    assert [c.metadata.name for c in core.list_namespaced_config_map("kube-system").items] == ["b"]


@pytest.mark.parametrize("selector, expected", [
    ("app=web", ["a", "b"]),
    ("app==web", ["a", "b"]),
    ("app!=web", ["c", "d"]),
    ("tier in (front, back)", ["a", "c"]),
    ("tier notin (front)", ["b", "c", "d"]),
    ("tier", ["a", "c"]),
    ("!tier", ["b", "d"]),
    ("app=web,tier=front", ["a"]),
    ("app in (web,db),!tier", ["b"]),
])
def test_label_selectors(core, selector, expected):
    for name, labels in {"a": {"app": "web", "tier": "front"}, "b": {"app": "web"}, "c": {"app": "db", "tier": "back"},
                         "d": {}}.items():
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": labels}})
    listed = core.list_namespaced_config_map("default", label_selector=selector)
    assert [c.metadata.name for c in listed.items] == expected


def test_field_selectors(core, custom):
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    core.create_namespaced_config_map("kube-system", {"metadata": {"name": "b"}})
    assert [c.metadata.name for c in core.list_config_map_for_all_namespaces(
        field_selector="metadata.name=a").items] == ["a"]
    assert [c.metadata.name for c in core.list_config_map_for_all_namespaces(
        field_selector="metadata.namespace!=default").items] == ["b"]
    core.create_namespaced_secret("default", {"metadata": {"name": "tls"}, "type": "kubernetes.io/tls"})
    core.create_namespaced_secret("default", {"metadata": {"name": "plain"}})
    assert [s.metadata.name for s in core.list_namespaced_secret(
        "default", field_selector="type==kubernetes.io/tls").items] == ["tls"]
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network("c", type="cilium"))
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network("k"))
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, "default", "networks", field_selector="spec.type=cilium")
    assert [n["metadata"]["name"] for n in listed["items"]] == ["c"]


def test_malformed_selector_is_400(emulator):
    status, body = http(emulator, "GET", "/api/v1/configmaps?labelSelector=a%20in%20b")
    assert status == 400 and body["reason"] == "BadRequest"


def test_limit_and_continue(core):
    for i in range(7):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{i}", "labels": {"even": str(i % 2 == 0)}}})
    names, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map("default", limit=3, _continue=token)
        names += [c.metadata.name for c in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(names)
    assert names == [f"cm-{i}" for i in range(7)] and pages == 3
    first = core.list_namespaced_config_map("default", limit=2, label_selector="even=True")
    rest = core.list_namespaced_config_map("default", limit=2, label_selector="even=True", _continue=first.metadata._continue)
    assert [c.metadata.name for c in first.items + rest.items] == ["cm-0", "cm-2", "cm-4", "cm-6"]
