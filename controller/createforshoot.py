"""Gardener's ManagedResource semantics on the API server: `CreateForShoot`, `SetKeepObjects`, `Delete`.

Called by `reconciler` (the type's ManagedResource) and `webhooks.shootresources` (the shoot webhook's);
the objects come from the pure builders of `managedresource`. The Secret is immutable and named by its
content, so it is created once; the ManagedResource is created or updated only when that changes
something, and the Secrets it referenced before get the garbage-collectable label first, for GRM to
remove. Deletion removes the legacy Secret `managedresource-<name>`, every referenced Secret and the MR.
"""

from __future__ import annotations

import asyncio
import contextlib

from controller.errors import TransientError
from controller.apierrors import Conflict, NotFound
from controller.kube import ATTEMPTS, Kube
from controller.managedresource import GC_LABEL, merge_managed_resource
from controller.resources import MANAGED_RESOURCES, SECRETS


async def create_for_shoot(kube: Kube, secret: dict, managed_resource: dict) -> list[str]:
    """Write the Secret and the ManagedResource; the changes made, for the Event."""
    changes = []
    if await _ensure_secret(kube, secret):
        changes.append(f"created Secret {secret['metadata']['name']}")
    if await _apply_managed_resource(kube, managed_resource):
        changes.append(f"applied ManagedResource {managed_resource['metadata']['name']}")
    return changes


async def up_to_date(kube: Kube, managed_resource: dict) -> bool:
    """The ManagedResource is there and says what `managed_resource` says (one GET: the check of a
    reconcile whose Secret and MR equal what was applied last, so a removed or edited MR is put back)."""
    meta = managed_resource["metadata"]
    current = await kube.get(MANAGED_RESOURCES, meta["namespace"], meta["name"])
    return current is not None and merge_managed_resource(current, managed_resource) == current


async def _ensure_secret(kube: Kube, secret: dict) -> bool:
    """Create an immutable, content-named Secret unless it exists (then its content is the same)."""
    meta = secret["metadata"]
    if await kube.get(SECRETS, meta["namespace"], meta["name"]) is not None:
        return False
    try:
        await kube.create(SECRETS, secret)
        return True
    except Conflict as exc:
        if exc.reason == "AlreadyExists":
            return False
        raise


async def _apply_managed_resource(kube: Kube, desired: dict) -> bool:
    """Create, or merge labels / replace spec / replace reference annotations and update only when that
    changed something; a stale read (409) re-reads and tries again."""
    namespace, name = desired["metadata"]["namespace"], desired["metadata"]["name"]
    for attempt in range(ATTEMPTS):
        current = await kube.get(MANAGED_RESOURCES, namespace, name)
        if current is None:
            try:
                await kube.create(MANAGED_RESOURCES, desired)
                return True
            except Conflict:
                continue
        for ref in (current.get("spec") or {}).get("secretRefs") or []:
            await _label_garbage_collectable(kube, namespace, ref["name"])
        updated = merge_managed_resource(current, desired)
        if updated == current:
            return False
        try:
            await kube.replace(MANAGED_RESOURCES, updated)
            return True
        except Conflict:
            await asyncio.sleep(0.05 * (attempt + 1))
    raise TransientError(f"update managedresource {namespace}/{name}: conflicts persisted")


async def _label_garbage_collectable(kube: Kube, namespace: str, secret: str) -> None:
    current = await kube.get(SECRETS, namespace, secret)
    if current is None or ((current.get("metadata") or {}).get("labels") or {}).get(GC_LABEL) == "true":
        return
    with contextlib.suppress(NotFound):
        await kube.patch(SECRETS, namespace, secret, {"metadata": {"labels": {GC_LABEL: "true"}}})


async def keep_objects(kube: Kube, namespace: str, name: str) -> None:
    """`SetKeepObjects(true)` before a migration: GRM leaves the shoot's objects when the MR goes."""
    with contextlib.suppress(NotFound):
        await kube.patch(MANAGED_RESOURCES, namespace, name, {"spec": {"keepObjects": True}})


async def delete(kube: Kube, namespace: str, name: str) -> bool:
    """`managedresources.Delete(withPrefix)`: the legacy Secret, every referenced Secret, the MR. True
    when the MR was there."""
    current = await kube.get(MANAGED_RESOURCES, namespace, name)
    secrets = [f"managedresource-{name}"] + [ref["name"] for ref in
                                             ((current or {}).get("spec") or {}).get("secretRefs") or []]
    for secret in secrets:
        await kube.delete(SECRETS, namespace, secret)
    if current is not None:
        await kube.delete(MANAGED_RESOURCES, namespace, name)
    return current is not None
