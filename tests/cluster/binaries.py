"""Where the real Kubernetes programs of the tests are: built by `hack/build-binaries.sh test` into
`.cache/bin/<name>-<version>/`, the version read from the go.mod under `hack/tools/` that pins it.

A missing binary is an error that names the build command: the real-cluster tests are never skipped.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("BINARIES_CACHE", ROOT / ".cache" / "bin"))
# program -> (directory under hack/tools, the module whose version names the cache entry)
MODULES = {
    "etcd": ("etcd", "go.etcd.io/etcd/server/v3"),
    "kube-apiserver": ("kubernetes", "k8s.io/kubernetes"),
    "kube-controller-manager": ("kubernetes", "k8s.io/kubernetes"),
    "gardener-resource-manager": ("gardener-resource-manager", "github.com/gardener/gardener"),
}


def pinned_version(name: str) -> str:
    """The version of the program's module that its go.mod under `hack/tools/` requires."""
    directory, module = MODULES[name]
    text = (ROOT / "hack" / "tools" / directory / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", text, re.MULTILINE)
    if not match:
        raise RuntimeError(f"hack/tools/{directory}/go.mod does not require {module}")
    return match.group(1)


def binary(name: str) -> Path:
    path = CACHE / f"{name}-{pinned_version(name)}" / name
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is missing: run `bash hack/build-binaries.sh test` (make test does)")
    return path
