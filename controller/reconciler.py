"""The generic actuator plus the contract plumbing for ONE Network (gardener-contract.md 2.3-2.5, 4.4).

Called by a `manager` worker with a namespace/name; reads the Network and Cluster from the informer cache
(a GET only if it lacks them or lags behind our last write), builds every patch with `contract`, gets the
desired objects from the pure `pipeline` (shoot ManagedResource and seed monitoring objects) and writes
them with `createforshoot` and `kube`, unless equal to what it applied last (fingerprints). It never
raises for a failed operation: it records the failure in the Network's status and an Event (`events`),
and returns a `Result` telling the manager whether and when to retry (a `ConfigurationError` is not
retried: it waits for the next change of the Network; a `TransientError` may name its delay).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from controller import contract, createforshoot, events, liveinputs, pipeline, shapes
from controller import shoot as shoots
from controller.config import ControllerConfig
from controller.errors import ERR_CONFIGURATION_PROBLEM, ConfigurationError, TransientError
from controller.apierrors import NotFound
from controller.kube import Kube
from controller.mapping import TypeMapping
from controller.render import Renderer
from controller.resources import CLUSTERS, MANAGED_RESOURCES, NETWORKS, Resource
from controller.runtime.logs import WORK_ITEM
from controller.webhooks import shootresources as shoot_resources

DELETE_POLL_SECONDS = 2.0
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

    @property
    def retry_after(self) -> float | None:
        """The delay the error asked for (a `wait` rule's retryAfter); None: the queue's backoff."""
        return getattr(self.error, "delay", None)


@dataclass
class _Applied:
    changes: list[str]
    status: dict = field(default_factory=dict)


class Reconciler:
    """`identity` names this instance in Events; `shoot_webhook` is the controller's webhook server,
    whose ManagedResource goes into each shoot of a type with a `shootWebhook` section (None: not served)."""

    def __init__(self, kube: Kube, renderer: Renderer, mappings: dict[str, TypeMapping], config: ControllerConfig,
                 identity: str, delete_timeout: float = 120.0, ignore_operation_annotation: bool = False,
                 shoot_webhook=None):
        self.kube, self.renderer, self.mappings, self.config = kube, renderer, mappings, config
        self.identity, self.shoot_webhook = identity, shoot_webhook
        self.delete_timeout = delete_timeout
        self.ignore_operation_annotation = ignore_operation_annotation
        # The manager's informer caches, `(resource, namespace, name) -> object or None`; None: GET each time.
        self.cache: Callable[[Resource, str, str], dict | None] | None = None
        self._written: dict[tuple[str, str], dict] = {}  # Network -> what our last write to it returned
        self._applied: dict[tuple[str, str], str] = {}  # (namespace, object) -> fingerprint of what we wrote

    async def _read(self, resource: Resource, namespace: str, name: str) -> dict | None:
        """The cache's copy or our last write's answer, the newer one; a GET when neither is known."""
        cached = self.cache(resource, namespace, name) if self.cache is not None else None
        written = self._written.get((namespace, name)) if resource == NETWORKS else None
        if cached is not None and written is not None:  # the newer of the two (resourceVersions of etcd)
            have, ours = (cached["metadata"].get("resourceVersion", ""), written["metadata"].get("resourceVersion", ""))
            if have.isdigit() and ours.isdigit():
                return cached if int(have) >= int(ours) else written
        return cached if cached is not None and written is None else await self.kube.get(resource, namespace, name)

    async def _patch_network(self, namespace: str, name: str, patch: dict, subresource: str = "") -> dict:
        result = await self.kube.patch(NETWORKS, namespace, name, patch, subresource=subresource)
        self._written[(namespace, name)] = result
        return result

    def _forget(self, namespace: str) -> None:
        """What we remember as applied in a namespace (its objects are being removed)."""
        for key in [key for key in self._applied if key[0] == namespace]:
            del self._applied[key]

    async def reconcile(self, namespace: str, name: str) -> Result:
        token = WORK_ITEM.set(f"{namespace}/{name}")
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
            WORK_ITEM.reset(token)

    async def _reconcile(self, namespace: str, name: str) -> Result:
        network = await self._read(NETWORKS, namespace, name)
        if network is None:
            self._written.pop((namespace, name), None)
            return Result(SKIPPED)
        network_type = network["spec"]["type"]
        annotation = contract.operation_annotation(network)
        if annotation == contract.OP_WAIT_FOR_STATE:
            log.info("waiting for state: nothing to do")
            return Result(SKIPPED, network_type)
        if not self.ignore_operation_annotation and not contract.needs_reconcile_on_create(network, False):
            # Queued by an event that had the annotation (our own Processing write), done since.
            return Result(SKIPPED, network_type)
        cluster = await self._read(CLUSTERS, "", namespace)
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
            await self._status(network, contract.processing_status(operation))
            network = await self._patch_network(namespace, name, contract.remove_operation_annotation_patch())
            marked = True
        mapping = self.mappings[network_type]
        log.info("%s started", operation)

        if operation == contract.MIGRATE:
            result = await self._operate(network, operation, lambda: self._migrate(network, mapping, shoot), marked)
            if result.outcome == SUCCEEDED:
                await self._patch_network(namespace, name, contract.migrated_patch())
                result.changes.append("removed all finalizers")
        elif contract.is_deleting(network):
            if not contract.has_finalizer(network):
                return Result(SKIPPED, network_type, operation)
            result = await self._operate(network, operation, lambda: self._delete(network, mapping, shoot), marked)
            if result.outcome == SUCCEEDED:
                current = await self.kube.get(NETWORKS, namespace, name)
                if current is not None and contract.has_finalizer(current):
                    await self._patch_network(namespace, name, contract.remove_finalizer_patch(current))
                result.changes.append("removed finalizer")
        else:
            if not contract.has_finalizer(network):
                network = await self._patch_network(namespace, name, contract.add_finalizer_patch(network))
            result = await self._operate(network, operation, lambda: self._apply(network, mapping, shoot, bad_cluster),
                                         marked)
            if result.outcome == SUCCEEDED and operation == contract.RESTORE:
                await self._patch_network(namespace, name, contract.remove_operation_annotation_patch())
        result.network_type = network_type
        if result.outcome == SUCCEEDED and result.changes:
            await events.record(self.kube, network, "Normal", _EVENT_REASONS[operation][0],
                                f"{contract.DESCRIPTIONS[operation][1]}: {', '.join(result.changes)}", self.identity)
        log.info("%s %s", operation, result.outcome, extra={"changes": result.changes})
        return result

    async def _operate(self, network: dict, operation: str, action, marked: bool = False) -> Result:
        """Processing (unless `marked` already) → action → Succeeded, or Error with the codes of the failure."""
        meta = network["metadata"]
        generation = meta.get("generation", 0)
        if not marked:
            await self._status(network, contract.processing_status(operation))
        try:
            applied: _Applied = await action()
        except ConfigurationError as exc:
            await self._record_failure(network, operation, generation, exc)
            return Result(INVALID, operation=operation, error=exc)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried with backoff
            await self._record_failure(network, operation, generation, exc)
            return Result(ERROR, operation=operation, error=exc)
        await self._status(network, contract.succeeded_status(operation, generation, applied.status))
        return Result(SUCCEEDED, operation=operation, changes=applied.changes)

    async def _status(self, network: dict, status: dict) -> None:
        meta = network["metadata"]
        await self._patch_network(meta["namespace"], meta["name"], {"status": status}, subresource="status")

    async def _record_failure(self, network: dict, operation: str, generation: int, exc: Exception) -> None:
        codes = tuple(getattr(exc, "codes", ()) or ())
        log.error("%s failed: %s", operation, exc, extra={"codes": list(codes)})
        try:
            await self._status(network, contract.error_status(operation, generation, exc, codes))
        except (TransientError, ConfigurationError) as status_exc:
            log.error("could not record the error in the status: %s", status_exc)
        await events.record(self.kube, network, "Warning", _EVENT_REASONS[operation][1],
                            contract.error_description(operation, exc), self.identity)

    # --- actuator ---

    async def _apply(self, network: dict, mapping: TypeMapping, shoot: dict,
                     bad_cluster: ConfigurationError | None = None) -> _Applied:
        """Reconcile/Create/Restore. The pipeline raises before any write, so a failure never replaces
        the last good ManagedResource. A malformed Cluster is a configuration problem of this Network
        (deletion and migration do not need the shoot's details and go on)."""
        if bad_cluster is not None:
            raise bad_cluster
        live = await liveinputs.read(self.kube, mapping, network, shoot, self.config)
        desired = await pipeline.desired_state(self.renderer, mapping, network, shoot, self.config, live)
        namespace = network["metadata"]["namespace"]
        changes = []
        fingerprint = _fingerprint([desired.secret["metadata"]["name"], desired.managed_resource])
        if (self._applied.get((namespace, "")) != fingerprint  # as applied last, and the MR still says so
                or not await createforshoot.up_to_date(self.kube, desired.managed_resource)):
            changes += await createforshoot.create_for_shoot(self.kube, desired.secret, desired.managed_resource)
            self._applied[(namespace, "")] = fingerprint
        for obj in await pipeline.seed_objects(self.renderer, mapping, network, shoot):
            key = (namespace, f"{obj['apiVersion']}/{obj['kind']}/{obj['metadata']['name']}")
            fingerprint = _fingerprint(obj)
            if self._applied.get(key) == fingerprint:
                continue
            if (await self.kube.apply_object(obj)).changed:
                changes.append(f"applied {obj['kind']} {obj['metadata']['name']}")
            self._applied[key] = fingerprint
        changes += await shoot_resources.apply(self.kube, self.shoot_webhook, mapping, network["metadata"]["namespace"])
        return _Applied(changes, desired.status)

    async def _delete(self, network: dict, mapping: TypeMapping, shoot: dict) -> _Applied:
        namespace = network["metadata"]["namespace"]
        self._forget(namespace)
        changes = []
        legacy = mapping.monitoring.legacy_objects if mapping.monitoring else ()
        for obj in [*await pipeline.seed_objects(self.renderer, mapping, network, shoot),
                    *({"apiVersion": o["apiVersion"], "kind": o["kind"], "metadata": {"name": o["name"]}}
                      for o in legacy)]:
            if await self.kube.delete_object(obj["apiVersion"], obj["kind"], namespace, obj["metadata"]["name"]):
                changes.append(f"deleted {obj['kind']} {obj['metadata']['name']}")
        changes += await shoot_resources.delete(self.kube, mapping, namespace)
        if await createforshoot.delete(self.kube, namespace, mapping.managed_resource):
            changes.append(f"deleted ManagedResource {mapping.managed_resource}")
        if not shoots.needs_force_deletion(shoot):
            await self._wait_until_deleted(namespace, mapping.managed_resource)
        return _Applied(changes)

    async def _migrate(self, network: dict, mapping: TypeMapping, shoot: dict) -> _Applied:
        """Keep the shoot's objects, remove everything seed-side."""
        self._forget(network["metadata"]["namespace"])
        await createforshoot.keep_objects(self.kube, network["metadata"]["namespace"], mapping.managed_resource)
        await shoot_resources.keep_objects(self.kube, mapping, network["metadata"]["namespace"])
        return await self._delete(network, mapping, shoot)

    async def _wait_until_deleted(self, namespace: str, name: str) -> None:
        deadline = time.monotonic() + self.delete_timeout
        while True:
            current = await self.kube.get(MANAGED_RESOURCES, namespace, name)
            if current is None:
                return
            if time.monotonic() >= deadline:
                raise _deletion_timeout(namespace, name, current)
            await asyncio.sleep(min(DELETE_POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _fingerprint(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _deletion_timeout(namespace: str, name: str, mr: dict) -> TransientError:
    """`WaitUntilDeleted`'s timeout error: GRM's deletion message, with a configuration code if it says so."""
    applied = next((c for c in (mr.get("status") or {}).get("conditions") or []
                    if c.get("type") == "ResourcesApplied"), {})
    text = f"ManagedResource {namespace}/{name} is still present"
    if applied.get("reason") in ("DeletionFailed", "DeletionPending") and applied.get("message"):
        text += f": {applied['message']}"
    return TransientError(text, codes=(ERR_CONFIGURATION_PROBLEM,) if _INVALID_APPLY.search(text) else ())
