"""The running controller: list + watch, predicates, work queue, workers, leader election, heartbeat.

Entry point `run_controller(args)` is called by `cli.cmd_run` (`gardener-extension-networking run`);
tests drive the same `Controller` on a thread. Events pass the predicates of `contract` (and the
ShootNotFailed check) into a work queue keyed by namespace/name that never runs one key twice at a
time; workers hand each key to `reconciler.Reconciler` and requeue transient failures with
per-item exponential backoff. Only the Lease holder runs workers; every instance watches, so a
standby is ready to take over.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import logging
import random
import signal
import socket
import threading
import time
import uuid
from typing import Callable

from controller import contract, metrics
from controller import shoot as shoots
from controller.errors import ConfigurationError, TransientError
from controller.kube import CLUSTERS, NETWORKS, Conflict, Kube
from controller.reconciler import NETWORK, Reconciler
from controller.render import Renderer
from controller.webhooks.shoot import ShootWebhook
from controller.server import Servers

log = logging.getLogger(__name__)

# controller-runtime's default per-item rate limiter: 5 ms doubling up to 1000 s.
BACKOFF_BASE, BACKOFF_MAX = 0.005, 1000.0
HEARTBEAT_LEASE = "gardener-extension-heartbeat"


# --- logging ---

class JsonFormatter(logging.Formatter):
    """One JSON object per line; the Network in work (a contextvar) and `extra` fields included."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        network = NETWORK.get()
        if network:
            entry["namespace"], entry["name"] = network.split("/", 1)
        entry.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "kubernetes", "aiohttp.access", "pyhelm3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# --- work queue ---

class WorkQueue:
    """client-go's work queue semantics on asyncio: a key waits at most once (dedup), is never handed
    to two workers at once, and comes back once more if it was added while being processed."""

    def __init__(self):
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._failures: collections.Counter[str] = collections.Counter()
        self._timers: set[asyncio.TimerHandle] = set()

    def add(self, key: str) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.put_nowait(key)
        metrics.QUEUE_DEPTH.set(len(self._dirty))

    def add_rate_limited(self, key: str) -> float:
        """Add again after this key's exponential backoff (with jitter); returns the delay."""
        delay = min(BACKOFF_BASE * 2 ** self._failures[key], BACKOFF_MAX) * random.uniform(1.0, 1.2)
        self._failures[key] += 1
        timer = asyncio.get_running_loop().call_later(delay, lambda: (self._timers.discard(timer), self.add(key)))
        self._timers.add(timer)
        return delay

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    async def get(self) -> str:
        key = await self._queue.get()
        self._processing.add(key)
        self._dirty.discard(key)
        metrics.QUEUE_DEPTH.set(len(self._dirty))
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.put_nowait(key)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


