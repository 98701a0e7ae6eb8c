"""The two rate limits of the controller, as client-go has them.

`TokenBucket` is the client-side limit on API requests (`kube`, the ControllerConfiguration's qps and
burst); `ItemBackoff` is the work queue's per-item exponential backoff for failed reconciles
(controller-runtime's default: 5 ms doubling up to 1000 s, here with up to 20 % jitter).
"""

from __future__ import annotations

import collections
import random
import threading
import time

BACKOFF_BASE, BACKOFF_MAX = 0.005, 1000.0


class TokenBucket:
    """`qps` tokens per second, at most `burst` saved up; thread-safe (API calls run on threads)."""

    def __init__(self, qps: float, burst: int, clock=time.monotonic):
        self.rate, self.capacity = max(qps, 0.001), max(burst, 1)
        self._clock = clock
        self.tokens, self.stamp = float(self.capacity), clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; return how long the caller has to wait for it."""
        with self._lock:
            now = self._clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class ItemBackoff:
    """Per-key exponential backoff: each failure doubles the key's delay until `forget`."""

    def __init__(self, base: float = BACKOFF_BASE, maximum: float = BACKOFF_MAX, jitter: float = 0.2):
        self.base, self.maximum, self.jitter = base, maximum, jitter
        self._failures: collections.Counter[str] = collections.Counter()

    def when(self, key: str) -> float:
        """The delay before this key's next try; counts one more failure."""
        delay = min(self.base * 2 ** self._failures[key], self.maximum) * random.uniform(1.0, 1.0 + self.jitter)
        self._failures[key] += 1
        return delay

    def failures(self, key: str) -> int:
        return self._failures[key]

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)
