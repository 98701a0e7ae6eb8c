"""Prometheus collectors of the controller, in one place.

Incremented by `render` (renders, cache hits, helm processes in flight) and by `manager` (reconciles,
durations, queue depth, failed background tasks); exposed on /metrics by `server`. A private registry
keeps test processes and the default Python collectors apart.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

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
QUEUE_DEPTH = Gauge(
    "networking_workqueue_depth", "Networks waiting in the work queue.", registry=REGISTRY,
)
