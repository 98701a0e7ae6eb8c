"""Checklist: watch (no lost events, resume from resourceVersion, 410 Expired, timeoutSeconds,
bookmarks, selectors)."""

import json
import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from .conftest import emulator_only
from .support import GROUP, VERSION, network, urlopen


def collect(func, *args, count, **kwargs):
    events = []
    for event in watch.Watch().stream(func, *args, timeout_seconds=5, **kwargs):
        events.append((event["type"], event["raw_object"]))
        if len(events) == count:
            break
    return events


def test_watch_sends_snapshot_then_every_concurrent_event(core, ns):
    for i in range(20):
        core.create_namespaced_config_map(ns, {"metadata": {"name": f"before-{i}"}})

    def writer():
        for i in range(50):
            core.create_namespaced_config_map(ns, {"metadata": {"name": f"after-{i}"}})

    thread = threading.Thread(target=writer)
    thread.start()
    events = collect(core.list_namespaced_config_map, ns, count=70)
    thread.join()
    names = [obj["metadata"]["name"] for _, obj in events]
    assert sorted(names) == sorted([f"before-{i}" for i in range(20)] + [f"after-{i}" for i in range(50)])
    assert {t for t, _ in events} == {"ADDED"}
    versions = [int(obj["metadata"]["resourceVersion"]) for _, obj in events if obj["metadata"]["name"].startswith("after")]
    assert versions == sorted(versions)


def test_watch_resumes_from_resource_version(custom, ns):
    first = custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network("a"))
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", network("b"))
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", "a", {"spec": {"type": "cilium"}})
    custom.delete_namespaced_custom_object(GROUP, VERSION, ns, "networks", "b")
    events = collect(custom.list_namespaced_custom_object, GROUP, VERSION, ns, "networks", count=3,
                     resource_version=first["metadata"]["resourceVersion"])
    assert [(t, o["metadata"]["name"]) for t, o in events] == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]


@emulator_only
@pytest.mark.emulator_options(event_log_size=5)
def test_too_old_resource_version_is_410_expired_error_event(server, core, ns):
    """Emulator only: a real watch cache expires events only after ~75 s and a full buffer (see README).

    resourceVersion 1 is older than the emulator's event log (5 events here)."""
    for i in range(10):
        core.create_namespaced_config_map(ns, {"metadata": {"name": f"cm-{i}"}})
    with pytest.raises(ApiException) as error:
        collect(core.list_namespaced_config_map, ns, count=1, resource_version="1")
    assert error.value.status == 410 and "Expired" in error.value.reason
    with urlopen(server, f"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion=1") as response:
        assert response.status == 200  # the error comes as an event of the stream
        events = [json.loads(line) for line in response.read().splitlines()]
    assert [e["type"] for e in events] == ["ERROR"]
    assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"
    assert events[0]["object"]["message"].startswith("too old resource version: 1 (")


def test_timeout_seconds_is_honoured(core, ns):
    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, ns, timeout_seconds=1))
    assert events == []
    assert 0.9 <= time.monotonic() - started < 3


def watch_timed(core, ns, **kwargs) -> list[tuple[str, dict, float]]:
    started = time.monotonic()
    return [(e["type"], e["raw_object"], time.monotonic() - started)
            for e in watch.Watch().stream(core.list_namespaced_config_map, ns, **kwargs)]


def test_bookmarks_two_seconds_before_the_timeout_once_the_resource_moved_on(core, ns, ns2):
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    since = cm.metadata.resource_version
    quiet = watch_timed(core, ns, timeout_seconds=4, allow_watch_bookmarks=True, resource_version=since)
    assert quiet == []  # nothing happened to configmaps after `since`: nothing to bookmark

    def elsewhere():
        time.sleep(0.5)
        return core.create_namespaced_config_map(ns2, {"metadata": {"name": "b"}})

    thread = ThreadWithResult(elsewhere)
    events = watch_timed(core, ns, timeout_seconds=4, allow_watch_bookmarks=True, resource_version=since)
    other = thread.result()
    # once a minute, and 2 s before the timeout: the real cacher keeps its bookmark timers in 1 s buckets
    # and may fire up to a second early, then once more
    assert [t for t, _, _ in events] in (["BOOKMARK"], ["BOOKMARK", "BOOKMARK"])
    for _, bookmark, after in events:
        assert 0.9 < after < 3.5
        assert bookmark == {"kind": "ConfigMap", "apiVersion": "v1",
                            "metadata": {"resourceVersion": other.metadata.resource_version}}
    assert watch_timed(core, ns, timeout_seconds=1, allow_watch_bookmarks=True, resource_version=since) == []
    assert watch_timed(core, ns, timeout_seconds=3, resource_version=since) == []  # not asked for


class ThreadWithResult(threading.Thread):
    def __init__(self, function):
        super().__init__(daemon=True)
        self.function, self.value = function, None
        self.start()

    def run(self):
        self.value = self.function()

    def result(self):
        self.join(10)
        return self.value


def test_send_initial_events_ends_with_annotated_bookmark(server, core, ns):
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    with urlopen(server, f"/api/v1/namespaces/{ns}/configmaps?watch=1&sendInitialEvents=true"
                 "&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1") as response:
        raw = response.read()
    events = [json.loads(line) for line in raw.splitlines()]
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_selectors_apply_to_watches(core, ns, ns2):
    def writer():
        time.sleep(0.2)
        core.create_namespaced_config_map(ns, {"metadata": {"name": "other"}})
        core.create_namespaced_config_map(ns, {"metadata": {"name": "a", "labels": {"app": "x"}}})
        core.patch_namespaced_config_map("a", ns, {"data": {"k": "v"}})
        core.patch_namespaced_config_map("a", ns, {"metadata": {"labels": {"app": "y"}}})
        core.patch_namespaced_config_map("other", ns, {"metadata": {"labels": {"app": "x"}}})
        core.create_namespaced_config_map(ns2, {"metadata": {"name": "elsewhere", "labels": {"app": "x"}}})
        core.delete_namespaced_config_map("other", ns)

    thread = threading.Thread(target=writer)
    thread.start()
    events = collect(core.list_namespaced_config_map, ns, count=5, label_selector="app=x")
    thread.join()
    assert [(t, o["metadata"]["name"]) for t, o in events] == [
        ("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a"), ("ADDED", "other"), ("DELETED", "other")]
    fields = collect(core.list_config_map_for_all_namespaces, count=1, field_selector=f"metadata.namespace={ns2}")
    assert fields[0][1]["metadata"]["name"] == "elsewhere"
