"""Prometheus collectors of the controller, in one place.

Incremented by `render` (renders, cache hits, helm processes in flight), by `manager` (reconciles,
durations, failed background tasks) and by `runtime.workqueue`; exposed on /metrics by `server`. The
reconcile and work queue metrics carry controller-runtime's and client-go's names, labels and buckets
(`controller_runtime_*` with label `controller`, `workqueue_*` with `name` and `controller`; the
controller is "network", as Gardener's network controller is named), so Gardener's dashboards and alerts
see this controller like a Go one; `networking_*` add what those do not say (type, operation, helm). The
process and Python collectors of prometheus-client give `process_*` and `python_*`. A private registry
keeps test processes apart from prometheus-client's global one.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

REGISTRY = CollectorRegistry()
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

CONTROLLER = "network"  # Gardener's name of the Network controller (extensions/pkg/controller/network)

# controller-runtime (pkg/internal/controller/metrics)
CR_RECONCILE_TOTAL = Counter(
    "controller_runtime_reconcile_total", "Total number of reconciliations per controller",
    ["controller", "result"], registry=REGISTRY,
)
CR_RECONCILE_ERRORS = Counter(
    "controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller",
    ["controller"], registry=REGISTRY,
)
CR_RECONCILE_TIME = Histogram(
    "controller_runtime_reconcile_time_seconds", "Length of time per reconciliation per controller",
    ["controller"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
             1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60),
)
CR_MAX_CONCURRENT = Gauge(
    "controller_runtime_max_concurrent_reconciles", "Maximum number of concurrent reconciles per controller",
    ["controller"], registry=REGISTRY,
)
CR_ACTIVE_WORKERS = Gauge(
    "controller_runtime_active_workers", "Number of currently used workers per controller",
    ["controller"], registry=REGISTRY,
)

# client-go's work queue metrics as controller-runtime's provider registers them
_QUEUE_BUCKETS = tuple(1e-8 * 10 ** i for i in range(12))  # prometheus.ExponentialBuckets(10e-9, 10, 12)
WQ_DEPTH = Gauge("workqueue_depth", "Current depth of workqueue", ["name", "controller", "priority"],
                 registry=REGISTRY)
WQ_ADDS = Counter("workqueue_adds_total", "Total number of adds handled by workqueue", ["name", "controller"],
                  registry=REGISTRY)
WQ_QUEUE_DURATION = Histogram(
    "workqueue_queue_duration_seconds", "How long in seconds an item stays in workqueue before being requested",
    ["name", "controller"], buckets=_QUEUE_BUCKETS, registry=REGISTRY,
)
WQ_WORK_DURATION = Histogram(
    "workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.",
    ["name", "controller"], buckets=_QUEUE_BUCKETS, registry=REGISTRY,
)
WQ_UNFINISHED = Gauge(
    "workqueue_unfinished_work_seconds", "How many seconds of work has been done that is in progress and hasn't "
    "been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck "
    "threads by observing the rate at which this increases.", ["name", "controller"], registry=REGISTRY,
)
WQ_LONGEST = Gauge(
    "workqueue_longest_running_processor_seconds", "How many seconds has the longest running processor for "
    "workqueue been running.", ["name", "controller"], registry=REGISTRY,
)
WQ_RETRIES = Counter("workqueue_retries_total", "Total number of retries handled by workqueue",
                     ["name", "controller"], registry=REGISTRY)

RECONCILES = Counter(
    "networking_reconciles_total", "Reconciles of Network resources by type, operation and result.",
    ["type", "operation", "result"], registry=REGISTRY,
)
RECONCILE_SECONDS = Histogram(
    "networking_reconcile_duration_seconds", "Duration of one reconcile of a Network.",
    ["type", "operation"], registry=REGISTRY,
)
RENDER_SECONDS = Histogram(
    "networking_render_duration_seconds", "Duration of one helm template run (cache misses only).",
    ["chart"], registry=REGISTRY,
)
RENDER_CACHE = Counter(
    "networking_render_cache_total", "Render requests by cache result (hit or miss).",
    ["result"], registry=REGISTRY,
)
HELM_IN_FLIGHT = Gauge(
    "networking_helm_processes_in_flight", "helm processes running right now.", registry=REGISTRY,
)
TASK_FAILURES = Counter(
    "networking_task_failures_total", "Background tasks of the controller that ended with an exception.",
    ["task"], registry=REGISTRY,
)


def observe_reconcile(network_type: str, operation: str, outcome: str, seconds: float, failed: bool,
                      requeue_after: bool) -> None:
    """One finished reconcile. controller-runtime's `result` as Gardener's reconciler produces it: an error
    (a configuration problem too, which Gardener returns as an error) is `error`, a named delay (a `wait`
    rule, Gardener's RequeueAfterError) `requeue_after`, anything else `success`."""
    RECONCILES.labels(network_type, operation, outcome).inc()
    RECONCILE_SECONDS.labels(network_type, operation).observe(seconds)
    CR_RECONCILE_TIME.labels(CONTROLLER).observe(seconds)
    result = "requeue_after" if failed and requeue_after else "error" if failed else "success"
    if result == "error":
        CR_RECONCILE_ERRORS.labels(CONTROLLER).inc()
    CR_RECONCILE_TOTAL.labels(CONTROLLER, result).inc()
