"""Fixtures of the emulator conformance suite: one emulator per test with the Gardener CRDs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client

from apiserver_emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "example" / "crds"
KUBECTL = Path(sys.prefix) / "bin" / "kubectl"


@pytest.fixture
def emulator():
    with Emulator(crd_paths=[CRDS]) as emu:
        yield emu


@pytest.fixture
def api(emulator):
    with emulator.api_client() as api_client:
        yield api_client


@pytest.fixture
def core(api):
    return client.CoreV1Api(api)


@pytest.fixture
def custom(api):
    return client.CustomObjectsApi(api)


@pytest.fixture
def kubectl(emulator, tmp_path):
    """Run the real kubectl against the emulator; returns the CompletedProcess."""
    kubeconfig = emulator.write_kubeconfig(tmp_path / "kubeconfig")

    def run(*args: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess:
        result = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"),
                                 *args], capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    return run
