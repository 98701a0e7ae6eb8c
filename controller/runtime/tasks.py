"""Background tasks that never die silently: a failure is logged with its traceback and counted in
`networking_task_failures_total{task=...}`. Used by `manager` for informers, workers, leader election,
the heartbeat and event handlers that need the API."""

from __future__ import annotations

import asyncio
import logging

from controller import metrics

log = logging.getLogger(__name__)


class Tasks:
    def __init__(self):
        self.running: set[asyncio.Task] = set()

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self.running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.running.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        name = task.get_coro().__qualname__.rsplit(".", 1)[-1].lstrip("_")
        metrics.TASK_FAILURES.labels(name).inc()
        log.error("background task %s failed", name, exc_info=task.exception(), extra={"task": name})

    async def cancel_all(self) -> None:
        for task in list(self.running):
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
