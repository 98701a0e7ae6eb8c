"""Checklist: get/list (NotFound Status, list shape, label and field selectors, limit/continue)."""

import urllib.error

import pytest
from kubernetes.client.rest import ApiException

from .support import GROUP, VERSION, error_body, http, network, urlopen


def test_get_missing_is_404_with_standard_status(custom, core, ns):
    with pytest.raises(ApiException) as error:
        custom.get_namespaced_custom_object(GROUP, VERSION, ns, "networks", "nope")
    assert error.value.status == 404
    assert error_body(error.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'networks.{GROUP} "nope" not found', "reason": "NotFound",
        "details": {"name": "nope", "group": GROUP, "kind": "networks"}, "code": 404}
    with pytest.raises(ApiException) as error:
        core.read_namespaced_config_map("nope", ns)
    assert error_body(error.value)["message"] == 'configmaps "nope" not found'


def test_list_shape(server, custom, core, ns):
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network())
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "networks")
    assert listed["apiVersion"] == f"{GROUP}/{VERSION}" and listed["kind"] == "NetworkList"
    # the list's resourceVersion is the store's (global) one: the real server's own writes (leases) move it too
    assert int(listed["metadata"]["resourceVersion"]) >= int(listed["items"][0]["metadata"]["resourceVersion"])
    assert [i["metadata"]["name"] for i in listed["items"]] == ["net"]
    phases = {n.metadata.name: n.status.phase for n in core.list_namespace().items}
    assert {name: phases.get(name) for name in ("default", "kube-system", ns)} == dict.fromkeys(
        ("default", "kube-system", ns), "Active")


def test_list_all_namespaces(core, ns, ns2):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    core.create_namespaced_config_map(ns2, {"metadata": {"name": "b"}})
    everywhere = [(c.metadata.namespace, c.metadata.name) for c in core.list_config_map_for_all_namespaces().items]
    assert [item for item in everywhere if item[0] in (ns, ns2)] == [(ns, "a"), (ns2, "b")]  # in namespace order
    assert [c.metadata.name for c in core.list_namespaced_config_map(ns2).items] == ["b"]


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
def test_label_selectors(core, selector, expected, ns):
    for name, labels in {"a": {"app": "web", "tier": "front"}, "b": {"app": "web"}, "c": {"app": "db", "tier": "back"},
                         "d": {}}.items():
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})
    listed = core.list_namespaced_config_map(ns, label_selector=selector)
    assert [c.metadata.name for c in listed.items] == expected


def test_field_selectors(server, core, custom, ns, ns2):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    core.create_namespaced_config_map(ns2, {"metadata": {"name": "b"}})

    def everywhere(selector):  # other tests' namespaces are left out (the real server keeps them)
        return [(c.metadata.namespace, c.metadata.name) for c in core.list_config_map_for_all_namespaces(
            field_selector=selector).items if c.metadata.namespace in (ns, ns2)]

    assert everywhere("metadata.name=a") == [(ns, "a")]
    assert everywhere(f"metadata.namespace!={ns}") == [(ns2, "b")]
    assert everywhere(f"metadata.namespace={ns2},metadata.name!=a") == [(ns2, "b")]
    core.create_namespaced_secret(ns, {"metadata": {"name": "tls"}, "type": "kubernetes.io/tls",
                                       "stringData": {"tls.crt": "c", "tls.key": "k"}})
    core.create_namespaced_secret(ns, {"metadata": {"name": "plain"}})
    assert [s.metadata.name for s in core.list_namespaced_secret(
        ns, field_selector="type==kubernetes.io/tls").items] == ["tls"]
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network("c", type="cilium"))
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network("k"))
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "networks", field_selector="metadata.name=c")
    assert [n["metadata"]["name"] for n in listed["items"]] == ["c"]
    for path, message in (  # only the resource's field labels (the CRD declares no selectableFields)
            (f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks?fieldSelector=spec.type%3Dcilium",
             "field label not supported: spec.type"),
            (f"/api/v1/namespaces/{ns}/secrets?fieldSelector=data.k%3Dv", "field label not supported: data.k"),
            (f"/api/v1/namespaces/{ns}/configmaps?watch=true&fieldSelector=data.k%3Dv",
             '"data.k" is not a known field selector: only "metadata.name", "metadata.namespace"')):
        status, body = http(server, "GET", path)
        assert (status, body["reason"], body["message"]) == (400, "BadRequest", message)


