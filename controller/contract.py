"""The Gardener extension contract as constants and pure builders (gardener-contract.md sections 2.1-2.4).

Sits between the watch and the API writes: `manager` asks the predicates here whether an event needs a
reconcile (and whether the shoot is failed), `reconciler` computes the operation type and builds every
status and metadata patch here. Nothing in this module talks to the API server, so each rule can be read
(and tested) on its own.
"""

from __future__ import annotations

import datetime as dt

from controller import shoot as shoots

OPERATION_ANNOTATION = "gardener.cloud/operation"
OP_RECONCILE = "reconcile"
OP_MIGRATE = "migrate"
OP_RESTORE = "restore"
OP_WAIT_FOR_STATE = "wait-for-state"
# Annotation values that make gardenlet's intent visible to the default predicate (2.2).
TRIGGERING_OPERATIONS = (OP_RECONCILE, OP_MIGRATE, OP_RESTORE)

FINALIZER = "extensions.gardener.cloud/network"
SHOOT_ROLE_LABEL = "gardener.cloud/role"
SHOOT_CLASS = "shoot"

CREATE, RECONCILE, DELETE, MIGRATE, RESTORE = "Create", "Reconcile", "Delete", "Migrate", "Restore"
PROCESSING, SUCCEEDED, ERROR = "Processing", "Succeeded", "Error"

# (processing, succeeded, error) descriptions of the Network reconciler, verbatim from Gardener.
DESCRIPTIONS = {
    CREATE: ("Reconciling the Network", "Successfully reconciled Network", "Error reconciling Network"),
    RECONCILE: ("Reconciling the Network", "Successfully reconciled Network", "Error reconciling Network"),
    RESTORE: ("Restoring the Network", "Successfully restored Network", "Error restoring Network"),
    DELETE: ("Deleting the Network", "Successfully deleted Network", "Error deleting Network"),
    MIGRATE: ("Migrating the Network", "Successfully migrated Network", "Error migrating Network"),
}


