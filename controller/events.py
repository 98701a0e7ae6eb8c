"""Kubernetes Events about a Network, aggregated as client-go does.

Called by `reconciler` after each operation (Normal with the changes made, Warning with the error).
An Event's name is derived from what it says, so the same event again counts one more occurrence
instead of adding an object: a failure retried with backoff does not flood the namespace. Best effort:
an Event that cannot be written is logged, never fails the reconcile.
"""

from __future__ import annotations

import hashlib
import logging

from controller import contract
from controller.errors import ConfigurationError, TransientError
from controller.apierrors import Conflict
from controller.kube import Kube
from controller.resources import EVENTS

log = logging.getLogger(__name__)

COMPONENT = "network-controller"


def build_event(obj: dict, event_type: str, reason: str, message: str, instance: str) -> dict:
    meta = obj["metadata"]
    timestamp = contract.now()
    identity = f"{meta.get('uid')}/{event_type}/{reason}/{message}".encode()
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{hashlib.sha256(identity).hexdigest()[:16]}",
                     "namespace": meta["namespace"]},
        "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
                           "namespace": meta["namespace"], "uid": meta.get("uid"),
                           "resourceVersion": meta.get("resourceVersion")},
        "reason": reason, "message": message[:1024], "type": event_type,
        "source": {"component": COMPONENT}, "reportingComponent": COMPONENT, "reportingInstance": instance,
        "firstTimestamp": timestamp, "lastTimestamp": timestamp, "count": 1,
    }


async def record(kube: Kube, obj: dict, event_type: str, reason: str, message: str, instance: str) -> None:
    event = build_event(obj, event_type, reason, message, instance)
    meta = event["metadata"]
    try:
        try:
            await kube.create(EVENTS, event)
        except Conflict as exc:
            if exc.reason != "AlreadyExists":
                raise
            current = await kube.get(EVENTS, meta["namespace"], meta["name"]) or {}
            await kube.patch(EVENTS, meta["namespace"], meta["name"],
                             {"count": (current.get("count") or 1) + 1, "lastTimestamp": event["lastTimestamp"]})
    except (TransientError, ConfigurationError) as exc:
        log.warning("could not create event %s: %s", reason, exc)