def test_malformed_selector_and_continue_token_are_400(server, ns):
    status, body = http(server, "GET", "/api/v1/configmaps?labelSelector=a%20in%20b")
    assert status == 400 and body["reason"] == "BadRequest"  # the parser's words differ (README)
    status, body = http(server, "GET", f"/api/v1/namespaces/{ns}/configmaps?limit=1&continue=garbage")
    assert status == 400 and body["message"].startswith("invalid continue token: continue key is not valid: ")


def test_limit_and_continue(core, ns):
    for i in range(7):
        core.create_namespaced_config_map(ns, {"metadata": {"name": f"cm-{i}", "labels": {"even": str(i % 2 == 0)}}})
    names, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map(ns, limit=3, _continue=token)
        names += [c.metadata.name for c in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(names)
    assert names == [f"cm-{i}" for i in range(7)] and pages == 3
    first = core.list_namespaced_config_map(ns, limit=2, label_selector="even=True")
    rest = core.list_namespaced_config_map(ns, limit=2, label_selector="even=True", _continue=first.metadata._continue)
    assert [c.metadata.name for c in first.items + rest.items] == ["cm-0", "cm-2", "cm-4", "cm-6"]


def test_list_details_and_bad_parameters(server, ns):
    status, body = http(server, "GET", f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks")
    assert status == 200 and body["metadata"]["continue"] == ""  # unstructured lists carry the empty token
    status, body = http(server, "GET", f"/api/v1/namespaces/{ns}/configmaps?limit=x")
    assert (status, body["message"]) == (400, 'strconv.ParseInt: parsing "x": invalid syntax')
    with pytest.raises(urllib.error.HTTPError) as error:  # a cluster-scoped resource under a namespace
        urlopen(server, f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/clusters/x")
    assert error.value.code == 404 and error.value.read() == b"404 page not found\n"


def test_list_options_are_validated_and_builtin_items_carry_no_type(server, ns):
    for name in ("a", "b"):
        server.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}})
    status, body = http(server, "GET", f"/api/v1/namespaces/{ns}/configmaps?resourceVersion=0&limit=1")
    assert status == 200 and [i["metadata"]["name"] for i in body["items"]] == ["a", "b"]  # from the cache: no pages
    assert "continue" not in body["metadata"]
    assert not {"apiVersion", "kind"} & set(body["items"][0])  # Go's typed lists
    status, body = http(server, "GET", f"/api/v1/namespaces/{ns}/configmaps?resourceVersionMatch=Exact")
    assert status == 422 and body["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden '
        "unless resourceVersion is provided")
    assert body["details"] == {"group": "meta.k8s.io", "kind": "ListOptions", "causes": [{
        "reason": "FieldValueForbidden", "field": "resourceVersionMatch",
        "message": "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"}]}
    status, body = http(server, "GET", f"/api/v1/namespaces/{ns}/configmaps?watch=1&sendInitialEvents=true")
    assert status == 422 and body["details"]["causes"][0]["message"] == (
        "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
    status, body = http(server, "GET", f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion=abc")
    assert (status, body) == (500, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 500,
        "message": 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'})
    status, body = http(server, "POST", f"/api/v1/namespaces/{ns}/configmaps?dryRun=Bogus", {"metadata": {"name": "c"}})
    assert status == 422 and body["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Bogus"]: supported values: "All"')
