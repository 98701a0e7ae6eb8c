"""Benchmark: writes per second against the API server emulator through the official client.

Usage: python bench/emulator_writes.py [COUNT]   (default 2000 creates + 2000 status patches)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kubernetes import client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a plain clone: the emulator is not installed

from apiserver_emulator import Emulator  # noqa: E402

CRDS = ROOT / "example" / "crds"
GROUP, VERSION = "extensions.gardener.cloud", "v1alpha1"


def main(count: int) -> None:
    with Emulator(crd_paths=[CRDS]) as emulator, emulator.api_client() as api:
        custom = client.CustomObjectsApi(api)
        for phase in ("create", "patch status"):
            started = time.perf_counter()
            for i in range(count):
                if phase == "create":
                    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "networks", {
                        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Network", "metadata": {"name": f"n{i}"},
                        "spec": {"type": "calico", "podCIDR": "10.0.0.0/16", "serviceCIDR": "10.1.0.0/16"}})
                else:
                    custom.patch_namespaced_custom_object_status(GROUP, VERSION, "default", "networks", f"n{i}",
                                                                 {"status": {"observedGeneration": i}})
            elapsed = time.perf_counter() - started
            print(f"{phase}: {count} writes in {elapsed:.2f}s = {count / elapsed:.0f} writes/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
