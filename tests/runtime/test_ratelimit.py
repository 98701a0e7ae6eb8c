"""The client-side token bucket and the per-item backoff, on a fake clock where time matters."""

from __future__ import annotations

import pytest

from controller.runtime.ratelimit import BACKOFF_BASE, BACKOFF_MAX, ItemBackoff, TokenBucket


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_serves_its_burst_at_once_then_one_token_per_1_over_qps():
    clock = Clock()
    bucket = TokenBucket(qps=10, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)  # reservations queue up behind each other


def test_the_bucket_refills_with_time_but_never_beyond_burst():
    clock = Clock()
    bucket = TokenBucket(qps=2, burst=2, clock=clock)
    bucket.reserve(), bucket.reserve()
    clock.now += 0.5  # one token back
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.5)
    clock.now += 3600  # a long idle time saves up at most `burst`
    assert [bucket.reserve() for _ in range(2)] == [0.0, 0.0]
    assert bucket.reserve() > 0


def test_degenerate_settings_still_limit():
    bucket = TokenBucket(qps=0, burst=0, clock=Clock())
    assert bucket.reserve() == 0.0 and bucket.reserve() > 100


def test_item_backoff_doubles_from_5ms_to_1000s_with_bounded_jitter():
    backoff = ItemBackoff()
    delays = [backoff.when("k") for _ in range(25)]
    assert BACKOFF_BASE <= delays[0] <= BACKOFF_BASE * 1.2
    assert BACKOFF_BASE * 8 <= delays[3] <= BACKOFF_BASE * 8 * 1.2
    assert all(BACKOFF_MAX <= d <= BACKOFF_MAX * 1.2 for d in delays[-3:])
    assert backoff.failures("k") == 25 and backoff.failures("other") == 0
    backoff.forget("k")
    assert backoff.when("k") <= BACKOFF_BASE * 1.2
