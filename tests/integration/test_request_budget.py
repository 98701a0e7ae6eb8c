"""Issue 12's request budget, on the emulator and the real API server: a warm reconcile (values
unchanged) makes at most 4 API requests and reads nothing it already has (the informer caches and the
fingerprints of what it applied); a start reads no Namespace or Cluster one by one (the predicate uses
the caches)."""

from __future__ import annotations

from apiserver_emulator import Emulator
from tests.integration.conftest import MR_NAME, MRS, NS, cluster, network, state_is, wait_for
from tests.integration.test_controller import annotate, custom, managed_resource


def _requests(emu, since: int) -> list[tuple[str, str, int]]:
    """The controller's requests; on the real server the audit log also holds this test's own reads of
    the Network (`state_is`), which are left out there (the emulator does not log them)."""
    own = () if isinstance(emu, Emulator) else (f"/namespaces/{NS}/networks/bar",
                                                 f"/namespaces/{NS}/networks/bar/status")
    return [entry for entry in emu.request_log[since:]
            if "/leases" not in entry[1] and "watch=" not in entry[1]
            and not (entry[0] == "GET" and entry[1].split("?")[0].endswith(own or ("\0",)))]


def test_warm_reconcile_makes_at_most_four_requests(emu, start):
    emu.create(cluster())
    emu.create(network())
    start()
    wait_for(state_is(emu, "Create"))
    mark = len(emu.request_log)
    annotate(emu, "reconcile")
    wait_for(state_is(emu, "Reconcile"))
    calls = _requests(emu, mark + 1)  # after the test's own annotate
    gets = [c[1] for c in calls if c[0] == "GET"]
    assert len(calls) <= 4, calls
    # the Network, Cluster, Secret and monitoring objects are known; the MR is checked (see below)
    assert gets == [f"/apis/resources.gardener.cloud/v1alpha1/namespaces/{NS}/managedresources/{MR_NAME}"], gets


def test_a_removed_managed_resource_is_put_back_by_the_next_reconcile(emu, start):
    emu.create(cluster())
    emu.create(network())
    start()
    wait_for(state_is(emu, "Create"))
    custom(emu).delete_namespaced_custom_object(*MRS[0].split("/"), NS, MRS[1], MR_NAME)
    wait_for(lambda: managed_resource(emu) is None, message="the MR is gone")
    annotate(emu, "reconcile")
    wait_for(state_is(emu, "Reconcile"))
    assert managed_resource(emu) is not None


def test_start_reads_no_namespace_or_cluster_one_by_one(emu, start):
    emu.create(cluster())
    emu.create(network())
    mark = len(emu.request_log)
    start()
    wait_for(state_is(emu, "Create"))
    single = [c for c in _requests(emu, mark) if c[0] == "GET"
              and c[1].split("?")[0].rstrip("/").endswith((f"/namespaces/{NS}", f"/clusters/{NS}"))]
    assert single == []
