"""Checklist: cost about constant per request — correctness of a bulk of writes (timing lives in
bench/emulator_writes.py, not in the suite)."""

from kubernetes import watch

from .support import GROUP, VERSION, network


def test_bulk_writes_are_all_stored_versioned_and_watched(custom, server, ns):
    start = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "networks")["metadata"]["resourceVersion"]
    versions = []
    for i in range(300):
        versions.append(custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks",
                                                               network(f"n{i:03}"))["metadata"]["resourceVersion"])
        versions.append(custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, ns, "networks", f"n{i:03}", {"status": {"observedGeneration": i}})
            ["metadata"]["resourceVersion"])
    numbers = [int(v) for v in versions]  # one new resourceVersion per write, in order
    assert numbers == sorted(set(numbers)) and numbers[0] > int(start) and len(numbers) == 600
    stored = server.list(f"{GROUP}/{VERSION}", "networks", ns)
    assert [n["status"]["observedGeneration"] for n in stored] == list(range(300))
    events = []
    for event in watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, ns, "networks",
                                      resource_version=start, timeout_seconds=5):
        events.append(event["type"])
        if len(events) == 600:
            break
    assert events == ["ADDED", "MODIFIED"] * 300
