"""Benchmark: the real controller process reconciling many Networks in the API emulator; prints figures.

Usage: python bench/reconcile.py [COUNT]   (default 40 calico Networks, one shoot namespace each)

Phase 1 "cold": every Network has its own vethMTU, so every reconcile renders with helm.
Phase 2 "warm": all Networks annotated `reconcile` again; renders come from the cache.
Then three resync periods with nothing to do: the number of writes should be zero.
"""

from __future__ import annotations

import copy
import os
import pathlib
import subprocess
import sys
import time

import yaml
from kubernetes import client

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apiserver_emulator import Emulator  # noqa: E402

NETWORKS = ("extensions.gardener.cloud/v1alpha1", "networks")
RESYNC = 2.0


def example(name: str) -> dict:
    return yaml.safe_load((ROOT / "example" / name).read_text())


def succeeded(emu, count: int, since: str = "") -> int:
    done = 0
    for net in emu.list(*NETWORKS):
        last = (net.get("status") or {}).get("lastOperation") or {}
        if last.get("state") == "Succeeded" and last.get("lastUpdateTime", "") >= since:
            done += 1
    return done


def wait_all(emu, count: int, since: str = "", timeout: float = 600) -> float:
    started = time.perf_counter()
    while succeeded(emu, count, since) < count:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"timed out: {succeeded(emu, count, since)}/{count} succeeded")
        time.sleep(0.05)
    return time.perf_counter() - started


def peak_rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(count: int) -> None:
    with Emulator(crd_paths=[ROOT / "example" / "crds"]) as emu:
        kubeconfig = emu.write_kubeconfig(ROOT / ".local" / "bench-kubeconfig")
        emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "garden"}})
        for i in range(count):
            ns = f"shoot--bench--s{i}"
            emu.create({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": ns, "labels": {"gardener.cloud/role": "shoot"}}})
            cluster = copy.deepcopy(example("cluster.yaml"))
            cluster["metadata"]["name"] = ns
            emu.create(cluster)
            net = copy.deepcopy(example("network-calico.yaml"))
            net["metadata"].update({"namespace": ns, "name": f"s{i}"})
            net["spec"]["providerConfig"]["vethMTU"] = str(1300 + i)
            emu.create(net)
        controller = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gardener-extension-networking"), "run", "--kubeconfig", str(kubeconfig),
             "--leader-election=false", "--health-bind-address", "0", "--metrics-bind-address", "0",
             "--resync-period", str(RESYNC), "--log-level", "error"], cwd=ROOT)
        try:
            cold = wait_all(emu, count)
            print(f"cold: {count} Networks to Succeeded in {cold:6.2f} s = {count / cold:6.1f} reconciles/s "
                  f"({os.cpu_count()} CPUs, helm renders in parallel up to the CPU count)")
            time.sleep(1.1)  # lastUpdateTime has second precision
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            with emu.api_client() as api:
                custom = client.CustomObjectsApi(api)
                for net in emu.list(*NETWORKS):
                    meta = net["metadata"]
                    custom.patch_namespaced_custom_object(
                        "extensions.gardener.cloud", "v1alpha1", meta["namespace"], "networks", meta["name"],
                        {"metadata": {"annotations": {"gardener.cloud/operation": "reconcile"}}})
            mark = len(emu.request_log)
            warm = wait_all(emu, count, since=stamp)
            calls = [e for e in emu.request_log[mark:] if "/leases" not in e[1]]
            print(f"warm: {count} Networks re-reconciled in {warm:6.2f} s = {count / warm:6.1f} reconciles/s "
                  f"(render cache; {len(calls) / count:.1f} API requests per reconcile under the client-side "
                  f"rate limit of qps 100 / burst 130)")
            time.sleep(1.0)
            mark = len(emu.request_log)
            time.sleep(3 * RESYNC)
            writes = [e for e in emu.request_log[mark:] if e[0] != "GET" and "/leases" not in e[1]]
            print(f"steady state: {len(writes)} writes during 3 resync periods of {RESYNC:.0f} s")
            print(f"controller peak RSS: {peak_rss_mib(controller.pid):6.1f} MiB")
        finally:
            controller.terminate()
            controller.wait(30)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
