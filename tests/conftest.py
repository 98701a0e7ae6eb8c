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
