"""Checklist: watch (no lost events, resume from resourceVersion, 410 Expired, timeoutSeconds,
bookmarks, selectors)."""

import json
import threading
import time
import urllib.request

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from apiserver_emulator import Emulator

from .conftest import CRDS
from .support import GROUP, VERSION, network


def collect(func, *args, count, **kwargs):
    events = []
    for event in watch.Watch().stream(func, *args, timeout_seconds=5, **kwargs):
        events.append((event["type"], event["raw_object"]))
        if len(events) == count:
            break
    return events


def test_watch_sends_snapshot_then_every_concurrent_event(core):
    for i in range(20):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"before-{i}"}})

    def writer():
        for i in range(50):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"after-{i}"}})

    thread = threading.Thread(target=writer)
    thread.start()
    events = collect(core.list_namespaced_config_map, "default", count=70)
    thread.join()
    names = [obj["metadata"]["name"] for _, obj in events]
    assert sorted(names) == sorted([f"before-{i}" for i in range(20)] + [f"after-{i}" for i in range(50)])
    assert {t for t, _ in events} == {"ADDED"}
    versions = [int(obj["metadata"]["resourceVersion"]) for _, obj in events if obj["metadata"]["name"].startswith("after")]
    assert versions == sorted(versions)


def test_watch_resumes_from_resource_version(custom):
    first = custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network("a"))
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", network("b"))
    custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "networks", "a", {"spec": {"type": "cilium"}})
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "networks", "b")
    events = collect(custom.list_namespaced_custom_object, GROUP, VERSION, "default", "networks", count=3,
                     resource_version=first["metadata"]["resourceVersion"])
    assert [(t, o["metadata"]["name"]) for t, o in events] == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]


def test_too_old_resource_version_is_410_expired_error_event():
    with Emulator(crd_paths=[CRDS], event_log_size=5) as emu, emu.api_client() as api:
        core = client.CoreV1Api(api)
        first = core.create_namespaced_config_map("default", {"metadata": {"name": "cm-0"}})
        for i in range(1, 10):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{i}"}})
        with pytest.raises(ApiException) as error:
            collect(core.list_namespaced_config_map, "default", count=1,
                    resource_version=first.metadata.resource_version)
        assert error.value.status == 410 and "Expired" in error.value.reason
        raw = urllib.request.urlopen(f"{emu.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="
                                     f"{first.metadata.resource_version}").read()
        event = json.loads(raw)
        assert event["type"] == "ERROR"
        assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"


def test_timeout_seconds_is_honoured(core):
    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=1))
    assert events == []
    assert 0.9 <= time.monotonic() - started < 3


def test_bookmarks_when_allowed(core):
    cm = core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    events = list(watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=1,
                                       allow_watch_bookmarks=True, resource_version=cm.metadata.resource_version))
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks and all(b["raw_object"]["metadata"]["resourceVersion"] == cm.metadata.resource_version
                             for b in bookmarks)
    plain = list(watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=1,
                                      resource_version=cm.metadata.resource_version))
    assert plain == []


def test_send_initial_events_ends_with_annotated_bookmark(emulator, core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    raw = urllib.request.urlopen(f"{emulator.url}/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true"
                                 "&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1").read()
    events = [json.loads(line) for line in raw.splitlines()]
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_selectors_apply_to_watches(core):
    def writer():
        time.sleep(0.2)
        core.create_namespaced_config_map("default", {"metadata": {"name": "other"}})
        core.create_namespaced_config_map("default", {"metadata": {"name": "a", "labels": {"app": "x"}}})
        core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
        core.patch_namespaced_config_map("a", "default", {"metadata": {"labels": {"app": "y"}}})
        core.patch_namespaced_config_map("other", "default", {"metadata": {"labels": {"app": "x"}}})
        core.create_namespaced_config_map("kube-system", {"metadata": {"name": "elsewhere", "labels": {"app": "x"}}})
        core.delete_namespaced_config_map("other", "default")

    thread = threading.Thread(target=writer)
    thread.start()
    events = collect(core.list_namespaced_config_map, "default", count=5, label_selector="app=x")
    thread.join()
    assert [(t, o["metadata"]["name"]) for t, o in events] == [
        ("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a"), ("ADDED", "other"), ("DELETED", "other")]
    fields = collect(core.list_config_map_for_all_namespaces, count=1, field_selector="metadata.namespace=kube-system")
    assert fields[0][1]["metadata"]["name"] == "elsewhere"
