"""Checklist: Leases with optimistic concurrency, so kubernetes.leaderelection elects exactly one."""

import threading
import time

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.leaderelection import electionconfig, leaderelection
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock


def test_lease_crud_with_optimistic_concurrency(api, ns2):
    coordination = client.CoordinationV1Api(api)
    lease = coordination.create_namespaced_lease(ns2, client.V1Lease(
        metadata=client.V1ObjectMeta(name="lock"), spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15)))
    stale = coordination.read_namespaced_lease("lock", ns2)
    lease.spec.holder_identity = "b"
    coordination.replace_namespaced_lease("lock", ns2, lease)
    stale.spec.holder_identity = "c"
    with pytest.raises(ApiException) as error:
        coordination.replace_namespaced_lease("lock", ns2, stale)
    assert error.value.status == 409
    patched = coordination.patch_namespaced_lease("lock", ns2, {"spec": {"leaseTransitions": 1}})
    assert patched.spec.holder_identity == "b" and patched.spec.lease_transitions == 1


def test_leader_election_elects_exactly_one_and_fails_over(server, api, ns):
    previous = client.Configuration.get_default_copy()
    client.Configuration.set_default(api.configuration)  # LeaseLock builds its own CoordinationV1Api()
    try:
        leaders, stop = [], threading.Event()

        def candidate(identity):
            def lead():
                leaders.append(identity)
                stop.wait()
                raise RuntimeError("stepping down")  # makes the elector stop renewing

            config = electionconfig.Config(LeaseLock("controller", ns, identity), lease_duration=2,
                                           renew_deadline=1.5, retry_period=1, onstarted_leading=lead,
                                           onstopped_leading=lambda: None)
            return threading.Thread(target=leaderelection.LeaderElection(config).run, daemon=True)

        threads = [candidate("one"), candidate("two")]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        assert len(leaders) == 1
        lease = client.CoordinationV1Api(api).read_namespaced_lease("controller", ns)
        assert lease.spec.holder_identity == leaders[0]
        stop.set()  # the leader steps down; the other candidate takes over once the lease expires
        deadline = time.monotonic() + 8
        while len(leaders) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(leaders) == ["one", "two"]
        for thread in threads:
            thread.join(timeout=5)
        assert not any(t.is_alive() for t in threads)
    finally:
        client.Configuration.set_default(previous)
