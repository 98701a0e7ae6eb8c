"""Leader election with a Lease (client-go's LeaseLock) and Gardener's extension heartbeat Lease.

`LeaderElector` is used by `manager`: only the holder of the Lease runs workers; it renews every retry
period and gives up (the manager exits 1) when renewing fails for the whole renew deadline, so two
leaders never run at once; a graceful stop hands the Lease over at once (ReleaseOnCancel). Writes
carry the resourceVersion read before: the Lease's optimistic lock. `heartbeat` renews
`gardener-extension-heartbeat`, which tells gardenlet the extension is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from dataclasses import dataclass

from controller.errors import ConfigurationError, TransientError
from controller.apierrors import Conflict
from controller.kube import Kube
from controller.resources import LEASES

log = logging.getLogger(__name__)

HEARTBEAT_LEASE = "gardener-extension-heartbeat"


def micro_now() -> str:
    """Lease `MicroTime`."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lease(namespace: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


@dataclass
class LeaderElector:
    kube: Kube
    namespace: str
    name: str
    identity: str
    lease_duration: float
    renew_deadline: float
    retry_period: float
    leading: bool = False

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Block until this instance holds the Lease (True) or `stop` is set (False)."""
        observed: tuple[str, float] = ("", time.monotonic())
        while not stop.is_set():
            observed, acquired = await self._try_acquire_or_renew(observed)
            if acquired:
                log.info("became leader", extra={"identity": self.identity})
                self.leading = True
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.retry_period)
        return False

    async def _try_acquire_or_renew(self, observed: tuple[str, float]) -> tuple[tuple[str, float], bool]:
        """One try; returns the new observation and whether we hold the Lease now. `observed` = (the
        Lease's resourceVersion, when we first saw it): a foreign Lease is expired when it has not
        changed for leaseDuration by OUR clock (no clock-skew trust)."""
        try:
            current = await self.kube.get(LEASES, self.namespace, self.name)
            now = micro_now()
            if current is None:
                await self.kube.create(LEASES, lease(self.namespace, self.name, {
                    "holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                    "acquireTime": now, "renewTime": now, "leaseTransitions": 0}))
                return observed, True
            spec = current.get("spec") or {}
            version = current["metadata"]["resourceVersion"]
            if version != observed[0]:
                observed = (version, time.monotonic())
            holder = spec.get("holderIdentity") or ""
            mine = holder == self.identity
            if holder and not mine and time.monotonic() < observed[1] + self.lease_duration:
                return observed, False
            spec.update({"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                         "renewTime": now})
            if not mine:
                spec.update({"acquireTime": now, "leaseTransitions": int(spec.get("leaseTransitions") or 0) + 1})
            current["spec"] = spec
            updated = await self.kube.replace(LEASES, current)
            return (updated["metadata"]["resourceVersion"], time.monotonic()), True
        except (TransientError, ConfigurationError) as exc:  # includes Conflict: somebody else was faster
            if not isinstance(exc, Conflict):
                log.warning("leader election: %s", exc)
            return observed, False

    async def keep(self) -> None:
        """Renew every retry period; return when renewing failed for the whole renew deadline."""
        last_renewal = time.monotonic()
        observed = ("", time.monotonic())
        while True:
            await asyncio.sleep(self.retry_period)
            observed, renewed = await self._try_acquire_or_renew(observed)
            if renewed:
                last_renewal = time.monotonic()
            elif time.monotonic() - last_renewal > self.renew_deadline:
                log.error("leader election lost")
                self.leading = False
                return

    async def release(self) -> None:
        """Hand the Lease over at once on a graceful stop."""
        with contextlib.suppress(TransientError):
            current = await self.kube.get(LEASES, self.namespace, self.name)
            if current and (current.get("spec") or {}).get("holderIdentity") == self.identity:
                current["spec"].update({"holderIdentity": None, "leaseDurationSeconds": 1})
                await self.kube.replace(LEASES, current)
        self.leading = False


async def heartbeat(kube: Kube, namespace: str, holder: str, interval: float) -> None:
    """Renew `gardener-extension-heartbeat` every `interval` seconds, for ever (needed by gardenlet's
    health conditions, harmless without)."""
    while True:
        try:
            current = await kube.get(LEASES, namespace, HEARTBEAT_LEASE)
            spec = {"holderIdentity": holder, "leaseDurationSeconds": max(1, int(interval)), "renewTime": micro_now()}
            if current is None:
                await kube.create(LEASES, lease(namespace, HEARTBEAT_LEASE, spec))
            else:
                current["spec"] = {**(current.get("spec") or {}), **spec}
                await kube.replace(LEASES, current)
        except (TransientError, ConfigurationError) as exc:
            log.warning("heartbeat not renewed: %s", exc)
        await asyncio.sleep(interval)
