"""client-go's work queue on asyncio: what the informers' events feed and the workers drain.

A key waits at most once (dedup), is never handed to two workers at once, and comes back once more if
it was added while being processed. `add_rate_limited` re-adds a failed key after its per-item backoff
(`ratelimit.ItemBackoff`); `add_after` after a delay the error named (a `wait` rule's `retryAfter`).
It reports client-go's queue metrics (`metrics.WQ_*`, labels `name` and `controller`) at the same
points client-go does: adds and depth on a new key, queue time on `get`, work time on `done`, retries
on `add_rate_limited`, unfinished and longest-running work computed when /metrics is read.
"""

from __future__ import annotations

import asyncio
import time

from controller import metrics
from controller.runtime.ratelimit import ItemBackoff


class WorkQueue:
    def __init__(self, backoff: ItemBackoff | None = None, name: str = metrics.CONTROLLER):
        self.backoff = backoff or ItemBackoff()
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._added_at: dict[str, float] = {}
        self._started_at: dict[str, float] = {}
        labels = (name, name)
        self._depth = metrics.WQ_DEPTH.labels(name, name, "")
        self._adds, self._retries = metrics.WQ_ADDS.labels(*labels), metrics.WQ_RETRIES.labels(*labels)
        self._queue_duration = metrics.WQ_QUEUE_DURATION.labels(*labels)
        self._work_duration = metrics.WQ_WORK_DURATION.labels(*labels)
        metrics.WQ_UNFINISHED.labels(*labels).set_function(
            lambda: sum(time.monotonic() - t for t in list(self._started_at.values())))
        metrics.WQ_LONGEST.labels(*labels).set_function(
            lambda: max((time.monotonic() - t for t in list(self._started_at.values())), default=0.0))

    def __len__(self) -> int:
        return len(self._dirty)

    def add(self, key: str) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        self._adds.inc()
        self._added_at.setdefault(key, time.monotonic())
        if key not in self._processing:
            self._queue.put_nowait(key)
        self._depth.set(len(self._dirty))

    def add_after(self, key: str, delay: float) -> None:
        def fire():
            self._timers.discard(timer)
            self.add(key)
        timer = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(timer)

    def add_rate_limited(self, key: str) -> float:
        """Add again after this key's exponential backoff (with jitter); returns the delay."""
        self._retries.inc()
        delay = self.backoff.when(key)
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        self.backoff.forget(key)

    async def get(self) -> str:
        key = await self._queue.get()
        self._processing.add(key)
        self._dirty.discard(key)
        now = time.monotonic()
        self._queue_duration.observe(now - self._added_at.pop(key, now))
        self._started_at[key] = now
        self._depth.set(len(self._dirty))
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        started = self._started_at.pop(key, None)
        if started is not None:
            self._work_duration.observe(time.monotonic() - started)
        if key in self._dirty:
            self._queue.put_nowait(key)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
