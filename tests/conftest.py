"""Session fixtures shared by every test folder: the real control plane (etcd + kube-apiserver).

Started once per test session on first use and stopped at its end; tests that use it purge what they
created (see tests/integration/conftest.py), so each starts from the same state.
"""

from __future__ import annotations

import pytest

from tests.cluster.real import RealCluster
from tests.helpers import EXAMPLE, ROOT

TEST_CRDS = ROOT / "tests" / "cluster" / "crds"


@pytest.fixture(scope="session")
def real_cluster():
    """The seed: Gardener's and the monitoring CRDs of example/crds, and the test-only CRDs."""
    with RealCluster("seed", crd_paths=[EXAMPLE / "crds", TEST_CRDS]) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def shoot_cluster():
    """A shoot for gardener-resource-manager to apply into: the test-only CRDs (VPA, Cilium policies)
    and kube-controller-manager's garbage collector, which GRM's foreground deletions wait for."""
    with RealCluster("shoot", crd_paths=[TEST_CRDS], controller_manager=True) as cluster:
        yield cluster
