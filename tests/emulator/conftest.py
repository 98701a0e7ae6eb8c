"""Fixtures of the API server conformance suite: every test runs against the project's emulator (a
fresh one per test, with the Gardener CRDs) and against the session's real etcd + kube-apiserver
(`real_apiserver` marker, the `real_cluster` fixture of tests/conftest.py).

Isolation on the real server: namespaces can never be deleted there (no kube-controller-manager
finalizes them), so each test gets fresh namespaces (`ns`, `ns2`, named after the test) instead of
`default`/`kube-system`, and cluster-scoped custom objects (Clusters) are purged after each test.
Tests that need what only the emulator has take `emulator_only` (with the reason in their docstring).
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from apiserver_emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "example" / "crds"
KUBECTL = Path(sys.prefix) / "bin" / "kubectl"
BACKENDS = ["emulator", pytest.param("real", marks=pytest.mark.real_apiserver)]
CLUSTER_SCOPED = [("extensions.gardener.cloud/v1alpha1", "clusters")]
"""Cluster-scoped objects the tests create on the real server, purged after each test."""

emulator_only = pytest.mark.parametrize("server", ["emulator"], indirect=True)
"""For tests of what only the emulator has (fault injection, its request log, its Python API)."""

_namespaces = itertools.count()


def pytest_configure(config):
    config.addinivalue_line("markers", "emulator_options(**kwargs): keyword arguments of the test's Emulator")


@pytest.fixture(params=BACKENDS)
def server(request):
    """The API server of one test: a fresh emulator, or the session's real kube-apiserver."""
    if request.param == "emulator":
        marker = request.node.get_closest_marker("emulator_options")
        with Emulator(crd_paths=[CRDS], **(marker.kwargs if marker else {})) as emulator:
            yield emulator
        return
    cluster = request.getfixturevalue("real_cluster")
    yield cluster
    for api_version, plural in CLUSTER_SCOPED:
        purge(cluster, api_version, plural)


def purge(cluster, api_version: str, plural: str, attempts: int = 20) -> None:
    """`RealCluster.purge`, retried while the server answers 429 (a watch cache still initialising
    answers "storage is (re)initializing" with Retry-After)."""
    for attempt in range(attempts):
        try:
            return cluster.purge(api_version, plural)
        except RuntimeError as error:
            if ": 429 " not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.5)


def is_real(server) -> bool:
    return not isinstance(server, Emulator)


def fresh_namespace(server, request) -> str:
    """A namespace no other test used: `t<nnnn>-<test name>` (at most 63 characters, in creation order)."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.originalname.lower().removeprefix("test_")).strip("-")
    name = f"t{next(_namespaces):04}-{slug}"[:63].rstrip("-")
    server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
def ns(server, request) -> str:
    """The test's own namespace (in place of `default`)."""
    return fresh_namespace(server, request)


@pytest.fixture
def ns2(server, request) -> str:
    """A second namespace of the test (in place of `kube-system`)."""
    return fresh_namespace(server, request)


@pytest.fixture
def api(server):
    with server.api_client() as api_client:
        yield api_client


@pytest.fixture
def core(api):
    return client.CoreV1Api(api)


@pytest.fixture
def custom(api):
    return client.CustomObjectsApi(api)


def write_kubeconfig(server, path: Path, namespace: str) -> Path:
    """The server's kubeconfig (the real one with the admin client certificate) with `namespace` as
    the context's default namespace."""
    path = server.write_kubeconfig(path)
    config = yaml.safe_load(path.read_text())
    for context in config["contexts"]:
        context["context"]["namespace"] = namespace
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def kubectl_command(server, ns, tmp_path):
    """The argv prefix of the real kubectl for this server, defaulting to the test's namespace."""
    kubeconfig = write_kubeconfig(server, tmp_path / "kubeconfig", ns)
    return [str(KUBECTL), "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache")]


@pytest.fixture
def kubectl(kubectl_command):
    """Run the real kubectl against the server; returns the CompletedProcess."""

    def run(*args: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess:
        result = subprocess.run([*kubectl_command, *args], capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    return run
