"""client-go's work queue on asyncio: what the informers' events feed and the workers drain.

A key waits at most once (dedup), is never handed to two workers at once, and comes back once more if
it was added while being processed. `add_rate_limited` re-adds a failed key after its per-item backoff
(`ratelimit.ItemBackoff`); `add_after` after a delay the error named (a `wait` rule's `retryAfter`).
"""

from __future__ import annotations

import asyncio

from controller import metrics
from controller.runtime.ratelimit import ItemBackoff


class WorkQueue:
    def __init__(self, backoff: ItemBackoff | None = None):
        self.backoff = backoff or ItemBackoff()
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._timers: set[asyncio.TimerHandle] = set()

    def __len__(self) -> int:
        return len(self._dirty)

    def add(self, key: str) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.put_nowait(key)
        metrics.QUEUE_DEPTH.set(len(self._dirty))

    def add_after(self, key: str, delay: float) -> None:
        def fire():
            self._timers.discard(timer)
            self.add(key)
        timer = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(timer)

    def add_rate_limited(self, key: str) -> float:
        """Add again after this key's exponential backoff (with jitter); returns the delay."""
        delay = self.backoff.when(key)
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        self.backoff.forget(key)

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
