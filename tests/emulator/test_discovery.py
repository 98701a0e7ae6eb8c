"""Checklist: discovery documents (/version, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>, openapi)."""

import json
import urllib.error

import pytest
from kubernetes import client

from .support import GROUP, VERSION, network, urlopen


def fetch(server, path, content_type="application/json"):
    with urlopen(server, path) as response:
        assert response.headers["Content-Type"] == content_type
        return json.load(response)


@pytest.mark.parametrize("path", ["/version", "/version/"])
def test_version_with_and_without_trailing_slash(server, api, path):
    assert fetch(server, path)["gitVersion"].startswith("v1.34")
    assert client.VersionApi(api).get_code().major == "1"


def test_core_api_versions_and_resources(server, api):
    assert fetch(server, "/api")["versions"] == ["v1"]
    resources = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    assert resources["namespaces"].namespaced is False
    assert resources["namespaces"].short_names == ["ns"]
    assert resources["namespaces/status"].verbs == ["get", "patch", "update"]
    assert resources["configmaps"].kind == "ConfigMap" and resources["configmaps"].namespaced
    assert {"create", "get", "list", "watch", "update", "patch", "delete", "deletecollection"} <= set(
        resources["secrets"].verbs)
    assert "events" in resources


def test_group_list_and_group(server, api):
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    assert {GROUP, "resources.gardener.cloud", "coordination.k8s.io", "events.k8s.io"} <= set(groups)
    assert groups[GROUP].preferred_version.group_version == f"{GROUP}/{VERSION}"
    assert fetch(server, f"/apis/{GROUP}")["versions"] == [{"groupVersion": f"{GROUP}/{VERSION}",
                                                              "version": VERSION}]


def test_crd_group_version_resources(server):
    document = fetch(server, f"/apis/{GROUP}/{VERSION}")
    resources = {r["name"]: r for r in document["resources"]}
    assert resources["networks"]["kind"] == "Network" and resources["networks"]["namespaced"] is True
    assert resources["clusters"]["namespaced"] is False
    assert resources["networks/status"]["verbs"] == ["get", "patch", "update"]
    managed = {r["name"]: r for r in fetch(server, "/apis/resources.gardener.cloud/v1alpha1")["resources"]}
    assert managed["managedresources"]["shortNames"] == ["mr"]
    assert "managedresources/status" in managed


def not_found(server, path) -> tuple[str, bytes]:
    with pytest.raises(urllib.error.HTTPError) as error:
        urlopen(server, path)
    assert error.value.code == 404
    return error.value.headers.get("Content-Type", ""), error.value.read()


def test_unknown_paths_are_404(server, ns):
    for path in ("/apis/nope.example.com", "/apis/nope.example.com/v1", "/nope"):  # outside the API: Go's mux
        assert not_found(server, path) == ("text/plain; charset=utf-8", b"404 page not found\n")
    content_type, body = not_found(server, "/api/v1/nothings")
    assert content_type == "application/json" and json.loads(body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server could not find the requested resource", "reason": "NotFound", "details": {},
        "code": 404}
    server.create(network("x", namespace=ns))
    content_type, body = not_found(server, f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/networks/x/scale")
    assert json.loads(body)["message"] == f'networks.{GROUP} "x" not found'  # even though x exists
    assert not_found(server, "/openapi/v3/apis/x/v1")[1] == b""


def test_openapi_v3_declares_field_validation_for_kubectl(server):
    root = fetch(server, "/openapi/v3", "text/plain; charset=utf-8")  # JSON labelled text/plain
    url = root["paths"][f"apis/{GROUP}/{VERSION}"]["serverRelativeURL"]
    document = fetch(server, url)
    path = document["paths"][f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/networks/{{name}}"]
    assert "fieldValidation" in [p["name"] for p in path["patch"]["parameters"]]
    assert path["patch"]["x-kubernetes-group-version-kind"]["kind"] == "Network"
