"""`gardener-extension-networking diff --kubeconfig` against a seed: the real controller reconciles a
Network, then the diff reads what it deployed (ManagedResource Secret, live monitoring objects) and
compares it with the local charts: unchanged charts show nothing (exit 0), a copy with one changed
template shows exactly that object and field (exit 1), so does a changed seed-side monitoring template,
and the diff never writes. On the real etcd +
kube-apiserver and on the emulator."""

from __future__ import annotations

import pytest

from controller.cli import main
from tests.integration.conftest import BACKENDS, cluster, network, state_is, wait_for, writes
from tests.test_diff import changed_copy

pytestmark = pytest.mark.parametrize("emu", BACKENDS, indirect=True)


def run(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert err == ""
    return code, out.splitlines()


def test_diff_of_a_reconciled_seed(emu, start, tmp_path, capsys):
    emu.create(cluster())
    emu.create(network())
    running = start()
    wait_for(state_is(emu, "Create"), timeout=30, message="Create succeeded")
    running.stop()
    capsys.readouterr()
    mark = len(emu.request_log)
    kubeconfig = str(emu.kubeconfig_path)

    assert run(capsys, "diff", "--kubeconfig", kubeconfig) == (0, ["shoot--foo--bar/bar (calico): no changes"])

    mappings = changed_copy(tmp_path / "copy")
    assert run(capsys, "--mappings-dir", mappings, "diff", "--kubeconfig", kubeconfig) == (1, [
        "shoot--foo--bar/bar (calico): 1 changed, 0 added, 0 removed",
        "  ~ PodDisruptionBudget.policy kube-system/calico-typha",
        "      spec.maxUnavailable: 1 → 2",
    ])

    # The seed side: live monitoring objects against a changed monitoring chart.
    felix = tmp_path / "copy" / "charts" / "internal" / "calico-monitoring" / "templates" / "scrapeconfig-felix.yaml"
    felix.write_text(felix.read_text().replace('"felix-metrics"', '"felix-metrics-2"'))
    assert run(capsys, "--mappings-dir", mappings, "diff", "--kubeconfig", kubeconfig) == (1, [
        "shoot--foo--bar/bar (calico): 2 changed, 0 added, 0 removed",
        "  ~ PodDisruptionBudget.policy kube-system/calico-typha",
        "      spec.maxUnavailable: 1 → 2",
        "  ~ ScrapeConfig.monitoring.coreos.com shoot--foo--bar/shoot-calico-felix",
        '      spec.relabelings[0].replacement: "felix-metrics" → "felix-metrics-2"',
    ])
    assert writes(emu, mark, ignore=()) == []  # read-only
