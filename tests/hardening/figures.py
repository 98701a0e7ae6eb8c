"""Counts the generated cases of the property-based hardening tests; tests/conftest.py prints the figure
at the end of the session (whatever the capture or verbosity flags, summed over pytest-xdist workers),
e.g. `hardening: 6000 generated cases in 41.2 s (hypothesis)`."""

from __future__ import annotations

import time

GENERATED = {"cases": 0, "seconds": 0.0}


class Timer:
    """`with Timer(): ...` adds the duration of a property test to the session's figure."""

    def __enter__(self):
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        GENERATED["seconds"] += time.perf_counter() - self.started


def count_case() -> None:
    GENERATED["cases"] += 1
