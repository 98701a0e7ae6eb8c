"""The generic actuator plus the contract plumbing for ONE Network (gardener-contract.md 2.3-2.5, 4.4).

Called by a `loop` worker with a namespace/name; reads and writes only through `kube`, builds every
patch with `contract`, and gets the desired Secret/ManagedResource from the pure `pipeline`. It never
raises for a failed operation: it records the failure in the Network's status and an Event, and
returns a `Result` telling the loop whether a retry with backoff makes sense (a `ConfigurationError`
does not: it waits for the next change of the Network).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass, field

from controller import contract, pipeline, shapes
from controller import shoot as shoots
from controller.config import ControllerConfig
from controller.errors import ERR_CONFIGURATION_PROBLEM, ConfigurationError, TransientError
from controller.kube import Kube, NotFound
from controller.mapping import TypeMapping
from controller.render import Renderer
from controller.webhooks import shootresources as shoot_resources

# "<namespace>/<name>" of the Network being worked on; the log formatter of `loop` puts it on every line.
NETWORK = contextvars.ContextVar("network", default="")
DELETE_POLL_SECONDS = 2.0
COMPONENT = "network-controller"
# Gardener's `WaitUntilDeleted`: such an apply error of GRM is the user's, not a transient one.
_INVALID_APPLY = re.compile(r"(?i)error during apply of object .* is invalid:")

SUCCEEDED, SKIPPED, ERROR, INVALID = "succeeded", "skipped", "error", "invalid"
# Event reasons per operation: (success, failure).
_EVENT_REASONS = {contract.CREATE: ("Reconciled", "ReconcileFailed"),
                  contract.RECONCILE: ("Reconciled", "ReconcileFailed"),
                  contract.RESTORE: ("Restored", "RestoreFailed"), contract.DELETE: ("Deleted", "DeleteFailed"),
                  contract.MIGRATE: ("Migrated", "MigrateFailed")}

log = logging.getLogger(__name__)


@dataclass
class Result:
    """What one reconcile did. `outcome`: succeeded | skipped | error (retry with backoff) |
    invalid (configuration problem: no retry until the Network changes)."""

    outcome: str
    network_type: str = ""
    operation: str = ""
    error: BaseException | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def retry(self) -> bool:
        return self.outcome == ERROR


@dataclass
class _Applied:
    changes: list[str]
    status: dict = field(default_factory=dict)


class Reconciler:
    def __init__(self, kube: Kube, renderer: Renderer, mappings: dict[str, TypeMapping], config: ControllerConfig,
                 delete_timeout: float = 120.0, identity: str = "", ignore_operation_annotation: bool = False):
        self.kube, self.renderer, self.mappings, self.config = kube, renderer, mappings, config
        self.delete_timeout = delete_timeout
        self.ignore_operation_annotation = ignore_operation_annotation
        self.identity = identity or uuid.uuid4().hex[:8]

    async def reconcile(self, namespace: str, name: str) -> Result:
        token = NETWORK.set(f"{namespace}/{name}")
        try:
            return await self._reconcile(namespace, name)
        except NotFound:
            return Result(SKIPPED)  # deleted while we worked on it
        except (TransientError, OSError) as exc:  # failures before an operation (and its status) began
            log.warning("reconcile failed before an operation started: %s", exc)
            return Result(ERROR, error=exc)
        except ConfigurationError as exc:  # the API server refused a write for good (kube.Rejected)
            log.error("reconcile refused before an operation started: %s", exc)
            return Result(INVALID, error=exc)
        finally:
            NETWORK.reset(token)

    async def _reconcile(self, namespace: str, name: str) -> Result:
        network = await self.kube.get_network(namespace, name)
        if network is None:
            return Result(SKIPPED)
        network_type = network["spec"]["type"]
        annotation = contract.operation_annotation(network)
        if annotation == contract.OP_WAIT_FOR_STATE:
            log.info("waiting for state: nothing to do")
            return Result(SKIPPED, network_type)
        if not self.ignore_operation_annotation and not contract.needs_reconcile_on_create(network, False):
            # Queued by an event that had the annotation (our own Processing write), done since.
            return Result(SKIPPED, network_type)
        cluster = await self.kube.get_cluster(namespace)
        if cluster is None:
            raise TransientError(f"cluster {namespace} not found")
        try:
            shapes.check_cluster(cluster)
            bad_cluster = None
        except ConfigurationError as exc:
            bad_cluster = exc
        shoot = shoots.shoot_of(cluster)
        if shoots.is_failed(shoot):
            log.info("the shoot is failed: not reconciling")
            return Result(SKIPPED, network_type)
        operation = contract.compute_operation_type(network)
        if contract.should_skip(network, operation):
            log.info("already migrated: skipping %s", operation)
            return Result(SKIPPED, network_type, operation)
        marked = False
        if annotation == contract.OP_RECONCILE:
            # Processing first: a crash before the annotation is gone leaves it in place, so the
            # reconcile is redone on restart instead of leaving a stale Succeeded.
            await self.kube.patch_network_status(namespace, name, contract.processing_status(operation))
            network = await self.kube.patch_network(namespace, name, contract.remove_operation_annotation_patch())
            marked = True
        mapping = self.mappings[network_type]
        log.info("%s started", operation)

        if operation == contract.MIGRATE:
            result = await self._operate(network, operation, lambda: self._migrate(network, mapping, shoot), marked)
            if result.outcome == SUCCEEDED:
                await self.kube.patch_network(namespace, name, contract.migrated_patch())
                result.changes.append("removed all finalizers")
        elif contract.is_deleting(network):
            if not contract.has_finalizer(network):
                return Result(SKIPPED, network_type, operation)
            result = await self._operate(network, operation, lambda: self._delete(network, mapping, shoot), marked)
            if result.outcome == SUCCEEDED:
                current = await self.kube.get_network(namespace, name)
                if current is not None and contract.has_finalizer(current):
                    await self.kube.patch_network(namespace, name, contract.remove_finalizer_patch(current))
                result.changes.append("removed finalizer")
        else:
            if not contract.has_finalizer(network):
                network = await self.kube.patch_network(namespace, name, contract.add_finalizer_patch(network))
            result = await self._operate(network, operation, lambda: self._apply(network, mapping, shoot, bad_cluster),
                                         marked)
            if result.outcome == SUCCEEDED and operation == contract.RESTORE:
                await self.kube.patch_network(namespace, name, contract.remove_operation_annotation_patch())
        result.network_type = network_type
        if result.outcome == SUCCEEDED and result.changes:
            await self._event(network, "Normal", _EVENT_REASONS[operation][0],
                              f"{contract.DESCRIPTIONS[operation][1]}: {', '.join(result.changes)}")
        log.info("%s %s", operation, result.outcome, extra={"changes": result.changes})
        return result

    async def _operate(self, network: dict, operation: str, action, marked: bool = False) -> Result:
        """Processing (unless `marked` already) → action → Succeeded, or Error with the codes of the failure."""
        meta = network["metadata"]
        generation = meta.get("generation", 0)
        if not marked:
            await self.kube.patch_network_status(meta["namespace"], meta["name"],
                                                 contract.processing_status(operation))
        try:
            applied: _Applied = await action()
        except ConfigurationError as exc:
            await self._record_failure(network, operation, generation, exc)
            return Result(INVALID, operation=operation, error=exc)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried with backoff
            await self._record_failure(network, operation, generation, exc)
            return Result(ERROR, operation=operation, error=exc)
        await self.kube.patch_network_status(meta["namespace"], meta["name"],
                                             contract.succeeded_status(operation, generation, applied.status))
        return Result(SUCCEEDED, operation=operation, changes=applied.changes)

    async def _record_failure(self, network: dict, operation: str, generation: int, exc: Exception) -> None:
        meta = network["metadata"]
        codes = tuple(getattr(exc, "codes", ()) or ())
        log.error("%s failed: %s", operation, exc, extra={"codes": list(codes)})
        try:
            await self.kube.patch_network_status(meta["namespace"], meta["name"],
                                                 contract.error_status(operation, generation, exc, codes))
        except (TransientError, ConfigurationError) as status_exc:
            log.error("could not record the error in the status: %s", status_exc)
        await self._event(network, "Warning", _EVENT_REASONS[operation][1],
                          contract.error_description(operation, exc))

    # --- actuator ---

    async def _apply(self, network: dict, mapping: TypeMapping, shoot: dict,
                     bad_cluster: ConfigurationError | None = None) -> _Applied:
        """Reconcile/Create/Restore. The pipeline raises before any write, so a failure never replaces
        the last good ManagedResource. A malformed Cluster is a configuration problem of this Network
        (deletion and migration do not need the shoot's details and go on)."""
        if bad_cluster is not None:
            raise bad_cluster
        live = await self._live_inputs(network, mapping, shoot)
        desired = await pipeline.desired_state(self.renderer, mapping, network, shoot, self.config, live)
        changes = []
        secret = desired.secret["metadata"]["name"]
        if (await self.kube.ensure_secret(desired.secret)).changed:
            changes.append(f"created Secret {secret}")
        if (await self.kube.apply_managed_resource(desired.managed_resource)).changed:
            changes.append(f"applied ManagedResource {mapping.managed_resource}")
        for obj in await self._monitoring_objects(network, mapping, shoot):
            if (await self.kube.apply_object(obj)).changed:
                changes.append(f"applied {obj['kind']} {obj['metadata']['name']}")
        # The shoot webhook (set by `loop` when the controller serves one), see controller/webhooks/shoot.py.
        changes += await shoot_resources.apply(self.kube, getattr(self, "shoot_webhook", None), mapping,
                                               network["metadata"]["namespace"])
        return _Applied(changes, desired.status)

    async def _live_inputs(self, network: dict, mapping: TypeMapping, shoot: dict) -> dict:
        """The shoot objects the mapping asks for (`liveInputs`), best effort: an entry that cannot be
        read stays absent, so the chart default applies, unless the entry is `required`. Nothing is read
        while the shoot is hibernated (its API server may be down)."""
        wanted = pipeline.live_requests(mapping, network, shoot, self.config)
        if not wanted or shoots.is_hibernated(shoot):
            return {}
        required = [key for key, ref in wanted.items() if ref.get("required")]
        try:
            client = await self.kube.shoot_client(network["metadata"]["namespace"])
            if client is None:
                raise TransientError("the shoot has no access secret (gardener-internal or gardener)")
        except TransientError as exc:
            if required:
                raise TransientError(f"cannot read {', '.join(required)} from the shoot: {exc}") from exc
            log.info("shoot not readable, live inputs empty: %s", exc)
            return {}
        live = {}
        try:
            for key, ref in wanted.items():
                try:
                    value = await client.read(ref.get("apiVersion", "v1"), ref["kind"], ref.get("namespace", ""),
                                              ref.get("name", ""))
                except (TransientError, OSError) as exc:
                    if ref.get("required"):
                        raise TransientError(f"cannot read {key} from the shoot: {exc}") from exc
                    log.info("shoot object %s not readable: %s", key, exc)
                    continue
                if value is not None:
                    live[key] = value
        finally:
            client.close()
        return live

    async def _monitoring_objects(self, network: dict, mapping: TypeMapping, shoot: dict) -> list[dict]:
        if mapping.monitoring is None:
            return []
        namespace = network["metadata"]["namespace"]
        version = shoots.kube_version(shoot) or shoots.kube_version(shoots.default_shoot())
        rendered = await self.renderer.render(mapping.monitoring.chart, mapping.monitoring.release, namespace, {},
                                              version)
        objects = rendered.objects
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("namespace", namespace)
        return objects

    async def _delete(self, network: dict, mapping: TypeMapping, shoot: dict) -> _Applied:
        namespace = network["metadata"]["namespace"]
        changes = []
        legacy = mapping.monitoring.legacy_objects if mapping.monitoring else ()
        for obj in [*await self._monitoring_objects(network, mapping, shoot),
                    *({"apiVersion": o["apiVersion"], "kind": o["kind"], "metadata": {"name": o["name"]}}
                      for o in legacy)]:
            if await self.kube.delete_object(obj["apiVersion"], obj["kind"], namespace, obj["metadata"]["name"]):
                changes.append(f"deleted {obj['kind']} {obj['metadata']['name']}")
        changes += await shoot_resources.delete(self.kube, mapping, namespace)
        if await self.kube.get_managed_resource(namespace, mapping.managed_resource) is not None:
            changes.append(f"deleted ManagedResource {mapping.managed_resource}")
        await self.kube.delete_managed_resource(namespace, mapping.managed_resource)
        if not shoots.needs_force_deletion(shoot):
            await self._wait_until_deleted(namespace, mapping.managed_resource)
        return _Applied(changes)

    async def _migrate(self, network: dict, mapping: TypeMapping, shoot: dict) -> _Applied:
        """Keep the shoot's objects, remove everything seed-side."""
        await self.kube.set_keep_objects(network["metadata"]["namespace"], mapping.managed_resource)
        await shoot_resources.keep_objects(self.kube, mapping, network["metadata"]["namespace"])
        return await self._delete(network, mapping, shoot)

    async def _wait_until_deleted(self, namespace: str, name: str) -> None:
        deadline = time.monotonic() + self.delete_timeout
        while True:
            current = await self.kube.get_managed_resource(namespace, name)
            if current is None:
                return
            if time.monotonic() >= deadline:
                raise _deletion_timeout(namespace, name, current)
            await asyncio.sleep(min(DELETE_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    async def _event(self, network: dict, event_type: str, reason: str, message: str) -> None:
        """Best effort: an Event that cannot be written is logged, never fails the reconcile."""
        meta = network["metadata"]
        timestamp = contract.now()
        identity = f"{meta.get('uid')}/{event_type}/{reason}/{message}".encode()
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{hashlib.sha256(identity).hexdigest()[:16]}",
                         "namespace": meta["namespace"]},
            "involvedObject": {"apiVersion": network["apiVersion"], "kind": network["kind"], "name": meta["name"],
                               "namespace": meta["namespace"], "uid": meta.get("uid"),
                               "resourceVersion": meta.get("resourceVersion")},
            "reason": reason, "message": message[:1024], "type": event_type,
            "source": {"component": COMPONENT}, "reportingComponent": COMPONENT, "reportingInstance": self.identity,
            "firstTimestamp": timestamp, "lastTimestamp": timestamp, "count": 1,
        }
        try:
            await self.kube.record_event(event)
        except (TransientError, ConfigurationError) as exc:
            log.warning("could not create event %s: %s", reason, exc)


def _deletion_timeout(namespace: str, name: str, mr: dict) -> TransientError:
    """`WaitUntilDeleted`'s timeout error: GRM's deletion message, with a configuration code if it says so."""
    applied = next((c for c in (mr.get("status") or {}).get("conditions") or []
                    if c.get("type") == "ResourcesApplied"), {})
    text = f"ManagedResource {namespace}/{name} is still present"
    if applied.get("reason") in ("DeletionFailed", "DeletionPending") and applied.get("message"):
        text += f": {applied['message']}"
    error = TransientError(text)
    if _INVALID_APPLY.search(text):
        error.codes = (ERR_CONFIGURATION_PROBLEM,)
    return error
