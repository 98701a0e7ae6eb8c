"""Checklist: discovery documents (/version, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>, openapi)."""

import json
import urllib.error
import urllib.request

import pytest
from kubernetes import client

from .support import GROUP, VERSION


def fetch(emulator, path):
    with urllib.request.urlopen(emulator.url + path) as response:
        assert response.headers["Content-Type"].startswith("application/json")
        return json.load(response)


@pytest.mark.parametrize("path", ["/version", "/version/"])
def test_version_with_and_without_trailing_slash(emulator, api, path):
    assert fetch(emulator, path)["gitVersion"].startswith("v1.34")
    assert client.VersionApi(api).get_code().major == "1"


def test_core_api_versions_and_resources(emulator, api):
    assert fetch(emulator, "/api")["versions"] == ["v1"]
    resources = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    assert resources["namespaces"].namespaced is False
    assert resources["namespaces"].short_names == ["ns"]
    assert resources["namespaces/status"].verbs == ["get", "patch", "update"]
    assert resources["configmaps"].kind == "ConfigMap" and resources["configmaps"].namespaced
    assert {"create", "get", "list", "watch", "update", "patch", "delete", "deletecollection"} <= set(
        resources["secrets"].verbs)
    assert "events" in resources


def test_group_list_and_group(emulator, api):
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    assert {GROUP, "resources.gardener.cloud", "coordination.k8s.io", "events.k8s.io"} <= set(groups)
    assert groups[GROUP].preferred_version.group_version == f"{GROUP}/{VERSION}"
    assert fetch(emulator, f"/apis/{GROUP}")["versions"] == [{"groupVersion": f"{GROUP}/{VERSION}",
                                                              "version": VERSION}]


def test_crd_group_version_resources(emulator):
    document = fetch(emulator, f"/apis/{GROUP}/{VERSION}")
    resources = {r["name"]: r for r in document["resources"]}
    assert resources["networks"]["kind"] == "Network" and resources["networks"]["namespaced"] is True
    assert resources["clusters"]["namespaced"] is False
    assert resources["networks/status"]["verbs"] == ["get", "patch", "update"]
    managed = {r["name"]: r for r in fetch(emulator, "/apis/resources.gardener.cloud/v1alpha1")["resources"]}
    assert managed["managedresources"]["shortNames"] == ["mr"]
    assert "managedresources/status" in managed


def test_unknown_paths_are_404_status(emulator):
    for path in ("/apis/nope.example.com", "/apis/nope.example.com/v1", "/api/v1/nothings",
                 f"/apis/{GROUP}/{VERSION}/namespaces/default/networks/x/scale", "/openapi/v3/apis/x/v1"):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(emulator.url + path)
        assert error.value.code == 404
        assert json.load(error.value)["reason"] == "NotFound"


def test_openapi_v3_declares_field_validation_for_kubectl(emulator):
    root = fetch(emulator, "/openapi/v3")
    url = root["paths"][f"apis/{GROUP}/{VERSION}"]["serverRelativeURL"]
    document = fetch(emulator, url)
    path = document["paths"][f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/networks/{{name}}"]
    assert "fieldValidation" in [p["name"] for p in path["patch"]["parameters"]]
    assert path["patch"]["x-kubernetes-group-version-kind"]["kind"] == "Network"
