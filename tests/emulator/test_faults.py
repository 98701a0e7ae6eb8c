"""Checklist: one-shot fault injection (409, 500, 429 + Retry-After, timeout) without state changes.

Emulator only: fault injection is the emulator's own test hook; a real kube-apiserver has none."""

import urllib.error

import pytest
import urllib3
from kubernetes.client.rest import ApiException

from .conftest import emulator_only
from .support import GROUP, VERSION, error_body, http, network, urlopen

pytestmark = emulator_only


def test_injected_conflict_fails_once_and_changes_nothing(server, custom, ns):
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network())
    before = server.get(f"{GROUP}/{VERSION}", "networks", "net", ns)
    server.inject_fault(method="PATCH", resource="networks", status=409)
    with pytest.raises(ApiException) as error:
        custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", {"spec": {"type": "x"}})
    assert error.value.status == 409 and error_body(error.value)["reason"] == "Conflict"
    assert server.get(f"{GROUP}/{VERSION}", "networks", "net", ns) == before
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "net", {"spec": {"type": "x"}})
    assert patched["spec"]["type"] == "x"


def test_fault_matching_by_name_subresource_and_times(server, custom, ns):
    for name in ("a", "b"):
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network(name))
    server.inject_fault(method="PATCH", resource="networks", name="b", subresource="status", status=500, times=2)
    status_patch = {"status": {"observedGeneration": 1}}
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "b", {"spec": {"type": "y"}})
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, ns, "networks", "a", status_patch)
    for _ in range(2):
        with pytest.raises(ApiException) as error:
            custom.patch_namespaced_custom_object_status(GROUP, VERSION, ns, "networks", "b", status_patch)
        assert error.value.status == 500 and error_body(error.value)["reason"] == "InternalError"
    assert "status" not in server.get(f"{GROUP}/{VERSION}", "networks", "b", ns)
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, ns, "networks", "b", status_patch)


def test_too_many_requests_with_retry_after(server, ns):
    server.inject_fault(method="POST", resource="configmaps", status=429, retry_after=3)
    status, body = http(server, "POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    assert status == 429 and body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 3
    assert server.get("v1", "configmaps", "a", ns) is None
    assert server.request_log[-1] == ("POST", f"/api/v1/namespaces/{ns}/configmaps", 429)


def test_retry_after_header(server, ns):
    server.inject_fault(method="GET", resource="configmaps", status=429, retry_after=7)
    with pytest.raises(urllib.error.HTTPError) as error:
        urlopen(server, f"/api/v1/namespaces/{ns}/configmaps")
    assert error.value.headers["Retry-After"] == "7"


def test_hang_then_drop_times_out_the_client(server, core, ns):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}, "data": {"k": "1"}})
    server.inject_fault(method="PATCH", resource="configmaps", hang=0.5)
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.patch_namespaced_config_map("a", ns, {"data": {"k": "2"}}, _request_timeout=0.2)
    server.inject_fault(method="PATCH", resource="configmaps", hang=0.2)
    with pytest.raises(urllib3.exceptions.HTTPError):  # connection dropped without an answer
        core.patch_namespaced_config_map("a", ns, {"data": {"k": "2"}}, _request_timeout=5)
    assert server.get("v1", "configmaps", "a", ns)["data"] == {"k": "1"}


def test_watch_verb_fault(server, core, ns):
    server.inject_fault(method="WATCH", resource="configmaps", status=500)
    assert core.list_namespaced_config_map(ns).items == []
    status, _ = http(server, "GET", f"/api/v1/namespaces/{ns}/configmaps?watch=true")
    assert status == 500
