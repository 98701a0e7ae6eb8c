"""Checklist: cost about constant per request — correctness of a bulk of writes (timing lives in
bench/emulator_writes.py, not in the suite)."""

from kubernetes import watch

from .support import GROUP, VERSION, network


def test_bulk_writes_are_all_stored_versioned_and_watched(custom, emulator):
    start = custom.list_namespaced_custom_object(GROUP, VERSION, "default", "networks")["metadata"]["resourceVersion"]
    versions = []
    for i in range(300):
        versions.append(custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks",
                                                               network(f"n{i:03}"))["metadata"]["resourceVersion"])
        versions.append(custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, "default", "networks", f"n{i:03}", {"status": {"observedGeneration": i}})
            ["metadata"]["resourceVersion"])
    assert [int(v) for v in versions] == list(range(int(start) + 1, int(start) + 601))
    stored = emulator.list(f"{GROUP}/{VERSION}", "networks", "default")
    assert [n["status"]["observedGeneration"] for n in stored] == list(range(300))
    events = []
    for event in watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, "default", "networks",
                                      resource_version=start, timeout_seconds=5):
        events.append(event["type"])
        if len(events) == 600:
            break
    assert events == ["ADDED", "MODIFIED"] * 300
