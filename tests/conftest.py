"""Session fixtures shared by every test folder: the real control plane (etcd + kube-apiserver), and the
session's hardening figure.

The clusters are started once per test session (per pytest-xdist worker) on first use and stopped at
its end; tests that use them purge what they created (see tests/integration/conftest.py), so each
starts from the same state.
"""

from __future__ import annotations

import pytest

from tests.cluster.real import RealCluster
from tests.hardening.figures import GENERATED
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


# --- the hardening figure (tests/hardening/figures.py), also when pytest-xdist runs the tests ---


def pytest_sessionfinish(session):
    """An xdist worker hands its figure to the controlling process."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["hardening"] = dict(GENERATED)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controlling process adds up its workers' figures."""
    figure = getattr(node, "workeroutput", {}).get("hardening") or {}
    for key in GENERATED:
        GENERATED[key] += figure.get(key, 0)


def pytest_terminal_summary(terminalreporter):
    if GENERATED["cases"]:
        terminalreporter.write_line(f"hardening: {GENERATED['cases']} generated cases in "
                                    f"{GENERATED['seconds']:.1f} s (hypothesis)")
