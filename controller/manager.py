"""The running controller: wires the runtime pieces to the Network domain, from typed `RunOptions`.

`run_controller(options)` is what `gardener-extension-networking run` calls; tests drive the same
`Controller` on a thread (`build_controller`). Informers (`runtime.informer`) feed Network (and, in dev
mode, Cluster) events through the predicates of `contract` (event filters, ShootNotFailed) into a
`runtime.workqueue` keyed by namespace/name; workers hand each key to `reconciler.Reconciler` and
requeue failures: after the error's own delay if it names one, else with per-item exponential backoff.
Only the holder of the Lease (`runtime.leaderelection`) runs workers; every instance watches, so a
standby is ready to take over. Network, Cluster, Namespace informers: the read cache (`seedcache`); a
worker checks ShootNotFailed there (no GETs at start). /healthz, /readyz, /metrics: `runtime.server`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
import time
import uuid

from controller import contract, metrics
from controller.kube import Kube
from controller.options import RunOptions
from controller.overlay import MappingSet
from controller.reconciler import Reconciler
from controller.render import Renderer
from controller.resources import CLUSTERS, NAMESPACES, NETWORKS
from controller.runtime.informer import Informer, key_of
from controller.runtime.leaderelection import LeaderElector, heartbeat
from controller.runtime.logs import configure_logging
from controller.runtime.server import Servers
from controller.runtime.tasks import Tasks
from controller.runtime.workqueue import WorkQueue
from controller.seedcache import SeedCache
from controller.webhooks.shoot import ShootWebhook

log = logging.getLogger(__name__)


class Controller:
    def __init__(self, options: RunOptions, kube: Kube, reconciler: Reconciler, renderer: Renderer,
                 mapping_set: MappingSet):
        self.options, self.kube, self.reconciler, self.renderer = options, kube, reconciler, renderer
        self.mapping_set = mapping_set
        self.types = set(reconciler.mappings)
        self.identity = reconciler.identity
        self.elector = LeaderElector(kube, options.leader_election_namespace, options.leader_election_id,
                                     self.identity, options.leader_election_lease_duration,
                                     options.leader_election_renew_deadline, options.leader_election_retry_period)
        self.queue: WorkQueue | None = None
        self.networks: dict[str, dict] = {}
        self._cluster_versions: dict[str, str] = {}
        self._active = False
        self.reconciles = 0
        self.exit_code = 0
        self.servers = Servers(options.health_bind_address, options.metrics_bind_address, self.readiness)
        self.tasks = Tasks()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._watch_stop = threading.Event()
        self._busy: set[asyncio.Task] = set()
        self.informers = [Informer(kube, NETWORKS, self._on_network, options.resync_period, self._watch_stop),
                          Informer(kube, CLUSTERS, self._on_cluster, options.resync_period, self._watch_stop),
                          Informer(kube, NAMESPACES, None, options.resync_period, self._watch_stop)]
        self.cache = SeedCache(kube, {resource: informer.store for resource, informer in
                                      zip((NETWORKS, CLUSTERS, NAMESPACES), self.informers)})
        self._filtered: set[str] = set()  # keys queued by an event: ShootNotFailed is checked by the worker
        reconciler.cache = self.cache.get
        self.started = threading.Event()

    @property
    def leading(self) -> bool:
        """Workers run (this instance holds the Lease, or leader election is off)."""
        return self._active and (self.elector.leading or not self.options.leader_election)

    def readiness(self) -> tuple[bool, str]:
        if not all(informer.synced for informer in self.informers):
            return False, "watches have not synced yet"
        if not self.renderer.version:
            return False, "helm is not usable"
        overdue = self.renderer.overdue()
        if overdue:
            return False, "helm renders past their deadline: " + "; ".join(overdue)
        return True, ""

    def request_stop(self, exit_code: int = 0) -> None:
        """Thread-safe; the first exit code wins."""
        def stop():
            if not self._stop.is_set():
                self.exit_code = exit_code
                self._stop.set()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(stop)

    async def run(self) -> int:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.queue = WorkQueue()
        await self.servers.start()
        webhook = self.reconciler.shoot_webhook
        if webhook is not None:  # served on every replica, leader or not
            await webhook.start()
        informers = [self.tasks.spawn(informer.run()) for informer in self.informers]
        if self.options.overlay_dir is not None:  # every replica: a new leader serves the current set
            informers.append(self.tasks.spawn(self.mapping_set.watch(self.options.overlay_poll_interval, self._serve_mappings,
                                                                     self.kube, self.options.overlay_configmap, self.identity)))
        self.started.set()
        log.info("controller started", extra={"types": sorted(self.types), "identity": self.identity,
                                              "leaderElection": self.options.leader_election})
        workers: list[asyncio.Task] = []
        try:
            if self.options.leader_election and not await self.elector.acquire(self._stop):
                return self.exit_code
            while not all(i.synced for i in self.informers) and not self._stop.is_set():  # caches first
                await asyncio.sleep(0.05)
            self._activate()
            count = max(1, self.options.max_concurrent_reconciles)
            metrics.CR_MAX_CONCURRENT.labels(metrics.CONTROLLER).set(count)
            workers = [self.tasks.spawn(self._worker()) for _ in range(count)]
            side = [self.tasks.spawn(heartbeat(self.kube, self.options.heartbeat_namespace, self.options.extension_name,
                                               self.options.heartbeat_renew_interval_seconds))]
            if self.options.leader_election:
                side.append(self.tasks.spawn(self._keep_leadership()))
            await self._stop.wait()
            for task in side:
                task.cancel()
        finally:
            await self._shutdown(informers, workers)
            if webhook is not None:
                await webhook.stop()
        return self.exit_code

    async def _keep_leadership(self) -> None:
        """Leadership lost: stop with exit code 1, as controller-runtime does."""
        await self.elector.keep()
        self.request_stop(1)

    async def _shutdown(self, informers: list[asyncio.Task], workers: list[asyncio.Task]) -> None:
        log.info("shutting down")
        self._watch_stop.set()
        self.queue.close()
        for task in informers:
            task.cancel()
        busy = [w for w in workers if w in self._busy]
        for task in workers:
            if task not in self._busy:
                task.cancel()
        if busy:
            _, pending = await asyncio.wait(busy, timeout=self.options.graceful_shutdown_timeout)
            for task in pending:
                task.cancel()
        await self.tasks.cancel_all()
        if self.elector.leading:
            await self.elector.release()
        self._active = False
        await self.servers.stop()

    # --- events -> queue ---

    def _on_network(self, event_type: str, obj: dict, listed: bool) -> None:
        if not contract.serves(obj, self.types):
            return
        key = key_of(obj)
        old = self.networks.get(key)
        if event_type == "DELETED":
            self.networks.pop(key, None)
            return
        if old is not None and listed and old["metadata"].get("resourceVersion") == obj["metadata"].get("resourceVersion"):
            old = obj  # resync of an unchanged object: an UPDATE with old == new, as controller-runtime sends
        self.networks[key] = obj
        self.renderer.serve(len(self.networks))
        if not self.leading:
            return
        ignore = self.options.ignore_operation_annotation
        if old is None:
            passes = contract.needs_reconcile_on_create(obj, ignore)
        else:
            passes = contract.needs_reconcile_on_update(old, obj, ignore)
        if passes:
            self._filtered.add(key)  # ShootNotFailed: checked by the worker
            self.queue.add(key)

    def _serve_mappings(self, changed: set[str]) -> None:
        """A new mapping set is in force (`overlay`): serve it, re-reconcile the Networks of changed types."""
        self.reconciler.mappings, self.reconciler.config = self.mapping_set.mappings, self.mapping_set.config
        self.types = set(self.mapping_set.mappings)
        for key in [k for k, n in self.networks.items() if self.leading and n["spec"].get("type") in changed]:
            self.queue.add(key)

    def _on_cluster(self, event_type: str, obj: dict, listed: bool) -> None:
        """Clusters are cached; in dev mode a changed Cluster also enqueues the Networks of its namespace."""
        if not self.options.ignore_operation_annotation:
            return
        name, version = obj["metadata"]["name"], obj["metadata"].get("resourceVersion", "")
        if event_type == "DELETED":
            self._cluster_versions.pop(name, None)
            return
        if self._cluster_versions.get(name) == version:
            return
        self._cluster_versions[name] = version
        if self.leading:
            for key, network in list(self.networks.items()):
                if network["metadata"]["namespace"] == name:
                    self.queue.add(key)


    def _activate(self) -> None:
        """Start processing: like a controller-runtime source starting, every known object is an ADD."""
        self._active = True
        for key, obj in list(self.networks.items()):
            if contract.needs_reconcile_on_create(obj, self.options.ignore_operation_annotation):
                self._filtered.add(key)
                self.queue.add(key)

    # --- workers ---

    async def _worker(self) -> None:
        task = asyncio.current_task()
        while True:
            key = await self.queue.get()
            self._busy.add(task)
            active = metrics.CR_ACTIVE_WORKERS.labels(metrics.CONTROLLER)
            active.inc()
            try:
                await self._process(key)
            finally:
                active.dec()
                self._busy.discard(task)
                self.queue.done(key)

    async def _process(self, key: str) -> None:
        if key in self._filtered:  # queued by an event: the predicate first
            self._filtered.discard(key)
            if not await self.cache.shoot_not_failed(key):
                log.info("event dropped: the shoot is failed or its Cluster is missing", extra={"network": key})
                self.queue.forget(key)
                return
        namespace, name = key.split("/", 1)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.options.reconcile_timeout):
                result = await self.reconciler.reconcile(namespace, name)
        except TimeoutError:
            result = None
        except Exception:  # noqa: BLE001 - a bug must not kill the worker; retried with backoff
            log.exception("reconcile crashed", extra={"network": key})
            result = None
        self.reconciles += 1
        network_type = result.network_type if result else (self.networks.get(key) or {}).get("spec", {}).get("type", "")
        operation = (result.operation if result else "") or "none"
        outcome = result.outcome if result else "error"
        metrics.observe_reconcile(network_type or "unknown", operation, outcome, time.perf_counter() - started,
                                  failed=result is None or result.error is not None,
                                  requeue_after=result is not None and result.retry_after is not None)
        if result is not None and not result.retry:
            self.queue.forget(key)
            return
        if result is not None and result.retry_after is not None:  # the error named its delay
            self.queue.forget(key)
            self.queue.add_after(key, result.retry_after)
            delay = result.retry_after
        else:
            delay = self.queue.add_rate_limited(key)
        log.info("requeued after failure", extra={"network": key, "delaySeconds": round(delay, 3),
                                                  "error": str(result.error) if result else "timeout or crash"})


def build_controller(options: RunOptions) -> Controller:
    """Everything `run` needs, from its options (also used by the integration tests)."""
    mapping_set = MappingSet(options.mappings_dir, options.overlay_dir, list(options.types), options.config_file or None)
    mappings, config = mapping_set.mappings, mapping_set.config
    renderer = Renderer(max_parallel=options.max_parallel_renders or None, timeout=options.render_timeout)
    kube = Kube.connect(options.kubeconfig or config.kubeconfig, config.qps, config.burst)
    reconciler = Reconciler(kube, renderer, mappings, config, identity=f"{socket.gethostname()}_{uuid.uuid4()}",
                            delete_timeout=options.delete_timeout,
                            ignore_operation_annotation=options.ignore_operation_annotation,
                            shoot_webhook=ShootWebhook.from_args(options.webhook, mappings, kube))
    return Controller(options, kube, reconciler, renderer, mapping_set)


def run_controller(options: RunOptions) -> int:
    """`gardener-extension-networking run`: serve until SIGTERM/SIGINT; exit 1 when leadership is lost."""
    configure_logging(options.log_level, options.log_format)
    controller = build_controller(options)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, controller.request_stop)
        return await controller.run()

    try:
        return asyncio.run(main())
    finally:
        controller.kube.close()
        controller.mapping_set.close()