def _key(obj: dict) -> str:
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def _micro_now() -> str:
    """Lease `MicroTime`."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- the controller ---

class Controller:
    def __init__(self, args, kube: Kube, reconciler: Reconciler, renderer: Renderer):
        self.args = args
        self.kube, self.reconciler, self.renderer = kube, reconciler, renderer
        self.types = set(reconciler.mappings)
        self.identity = f"{socket.gethostname()}_{uuid.uuid4()}"
        self.queue: WorkQueue | None = None
        self.networks: dict[str, dict] = {}
        self._cluster_versions: dict[str, str] = {}
        self._synced: set[str] = set()
        self.leading = False
        self.reconciles = 0
        self.exit_code = 0
        self.servers = Servers(args.health_bind_address, args.metrics_bind_address, self.readiness)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._watch_stop = threading.Event()
        self._tasks: set[asyncio.Task] = set()
        self._busy: set[asyncio.Task] = set()
        self.started = threading.Event()

    @property
    def leader_election(self) -> bool:
        enabled = self.args.leader_election
        return (not self.args.kubeconfig) if enabled is None else enabled

    def readiness(self) -> tuple[bool, str]:
        wanted = {NETWORKS[2]} | ({CLUSTERS[2]} if self.args.ignore_operation_annotation else set())
        if not wanted <= self._synced:
            return False, "watches have not synced yet"
        if not self.renderer.version:
            return False, "helm is not usable"
        overdue = self.renderer.overdue()
        if overdue:
            return False, "helm renders past their deadline: " + "; ".join(overdue)
        webhook = getattr(self.reconciler, "shoot_webhook", None)
        if webhook is not None and not (webhook.server and webhook.server.started):
            return False, "the shoot webhook is not serving yet (no certificate)"  # its failurePolicy is Fail
        return True, ""

    def request_stop(self, exit_code: int = 0) -> None:
        """Thread-safe; the first exit code wins."""
        def stop():
            if not self._stop.is_set():
                self.exit_code = exit_code
                self._stop.set()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(stop)

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        """No background task dies silently: a failure is logged with its traceback and counted."""
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        name = task.get_coro().__qualname__.rsplit(".", 1)[-1].lstrip("_")
        metrics.TASK_FAILURES.labels(name).inc()
        log.error("background task %s failed", name, exc_info=task.exception(), extra={"task": name})

    async def run(self) -> int:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.queue = WorkQueue()
        await self.servers.start()
        webhook = getattr(self.reconciler, "shoot_webhook", None)
        if webhook is not None:  # served on every replica, leader or not
            await webhook.start()
        informers = [self._spawn(self._informer(NETWORKS, self._on_network))]
        if self.args.ignore_operation_annotation:
            informers.append(self._spawn(self._informer(CLUSTERS, self._on_cluster)))
        self.started.set()
        log.info("controller started", extra={"types": sorted(self.types), "identity": self.identity,
                                              "leaderElection": self.leader_election})
        workers: list[asyncio.Task] = []
        try:
            if self.leader_election and not await self._acquire():
                return self.exit_code
            self._activate()
            workers = [self._spawn(self._worker()) for _ in range(max(1, self.args.max_concurrent_reconciles))]
            side = [self._spawn(self._heartbeat())]
            if self.leader_election:
                side.append(self._spawn(self._renew()))
            await self._stop.wait()
            for task in side:
                task.cancel()
        finally:
            await self._shutdown(informers, workers)
            if webhook is not None:
                await webhook.stop()
        return self.exit_code

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
            _, pending = await asyncio.wait(busy, timeout=self.args.graceful_shutdown_timeout)
            for task in pending:
                task.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.leading:
            await self._release()
        await self.servers.stop()

    # --- informers ---

    async def _informer(self, resource: tuple[str, str, str], handle: Callable[[str, dict, bool], None]) -> None:
        """List, then watch until the next resync is due (or the watch breaks), then list again."""
        handle = self._guarded(handle)
        resource_version, next_list, failures = "", 0.0, 0
        while True:
            try:
                if not resource_version or time.monotonic() >= next_list:
                    items, resource_version = await self.kube.list_objects(resource)
                    self._on_list(resource, items, handle)
                    next_list = time.monotonic() + self.args.resync_period
                    self._synced.add(resource[2])
                resource_version = await self._watch(resource, resource_version,
                                                     max(1.0, next_list - time.monotonic()), handle)
                failures = 0
            except (TransientError, ConfigurationError) as exc:
                failures += 1
                resource_version = ""
                log.warning("watch of %s interrupted: %s", resource[2], exc)
                await asyncio.sleep(min(0.2 * 2 ** failures, 10.0))

    def _on_list(self, resource: tuple[str, str, str], items: list[dict], handle) -> None:
        """A (re-)list: ADDED for new objects, MODIFIED (old == cached) for known ones, DELETED for gone ones."""
        if resource == NETWORKS:
            listed = {_key(obj) for obj in items}
            for key in set(self.networks) - listed:
                handle("DELETED", self.networks[key], True)
            for obj in items:
                handle("MODIFIED" if _key(obj) in self.networks else "ADDED", obj, True)
        else:
            for obj in items:
                handle("ADDED", obj, True)

    async def _watch(self, resource, resource_version: str, timeout: float, handle) -> str:
        """Run the blocking watch on a daemon thread (so a shutdown never waits for it)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def deliver(event_type: str, obj: dict) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone after shutdown
                loop.call_soon_threadsafe(handle, event_type, obj, False)

        def run() -> None:
            try:
                result = self.kube.watch_blocking(resource, resource_version, timeout, deliver, self._watch_stop)
                outcome = (done.set_result, result)
            except Exception as exc:  # noqa: BLE001 - handed to the informer
                outcome = (done.set_exception, exc if isinstance(exc, TransientError) else TransientError(str(exc)))
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(lambda: done.done() or outcome[0](outcome[1]))

        threading.Thread(target=run, name=f"watch-{resource[2]}", daemon=True).start()
        return await done

    def _guarded(self, handle: Callable[[str, dict, bool], None]) -> Callable[[str, dict, bool], None]:
        """An event handler that cannot kill its informer: a failure is logged with its traceback and
        counted, and the event is dropped."""
        name = handle.__name__.lstrip("_")

        def guarded(event_type: str, obj: dict, listed: bool) -> None:
            try:
                handle(event_type, obj, listed)
            except Exception:  # noqa: BLE001 - a malformed object must not stop the watch
                metrics.TASK_FAILURES.labels(name).inc()
                log.exception("event handler %s failed on a %s event", name, event_type, extra={"task": name})

        return guarded

    def _on_network(self, event_type: str, obj: dict, listed: bool) -> None:
        if not contract.serves(obj, self.types):
            return
        key = _key(obj)
        old = self.networks.get(key)
        if event_type == "DELETED":
            self.networks.pop(key, None)
            return
        if old is not None and listed and old["metadata"].get("resourceVersion") == obj["metadata"].get("resourceVersion"):
            old = obj  # resync of an unchanged object: an UPDATE with old == new, as controller-runtime sends
        self.networks[key] = obj
        if not self.leading:
            return
        ignore = self.args.ignore_operation_annotation
        if old is None:
            passes = contract.needs_reconcile_on_create(obj, ignore)
        else:
            passes = contract.needs_reconcile_on_update(old, obj, ignore)
        if passes:
            self._spawn(self._enqueue_unless_shoot_failed(key, obj))

    def _on_cluster(self, event_type: str, obj: dict, listed: bool) -> None:
        """Dev mode: a changed Cluster enqueues the Networks of its namespace."""
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

    async def _enqueue_unless_shoot_failed(self, key: str, obj: dict) -> None:
        """`ShootNotFailedPredicate`: in a namespace labelled as a shoot's, drop events of a failed shoot
        (and when its Cluster cannot be read); if the namespace cannot be read, let the event through."""
        namespace = obj["metadata"]["namespace"]
        try:
            ns = await self.kube.get_namespace(namespace)
        except (TransientError, ConfigurationError):
            ns = None
        if ns and ((ns.get("metadata") or {}).get("labels") or {}).get(contract.SHOOT_ROLE_LABEL) == "shoot":
            try:
                cluster = await self.kube.get_cluster(namespace)
            except (TransientError, ConfigurationError):
                return
            if cluster is None or shoots.is_failed(shoots.shoot_of(cluster)):
                log.info("event dropped: the shoot is failed or its Cluster is missing",
                         extra={"network": key})
                return
        self.queue.add(key)

    def _activate(self) -> None:
        """Start processing: like a controller-runtime source starting, every known object is an ADD."""
        self.leading = True
        for key, obj in list(self.networks.items()):
            if contract.needs_reconcile_on_create(obj, self.args.ignore_operation_annotation):
                self._spawn(self._enqueue_unless_shoot_failed(key, obj))

    # --- workers ---

    async def _worker(self) -> None:
        task = asyncio.current_task()
        while True:
            key = await self.queue.get()
            self._busy.add(task)
            try:
                await self._process(key)
            finally:
                self._busy.discard(task)
                self.queue.done(key)

    async def _process(self, key: str) -> None:
        namespace, name = key.split("/", 1)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.args.reconcile_timeout):
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
        metrics.RECONCILES.labels(network_type or "unknown", operation, outcome).inc()
        metrics.RECONCILE_SECONDS.labels(network_type or "unknown", operation).observe(time.perf_counter() - started)
        if result is None or result.retry:
            delay = self.queue.add_rate_limited(key)
            log.info("requeued after failure", extra={"network": key, "delaySeconds": round(delay, 3),
                                                      "error": str(result.error) if result else "timeout or crash"})
        else:
            self.queue.forget(key)

    # --- leader election (client-go's LeaseLock, with optimistic concurrency on the Lease) ---

    async def _acquire(self) -> bool:
        """Block until this instance holds the Lease (True) or the controller stops (False)."""
        observed: tuple[str, float] = ("", time.monotonic())
        while not self._stop.is_set():
            observed, acquired = await self._try_acquire_or_renew(observed)
            if acquired:
                log.info("became leader", extra={"identity": self.identity})
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.args.leader_election_retry_period)
        return False

    async def _try_acquire_or_renew(self, observed: tuple[str, float]) -> tuple[tuple[str, float], bool]:
        """One try; returns the new observation and whether we hold the Lease now. `observed` = (the Lease's resourceVersion, when we first saw it): a foreign Lease is
        expired when it has not changed for leaseDuration by OUR clock (no clock-skew trust)."""
        namespace, name = self.args.leader_election_namespace, self.args.leader_election_id
        duration = self.args.leader_election_lease_duration
        try:
            lease = await self.kube.get_lease(namespace, name)
            now = _micro_now()
            if lease is None:
                await self.kube.create_lease({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": int(duration),
                             "acquireTime": now, "renewTime": now, "leaseTransitions": 0}})
                return observed, True
            spec = lease.get("spec") or {}
            version = lease["metadata"]["resourceVersion"]
            if version != observed[0]:
                observed = (version, time.monotonic())
            holder = spec.get("holderIdentity") or ""
            mine = holder == self.identity
            if holder and not mine and time.monotonic() < observed[1] + duration:
                return observed, False
            spec.update({"holderIdentity": self.identity, "leaseDurationSeconds": int(duration), "renewTime": now})
            if not mine:
                spec.update({"acquireTime": now, "leaseTransitions": int(spec.get("leaseTransitions") or 0) + 1})
            lease["spec"] = spec
            updated = await self.kube.replace_lease(lease)
            return (updated["metadata"]["resourceVersion"], time.monotonic()), True
        except (TransientError, ConfigurationError) as exc:  # includes Conflict: somebody else was faster
            if not isinstance(exc, Conflict):
                log.warning("leader election: %s", exc)
            return observed, False

    async def _renew(self) -> None:
        """Renew every retry period; if renewing fails for the whole renew deadline, stop (exit 1),
        as controller-runtime does, so that two leaders never run at once."""
        last_renewal = time.monotonic()
        observed = ("", time.monotonic())
        while True:
            await asyncio.sleep(self.args.leader_election_retry_period)
            observed, renewed = await self._try_acquire_or_renew(observed)
            if renewed:
                last_renewal = time.monotonic()
            elif time.monotonic() - last_renewal > self.args.leader_election_renew_deadline:
                log.error("leader election lost")
                self.leading = False
                self.request_stop(1)
                return

    async def _release(self) -> None:
        """Hand the Lease over at once on a graceful stop (client-go's ReleaseOnCancel)."""
        namespace, name = self.args.leader_election_namespace, self.args.leader_election_id
        with contextlib.suppress(TransientError):
            lease = await self.kube.get_lease(namespace, name)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"].update({"holderIdentity": None, "leaseDurationSeconds": 1})
                await self.kube.replace_lease(lease)
        self.leading = False

    # --- heartbeat ---

    async def _heartbeat(self) -> None:
        """`gardener-extension-heartbeat`: tells gardenlet this extension is alive (needed with health
        conditions, harmless without)."""
        namespace, interval = self.args.heartbeat_namespace, self.args.heartbeat_renew_interval_seconds
        while True:
            try:
                lease = await self.kube.get_lease(namespace, HEARTBEAT_LEASE)
                spec = {"holderIdentity": self.args.extension_name, "leaseDurationSeconds": max(1, int(interval)),
                        "renewTime": _micro_now()}
                if lease is None:
                    await self.kube.create_lease({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                                  "metadata": {"name": HEARTBEAT_LEASE, "namespace": namespace},
                                                  "spec": spec})
                else:
                    lease["spec"] = {**(lease.get("spec") or {}), **spec}
                    await self.kube.replace_lease(lease)
            except (TransientError, ConfigurationError) as exc:
                log.warning("heartbeat not renewed: %s", exc)
            await asyncio.sleep(interval)


def build_controller(args) -> Controller:
    """Everything `run` needs, from the parsed flags (also used by the integration tests)."""
    from controller.cli import load_config
    from controller.mapping import load_mappings

    mappings = load_mappings(args.mappings_dir, [t.strip() for t in args.types.split(",") if t.strip()])
    config = load_config(args.config_file or None, mappings)
    renderer = Renderer(max_parallel=args.max_parallel_renders or None, timeout=args.render_timeout)
    kube = Kube.connect(args.kubeconfig or config.kubeconfig, config.qps, config.burst)
    reconciler = Reconciler(kube, renderer, mappings, config, args.delete_timeout,
                            ignore_operation_annotation=args.ignore_operation_annotation)
    controller = Controller(args, kube, reconciler, renderer)
    reconciler.identity = controller.identity
    reconciler.shoot_webhook = ShootWebhook.from_args(args, mappings, kube)
    return controller


def run_controller(args) -> int:
    """`gardener-extension-networking run`: serve until SIGTERM/SIGINT; exit 1 when leadership is lost."""
    configure_logging(args.log_level)
    controller = build_controller(args)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, controller.request_stop)
        return await controller.run()

    try:
        return asyncio.run(main())
    finally:
        controller.kube.close()
