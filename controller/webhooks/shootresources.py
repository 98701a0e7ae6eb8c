"""The shoot webhook's ManagedResource in a shoot namespace: applied, kept on migration, deleted.

Called by `reconciler` for Networks whose mapping has a `shootWebhook` section (cilium:
`extension-cilium-shoot-webhooks`); the objects come from `ShootWebhook.objects`. Without a running
webhook server (`--webhook-config-server-port` 0) nothing is applied, but deletion still cleans up.
API failures propagate as `TransientError` (the reconcile is retried).
"""

from __future__ import annotations

from controller import createforshoot
from controller.kube import Kube
from controller.mapping import TypeMapping
from controller.resources import MANAGED_RESOURCES


async def apply(kube: Kube, webhook, mapping: TypeMapping, namespace: str) -> list[str]:
    if webhook is None or not mapping.shoot_webhook:
        return []
    secret, managed_resource = webhook.objects(mapping, namespace)
    return await createforshoot.create_for_shoot(kube, secret, managed_resource)


async def keep_objects(kube: Kube, mapping: TypeMapping, namespace: str) -> None:
    if mapping.shoot_webhook:
        await createforshoot.keep_objects(kube, namespace, mapping.shoot_webhook["managedResource"])


async def delete(kube: Kube, mapping: TypeMapping, namespace: str) -> list[str]:
    if not mapping.shoot_webhook:
        return []
    name = mapping.shoot_webhook["managedResource"]
    if await kube.get(MANAGED_RESOURCES, namespace, name) is None:
        return []
    await createforshoot.delete(kube, namespace, name)
    return [f"deleted ManagedResource {name}"]