def now() -> str:
    """`metav1.Time`: UTC, RFC 3339, second precision."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def operation_annotation(obj: dict) -> str | None:
    return (_meta(obj).get("annotations") or {}).get(OPERATION_ANNOTATION)


def is_deleting(obj: dict) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def last_operation(obj: dict) -> dict | None:
    return (obj.get("status") or {}).get("lastOperation")


def has_finalizer(obj: dict) -> bool:
    return FINALIZER in (_meta(obj).get("finalizers") or [])


def compute_operation_type(obj: dict) -> str:
    """Gardener's `ComputeOperationType`, first match wins; an interrupted migrate or restore keeps its
    type after the annotation is gone."""
    annotation = operation_annotation(obj)
    if annotation == OP_MIGRATE:
        return MIGRATE
    if is_deleting(obj):
        return DELETE
    if annotation == OP_RESTORE:
        return RESTORE
    last = last_operation(obj)
    if last is None:
        return CREATE
    if last.get("state") != SUCCEEDED and last.get("type") in (CREATE, MIGRATE, RESTORE):
        return last["type"]
    return RECONCILE


def should_skip(obj: dict, operation: str) -> bool:
    """`ShouldSkipOperation`: an object migrated away is left alone except for migrate/restore."""
    last = last_operation(obj) or {}
    migrated = last.get("type") == MIGRATE and last.get("state") == SUCCEEDED
    return migrated and operation not in (MIGRATE, RESTORE)


# --- event predicates (2.2) ---

def serves(obj: dict, types: set[str]) -> bool:
    """`HasType` and `HasClass` (no class configured: only `shoot`, and an empty class counts as shoot)."""
    spec = obj.get("spec") or {}
    return spec.get("type") in types and (spec.get("class") or SHOOT_CLASS) == SHOOT_CLASS


def needs_reconcile_on_create(obj: dict, ignore_operation_annotation: bool) -> bool:
    """CREATE events, which include every object of the initial list after a (re)start."""
    if ignore_operation_annotation:
        return True
    last = last_operation(obj)
    return (operation_annotation(obj) in TRIGGERING_OPERATIONS or is_deleting(obj)
            or last is None or last.get("state") != SUCCEEDED)


def needs_reconcile_on_update(old: dict, new: dict, ignore_operation_annotation: bool) -> bool:
    """UPDATE events. Default mode: gardenlet's annotation, or a deletion whose status did not change
    (so our own status writes during a deletion do not loop). Dev mode: `GenerationChangedPredicate`
    (a deletion counts as a generation change, as kube-apiserver bumps the generation then)."""
    if ignore_operation_annotation:
        return (_meta(old).get("generation") != _meta(new).get("generation")
                or (is_deleting(new) and not is_deleting(old)))
    if operation_annotation(new) in TRIGGERING_OPERATIONS:
        return True
    return is_deleting(new) and old.get("status") == new.get("status")


def is_shoot_namespace(namespace: dict | None) -> bool:
    return (((namespace or {}).get("metadata") or {}).get("labels") or {}).get(SHOOT_ROLE_LABEL) == "shoot"


def shoot_not_failed(namespace: dict | None, cluster: dict | None) -> bool:
    """`ShootNotFailedPredicate`: in a namespace labelled as a shoot's, events of a failed shoot (or of
    one whose Cluster is missing) are dropped; a namespace that could not be read (None) lets them pass."""
    if not is_shoot_namespace(namespace):
        return True
    return cluster is not None and not shoots.is_failed(shoots.shoot_of(cluster))


# --- status patches (2.4) ---

def processing_status(operation: str) -> dict:
    return {"lastOperation": {"type": operation, "state": PROCESSING, "progress": 1,
                              "description": DESCRIPTIONS[operation][0], "lastUpdateTime": now()}}


def succeeded_status(operation: str, generation: int, extra: dict | None = None) -> dict:
    """Success removes `lastError`; `extra` carries the type's own status (providerStatus, ipFamilies)."""
    return {**(extra or {}),
            "lastOperation": {"type": operation, "state": SUCCEEDED, "progress": 100,
                              "description": DESCRIPTIONS[operation][1], "lastUpdateTime": now()},
            "lastError": None, "observedGeneration": generation}


def error_description(operation: str, error: BaseException | str) -> str:
    """`FormatLastErrDescription`: "<op description>: <error>" with the first letter upper-cased."""
    text = f"{DESCRIPTIONS[operation][2]}: {error}"
    return text[:1].upper() + text[1:]


def error_status(operation: str, generation: int, error: BaseException | str, codes=()) -> dict:
    description = error_description(operation, error)
    timestamp = now()
    last_error = {"description": description, "lastUpdateTime": timestamp}
    if codes:
        last_error["codes"] = list(codes)
    return {"lastOperation": {"type": operation, "state": ERROR, "progress": 50, "description": description,
                              "lastUpdateTime": timestamp},
            "lastError": last_error, "observedGeneration": generation}


# --- metadata patches ---

def remove_operation_annotation_patch() -> dict:
    return {"metadata": {"annotations": {OPERATION_ANNOTATION: None}}}


def add_finalizer_patch(obj: dict) -> dict:
    """With the resourceVersion: a merge patch replaces the whole list, so it must not race."""
    finalizers = list(_meta(obj).get("finalizers") or [])
    return {"metadata": {"finalizers": finalizers + [FINALIZER], "resourceVersion": _meta(obj)["resourceVersion"]}}


def remove_finalizer_patch(obj: dict) -> dict:
    finalizers = [f for f in (_meta(obj).get("finalizers") or []) if f != FINALIZER]
    return {"metadata": {"finalizers": finalizers, "resourceVersion": _meta(obj)["resourceVersion"]}}


def migrated_patch() -> dict:
    """End of a successful migrate: every finalizer goes (the object is handed over) and the annotation."""
    return {"metadata": {"finalizers": None, "annotations": {OPERATION_ANNOTATION: None}}}
