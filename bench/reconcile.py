"""Benchmark: the real controller process against the API emulator and the real kube-apiserver, side by
side with bare `helm template` of the same chart in the same run; prints each figure next to its goal
(issue 12).

Usage: python bench/reconcile.py [emulator|real ...]   (both by default)
       BENCH_N=200 python bench/reconcile.py             (fewer Networks for a quick run; default 1000)

Per backend: N calico Networks, one shoot namespace + Cluster each, every one with its own vethMTU (so
every cold reconcile renders). Phases: cold start (first Succeeded, all Succeeded, controller CPU),
warm (annotate all: requests per reconcile, duration), annotate one (unchanged / changed values, p50),
no-op resyncs (writes, helm calls), RSS. The real server's CPU is part of the cost there.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time
import urllib.request

import yaml
from kubernetes import client

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apiserver_emulator import Emulator  # noqa: E402
from tests.cluster.real import RealCluster, free_port  # noqa: E402

GROUP, VERSION = "extensions.gardener.cloud", "v1alpha1"
NETWORKS = (f"{GROUP}/{VERSION}", "networks")
MERGE = "application/merge-patch+json"
RESYNC = 10.0
CORES = os.cpu_count() or 1
TICKS = os.sysconf("SC_CLK_TCK")


def example(name: str) -> dict:
    return yaml.safe_load((ROOT / "example" / name).read_text())


def cpu_seconds(pid: int) -> float:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime of the process itself (not helm)


def rss_mib(pid: int, key: str = "VmHWM") -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def apiserver_pid(cluster: RealCluster) -> int | None:
    for proc in pathlib.Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"kube-apiserver" in cmd and str(cluster.workdir).encode() in cmd:
                return int(proc.name)
    return None


def done(net: dict, since: str = "") -> bool:
    last = (net.get("status") or {}).get("lastOperation") or {}
    annotations = net["metadata"].get("annotations") or {}
    return (last.get("state") == "Succeeded" and last.get("lastUpdateTime", "") >= since
            and "gardener.cloud/operation" not in annotations)


def metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(m.group(1)) for m in re.finditer(rf"^{re.escape(name)} (\S+)$", text, re.M))


def controller_requests(log: list, since: int) -> list:
    """Requests of the controller after `since`: no Leases, no lists or watches (collection GETs)."""
    out = []
    for method, path, _ in log[since:]:
        path = path.split("?")[0]
        if "/leases" in path or (method == "GET" and path.rstrip("/").endswith(("/networks", "/clusters",
                                                                                 "/namespaces"))):
            continue
        out.append((method, path))
    return out


def run_backend(backend: str, count: int, bare: dict, qps: int = 0) -> dict:
    """All phases against one API server; `qps` (with burst 1.3 x) instead of the default 100/130."""
    figures: dict = {}
    extra = []
    if qps:
        config = yaml.safe_load((ROOT / "example" / "controller-configuration.yaml").read_text())
        config.setdefault("clientConnection", {}).update(qps=qps, burst=int(qps * 1.3))
        path = ROOT / ".local" / "bench-controller-configuration.yaml"
        path.write_text(yaml.safe_dump(config))
        extra = ["--config-file", str(path)]
    server = Emulator(crd_paths=[ROOT / "example" / "crds"]) if backend == "emulator" else \
        RealCluster("bench", crd_paths=[ROOT / "example" / "crds"])
    with server:
        kubeconfig = server.write_kubeconfig(ROOT / ".local" / f"bench-{backend}-kubeconfig")
        api = server.api_client()
        custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
        if backend == "emulator":
            server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "garden"}})
        else:
            server.ensure_namespace("garden")
        started = time.perf_counter()
        for i in range(count):
            ns = f"shoot--bench--s{i}"
            core.create_namespace({"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": ns, "labels": {"gardener.cloud/role": "shoot"}}})
            cluster = copy.deepcopy(example("cluster.yaml"))
            cluster["metadata"]["name"] = ns
            custom.create_cluster_custom_object(GROUP, VERSION, "clusters", cluster)
            net = copy.deepcopy(example("network-calico.yaml"))
            net["metadata"].update({"namespace": ns, "name": f"s{i}"})
            net["spec"]["providerConfig"]["vethMTU"] = str(1300 + i)
            custom.create_namespaced_custom_object(GROUP, VERSION, ns, "networks", net)
        print(f"[{backend}] created {count} Namespaces, Clusters, Networks in {time.perf_counter() - started:.1f} s")
        apiserver = apiserver_pid(server) if backend == "real" else None
        api_cpu0 = cpu_seconds(apiserver) if apiserver else 0.0

        def networks() -> list[dict]:
            return custom.list_cluster_custom_object(GROUP, VERSION, "networks")["items"]

        metrics_port = free_port()
        cold_mark = len(server.request_log)
        t0 = time.perf_counter()
        controller = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gardener-extension-networking"), "run", "--kubeconfig", str(kubeconfig),
             "--leader-election=false", "--health-bind-address", "0", "--metrics-bind-address",
             f"127.0.0.1:{metrics_port}", "--resync-period", str(RESYNC), "--log-level", "error", *extra], cwd=ROOT)
        try:
            first = None
            while True:
                items = networks()
                finished = sum(done(n) for n in items)
                if finished and first is None:
                    first, first_cpu, first_done = time.perf_counter() - t0, cpu_seconds(controller.pid), finished
                if finished == count:
                    break
                if time.perf_counter() - t0 > 3600:
                    raise SystemExit(f"[{backend}] timed out: {finished}/{count}")
                time.sleep(0.05 if first is None else 2.0)  # listing N Networks costs the server CPU too
            cold = time.perf_counter() - t0
            cold_cpu = cpu_seconds(controller.pid)
            # per reconcile: the CPU after the first Succeeded (start-up and imports excluded)
            per_cpu = (cold_cpu - first_cpu) / max(1, count - first_done)
            cold_requests = len(controller_requests(server.request_log, cold_mark)) / count
            figures.update(first=first, cold=cold, cold_cpu_ms=per_cpu * 1000, cold_requests=cold_requests)
            print(f"[{backend}] cold: first Succeeded after {first:.2f} s, all {count} after {cold:.1f} s, "
                  f"controller CPU {cold_cpu:.1f} s, {cold_requests:.1f} API requests per reconcile")

            # warm: annotate all
            time.sleep(1.1)  # lastUpdateTime has second precision
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            mark = len(server.request_log)
            t1 = time.perf_counter()
            for i in range(count):
                custom.patch_namespaced_custom_object(
                    GROUP, VERSION, f"shoot--bench--s{i}", "networks", f"s{i}",
                    {"metadata": {"annotations": {"gardener.cloud/operation": "reconcile"}}}, _content_type=MERGE)
            while sum(done(n, stamp) for n in networks()) < count:
                time.sleep(0.5)
            warm = time.perf_counter() - t1
            calls = controller_requests(server.request_log, mark)
            per = (len(calls) - count) / count  # minus the benchmark's own annotate patches
            figures.update(warm=warm, warm_requests=per)
            print(f"[{backend}] warm: {count} in {warm:.1f} s, {per:.2f} API requests per reconcile")

            # annotate one of N
            def one(changed: bool, k: int) -> float:
                ns, name = "shoot--bench--s0", "s0"
                patch: dict = {"metadata": {"annotations": {"gardener.cloud/operation": "reconcile"}}}
                if changed:
                    patch["spec"] = {"providerConfig": {"vethMTU": str(5000 + k)}}
                started = time.perf_counter()
                custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "networks", name, patch,
                                                      _content_type=MERGE)
                while not done(custom.get_namespaced_custom_object(GROUP, VERSION, ns, "networks", name)):
                    time.sleep(0.002)
                return time.perf_counter() - started

            unchanged = [one(False, k) for k in range(15)]
            changed = [one(True, k) for k in range(15)]
            figures.update(one_unchanged=statistics.median(unchanged) * 1000,
                           one_changed=statistics.median(changed) * 1000)
            print(f"[{backend}] annotate one: p50 {figures['one_unchanged']:.0f} ms unchanged, "
                  f"{figures['one_changed']:.0f} ms changed")

            # no-op resyncs
            time.sleep(1.0)
            mark = len(server.request_log)
            misses = metric(metrics_port, 'networking_render_cache_total{result="miss"}')
            time.sleep(2 * RESYNC + 2)
            writes = [c for c in controller_requests(server.request_log, mark) if c[0] != "GET"]
            helm = metric(metrics_port, 'networking_render_cache_total{result="miss"}') - misses
            figures.update(noop_writes=len(writes), noop_helm=helm, rss=rss_mib(controller.pid))
            if apiserver:
                figures["apiserver_cpu"] = cpu_seconds(apiserver) - api_cpu0
            print(f"[{backend}] no-op: {len(writes)} writes, {helm:.0f} helm calls in 2 resyncs; "
                  f"controller peak RSS {figures['rss']:.0f} MiB")
        finally:
            controller.terminate()
            controller.wait(30)
            api.close()
    return figures


def bare_helm(repeat: int = 15) -> dict:
    """`helm template` of the calico chart with the values the controller computes for the example
    Network, as the controller runs it (values on stdin): median wall time and CPU time per run."""
    import resource

    from controller import shoot as shoots
    from controller.config import ControllerConfig
    from controller.mapping import load_mappings
    from controller.pipeline import compute_values
    from controller.render import find_helm

    mapping = load_mappings(ROOT / "values-mapping", ["calico"])["calico"]
    shoot = shoots.shoot_of(example("cluster.yaml"))
    values = compute_values(mapping, example("network-calico.yaml"), shoot, ControllerConfig()).values
    argv = [find_helm(), "template", mapping.release_name, str(mapping.chart), "--namespace",
            mapping.release_namespace, "--kube-version", shoots.kube_version(shoot), "--values", "-"]
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, input=json.dumps(values).encode(), check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "n": repeat}


def render_cli(bare: dict) -> float:
    argv = [str(ROOT / ".venv" / "bin" / "gardener-extension-networking"), "render",
            "--network", str(ROOT / "example" / "network-calico.yaml"),
            "--cluster", str(ROOT / "example" / "cluster.yaml")]
    samples = []
    for _ in range(7):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    count = int(os.environ.get("BENCH_N", "1000"))
    backends = sys.argv[1:] or ["emulator", "real"]
    bare = bare_helm()
    print(f"bare helm template (calico chart, example values): {bare['cpu'] * 1000:.0f} ms CPU, "
          f"{bare['wall'] * 1000:.0f} ms wall (median of {bare['n']}); {CORES} cores")
    cli = render_cli(bare)
    results = {b: run_backend(b, count, bare) for b in backends}
    small = min(200, count)
    if count > small:  # RSS flat between N=200 and N: the same run with 200 Networks (emulator), with
        # qps 1000 so that its cold phase shows the controller without the client-side rate limit
        results["emulator-200"] = run_backend("emulator", small, bare, qps=1000)
    ideal = count * bare["cpu"] / CORES
    if "emulator-200" in results:
        for b in backends:
            results[b]["rss_growth"] = results[b]["rss"] - results["emulator-200"]["rss"]
    rows = [
        ("cold: all Succeeded (s)", "cold", f"<= {1.2 * ideal:.0f} (1.2 x {count} x {bare['cpu'] * 1000:.0f} ms / {CORES})",
         lambda v: v <= 1.2 * ideal),
        ("cold: Python CPU per reconcile (ms, excl. helm)", "cold_cpu_ms", "<= 15", lambda v: v <= 15),
        ("cold: API requests per reconcile", "cold_requests", "(cost)", lambda v: True),
        ("first Succeeded after start (s)", "first", "<= 2", lambda v: v <= 2),
        ("warm: API requests per reconcile", "warm_requests", "<= 4", lambda v: v <= 4),
        (f"warm: all {count} (s)", "warm", f"<= {60 * count / 1000:.0f}", lambda v: v <= 60 * count / 1000),
        ("annotate one, unchanged: p50 (ms)", "one_unchanged", "<= 50", lambda v: v <= 50),
        ("annotate one, changed: p50 (ms)", "one_changed", f"<= {bare['wall'] * 1000 + 50:.0f} (bare helm + 50)",
         lambda v: v <= bare["wall"] * 1000 + 50),
        ("controller peak RSS (MiB)", "rss", "<= 150", lambda v: v <= 150),
        (f"RSS growth N={small} -> {count} (MiB)", "rss_growth", "flat (object caches only)", lambda v: v <= 15),
        ("no-op: writes in 2 resyncs", "noop_writes", "0", lambda v: v == 0),
        ("no-op: helm calls in 2 resyncs", "noop_helm", "0", lambda v: v == 0),
    ]
    print(f"\nN = {count}, {CORES} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"| figure | goal | {' | '.join(backends)} |")
    print(f"|---|---|{'---|' * len(backends)}")
    for label, key, goal, ok in rows:
        cells = []
        for b in backends:
            value = results[b].get(key)
            cells.append("n/a" if value is None else f"{value:.2f}".rstrip("0").rstrip(".") + (" ✓" if ok(value) else " ✗"))
        print(f"| {label} | {goal} | {' | '.join(cells)} |")
    if "real" in results and "apiserver_cpu" in results["real"]:
        print(f"| real kube-apiserver CPU over the whole run (s) | (cost) | | {results['real']['apiserver_cpu']:.1f} |")
    if "emulator-200" in results:
        r, goal = results["emulator-200"], 1.2 * small * bare["cpu"] / CORES
        print(f"| emulator, N={small}, qps 1000 / burst 1300: cold all Succeeded (s) | <= {goal:.0f} | "
              f"{r['cold']:.1f} {'✓' if r['cold'] <= goal else '✗'} |")
        print(f"| emulator, N={small}, qps 1000: Python CPU per cold reconcile (ms) | <= 15 | "
              f"{r['cold_cpu_ms']:.1f} {'✓' if r['cold_cpu_ms'] <= 15 else '✗'} |")
        print(f"| emulator, N={small}: controller peak RSS (MiB) | (for the growth) | {r['rss']:.0f} |")
    ok = cli <= 1.5 * bare["wall"] * 1000
    print(f"| render CLI, one Network (ms) | <= {1.5 * bare['wall'] * 1000:.0f} (1.5 x bare helm) | {cli:.0f} "
          f"{'✓' if ok else '✗'} |")
    print(json.dumps({"n": count, "bare": bare, "cli_ms": cli, "results": results}))


if __name__ == "__main__":
    main()
