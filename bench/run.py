"""Benchmarks of the pure pipeline; prints figures, asserts nothing (`make bench`).

- mapping: compute_values per Network (no helm), calico and cilium;
- render cold: one helm process per render (cache disabled), helm 4 and helm 3 where installed;
- render warm: the same Network again (cache hit, no helm process);
- peak RSS of this process and of one helm child.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import resource
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controller import pipeline  # noqa: E402
from controller.config import ControllerConfig  # noqa: E402
from controller.mapping import load_mappings  # noqa: E402
from controller.render import Renderer  # noqa: E402
from tests.factories import network, shoot  # noqa: E402

CILIUM_API = "cilium.networking.extensions.gardener.cloud/v1alpha1"


def timed(func, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return samples


def report(label: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    print(f"{label:<44} median {statistics.median(ms):8.2f} ms   p90 {ms[int(len(ms) * 0.9) - 1]:8.2f} ms   "
          f"n={len(ms)}")


def main() -> None:
    mappings = load_mappings(ROOT / "values-mapping")
    config = ControllerConfig()
    cases = {
        "calico": network({"overlay": {"enabled": False}}),
        "cilium": network({"hubble": {"enabled": True}}, type_="cilium", api=CILIUM_API),
    }
    cases = {t: n for t, n in cases.items() if t in mappings}
    for type_, net in cases.items():
        report(f"mapping {type_} (compute_values)",
               timed(lambda: pipeline.compute_values(mappings[type_], net, shoot(), config), 200))
    binaries = [b for b in (os.environ.get("HELM_BINARY"), str(ROOT / ".venv/bin/helm"), str(ROOT / ".venv/bin/helm3"))
                if b and pathlib.Path(b).exists()]
    for binary in dict.fromkeys(binaries):
        cold = Renderer(binary, cache_size=0)
        warm = Renderer(binary)
        for type_, net in cases.items():
            run = lambda r=cold: asyncio.run(pipeline.desired_state(r, mappings[type_], net, shoot(), config))  # noqa
            report(f"render cold {type_} (helm {cold.version})", timed(run, 20))
            asyncio.run(pipeline.desired_state(warm, mappings[type_], net, shoot(), config))
            run = lambda r=warm: asyncio.run(pipeline.desired_state(r, mappings[type_], net, shoot(), config))  # noqa
            report(f"render warm {type_} (cache hit)", timed(run, 50))
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{'peak RSS of this process':<44} {self_rss:8.1f} MiB")
    print(f"{'peak RSS of one helm process':<44} {child_rss:8.1f} MiB")


if __name__ == "__main__":
    main()
