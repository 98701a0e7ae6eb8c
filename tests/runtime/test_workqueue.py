"""The work queue on its own: dedup, one worker per key, the re-add while processing, backoff timers."""

from __future__ import annotations

import asyncio

import pytest

from controller.runtime.ratelimit import ItemBackoff
from controller.runtime.workqueue import WorkQueue


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_key_added_twice_waits_once():
    async def main():
        queue = WorkQueue()
        queue.add("a")
        queue.add("a")
        queue.add("b")
        assert len(queue) == 2
        assert [await queue.get(), await queue.get()] == ["a", "b"]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(queue.get(), 0.05)
    run(main())


def test_a_key_is_never_handed_to_two_workers_and_comes_back_once_if_added_while_processing():
    async def main():
        queue = WorkQueue()
        queue.add("a")
        assert await queue.get() == "a"
        queue.add("a")  # an event while a worker has it
        queue.add("a")
        with pytest.raises(TimeoutError):  # not handed out while in work
            await asyncio.wait_for(queue.get(), 0.05)
        queue.done("a")
        assert await asyncio.wait_for(queue.get(), 1) == "a"
        queue.done("a")
        with pytest.raises(TimeoutError):  # exactly once more
            await asyncio.wait_for(queue.get(), 0.05)
    run(main())


def test_done_without_a_new_add_does_not_requeue():
    async def main():
        queue = WorkQueue()
        queue.add("a")
        queue.done(await queue.get())
        assert len(queue) == 0
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(queue.get(), 0.05)
    run(main())


def test_rate_limited_adds_back_off_per_key_until_forgotten():
    async def main():
        queue = WorkQueue(ItemBackoff(base=0.01, maximum=0.04, jitter=0.0))
        delays = [queue.add_rate_limited("a") for _ in range(4)]
        assert delays == [0.01, 0.02, 0.04, 0.04]  # doubling up to the maximum
        assert queue.add_rate_limited("b") == 0.01  # per key
        assert await asyncio.wait_for(queue.get(), 1) == "a"  # the timers fire; dedup keeps one "a"
        queue.forget("a")
        assert queue.backoff.failures("a") == 0 and queue.add_rate_limited("a") == 0.01
        queue.close()
    run(main())


def test_add_after_fires_once_and_close_cancels_pending_timers():
    async def main():
        queue = WorkQueue()
        queue.add_after("a", 0.02)
        assert len(queue) == 0
        assert await asyncio.wait_for(queue.get(), 1) == "a"
        queue.done("a")
        queue.add_after("b", 0.05)
        queue.close()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(queue.get(), 0.15)
    run(main())


def test_client_go_queue_metrics_are_reported_where_client_go_reports_them():
    from controller import metrics

    def value(metric, suffix=""):
        return metrics.REGISTRY.get_sample_value(metric + suffix, {"name": "metrics-test", "controller": "metrics-test"})

    async def main():
        queue = WorkQueue(name="metrics-test")
        queue.add("a")
        queue.add("a")  # dedup: one add
        assert value("workqueue_adds_total") == 1
        assert metrics.REGISTRY.get_sample_value(
            "workqueue_depth", {"name": "metrics-test", "controller": "metrics-test", "priority": ""}) == 1
        await queue.get()
        assert value("workqueue_queue_duration_seconds", "_count") == 1
        await asyncio.sleep(0.05)
        assert value("workqueue_longest_running_processor_seconds") >= 0.05
        assert value("workqueue_unfinished_work_seconds") >= 0.05
        queue.done("a")
        assert value("workqueue_work_duration_seconds", "_count") == 1
        assert value("workqueue_longest_running_processor_seconds") == 0
        queue.add_rate_limited("a")
        assert value("workqueue_retries_total") == 1
        queue.close()
    run(main())
