"""controller-runtime's reconcile result labels, as Gardener's reconciler would produce them."""

from __future__ import annotations

from controller import metrics


def _value(name, **labels):
    return metrics.REGISTRY.get_sample_value(name, {"controller": "network", **labels}) or 0.0


def test_reconcile_results_map_to_controller_runtime_labels():
    before = {r: _value("controller_runtime_reconcile_total", result=r) for r in ("success", "error", "requeue_after")}
    errors = _value("controller_runtime_reconcile_errors_total")
    metrics.observe_reconcile("calico", "Reconcile", "succeeded", 0.2, failed=False, requeue_after=False)
    metrics.observe_reconcile("calico", "Reconcile", "invalid", 0.1, failed=True, requeue_after=False)
    metrics.observe_reconcile("calico", "Reconcile", "error", 0.1, failed=True, requeue_after=True)
    after = {r: _value("controller_runtime_reconcile_total", result=r) for r in before}
    assert {r: after[r] - before[r] for r in before} == {"success": 1, "error": 1, "requeue_after": 1}
    assert _value("controller_runtime_reconcile_errors_total") - errors == 1
    assert metrics.REGISTRY.get_sample_value("controller_runtime_reconcile_time_seconds_bucket",
                                             {"controller": "network", "le": "0.15"}) >= 2
