"""Checklist: one-shot fault injection (409, 500, 429 + Retry-After, timeout) without state changes."""

import pytest
import urllib3
from kubernetes.client.rest import ApiException

from .support import GROUP, VERSION, error_body, http, network


def test_injected_conflict_fails_once_and_changes_nothing(emulator, custom):
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network())
    before = emulator.get(f"{GROUP}/{VERSION}", "networks", "net", "default")
    emulator.inject_fault(method="PATCH", resource="networks", status=409)
    with pytest.raises(ApiException) as error:
        custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "networks", "net", {"spec": {"type": "x"}})
    assert error.value.status == 409 and error_body(error.value)["reason"] == "Conflict"
    assert emulator.get(f"{GROUP}/{VERSION}", "networks", "net", "default") == before
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "networks", "net", {"spec": {"type": "x"}})
    assert patched["spec"]["type"] == "x"


def test_fault_matching_by_name_subresource_and_times(emulator, custom):
    for name in ("a", "b"):
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network(name))
    emulator.inject_fault(method="PATCH", resource="networks", name="b", subresource="status", status=500, times=2)
    status_patch = {"status": {"observedGeneration": 1}}
    custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "networks", "b", {"spec": {"type": "y"}})
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, "default", "networks", "a", status_patch)
    for _ in range(2):
        with pytest.raises(ApiException) as error:
            custom.patch_namespaced_custom_object_status(GROUP, VERSION, "default", "networks", "b", status_patch)
        assert error.value.status == 500 and error_body(error.value)["reason"] == "InternalError"
    assert "status" not in emulator.get(f"{GROUP}/{VERSION}", "networks", "b", "default")
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, "default", "networks", "b", status_patch)


def test_too_many_requests_with_retry_after(emulator):
    emulator.inject_fault(method="POST", resource="configmaps", status=429, retry_after=3)
    status, body = http(emulator, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "a"}})
    assert status == 429 and body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 3
    assert emulator.get("v1", "configmaps", "a", "default") is None
    assert emulator.request_log[-1] == ("POST", "/api/v1/namespaces/default/configmaps", 429)


def test_retry_after_header(emulator):
    import urllib.error
    import urllib.request

    emulator.inject_fault(method="GET", resource="configmaps", status=429, retry_after=7)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(emulator.url + "/api/v1/namespaces/default/configmaps")
    assert error.value.headers["Retry-After"] == "7"


def test_hang_then_drop_times_out_the_client(emulator, core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}, "data": {"k": "1"}})
    emulator.inject_fault(method="PATCH", resource="configmaps", hang=0.5)
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.patch_namespaced_config_map("a", "default", {"data": {"k": "2"}}, _request_timeout=0.2)
    emulator.inject_fault(method="PATCH", resource="configmaps", hang=0.2)
    with pytest.raises(urllib3.exceptions.HTTPError):  # connection dropped without an answer
        core.patch_namespaced_config_map("a", "default", {"data": {"k": "2"}}, _request_timeout=5)
    assert emulator.get("v1", "configmaps", "a", "default")["data"] == {"k": "1"}


def test_watch_verb_fault(emulator, core):
    emulator.inject_fault(method="WATCH", resource="configmaps", status=500)
    assert core.list_namespaced_config_map("default").items == []
    status, _ = http(emulator, "GET", "/api/v1/namespaces/default/configmaps?watch=true")
    assert status == 500
